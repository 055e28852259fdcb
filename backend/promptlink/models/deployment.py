"""The deployment plan (docs/support-plan.md#deployment-plan): five stages per customer, with history."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from promptlink.models.base import Base, utcnow

# The five stages of Promptlink's installation and deployment plan, as the support plan names them.
STAGES: dict[int, str] = {
    1: "Análisis de las necesidades y de las limitaciones del cliente",
    2: "Detalles del diseño",
    3: "Instalación y configuración, con prueba y operación",
    4: "Apoyo operacional",
    5: "Finalización y comisionamiento para servicio comercial",
}


class DeploymentPlan(Base):
    __tablename__ = "deployment_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), unique=True)
    stage: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    history: Mapped[list[DeploymentStageChange]] = relationship(
        back_populates="plan", lazy="selectin", order_by="DeploymentStageChange.id"
    )

    @property
    def stage_name(self) -> str:
        return STAGES[self.stage]


class DeploymentStageChange(Base):
    __tablename__ = "deployment_stage_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("deployment_plans.id", ondelete="CASCADE"), index=True)
    stage: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str] = mapped_column(String(254), default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)

    plan: Mapped[DeploymentPlan] = relationship(back_populates="history")
