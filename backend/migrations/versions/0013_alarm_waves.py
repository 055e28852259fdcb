"""alarm waves: alarms of one device grouped, one notice per customer wave, the bot's open form (issue 17)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 17:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alarm_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("hold_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], name=op.f("fk_alarm_notices_customer_id_customers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alarm_notices")),
    )
    op.create_index(op.f("ix_alarm_notices_customer_id"), "alarm_notices", ["customer_id"], unique=False)
    op.create_index(op.f("ix_alarm_notices_state"), "alarm_notices", ["state"], unique=False)
    with op.batch_alter_table("alarms") as batch:
        batch.add_column(sa.Column("detected", sa.String(length=300), nullable=True))
        batch.add_column(sa.Column("notice_id", sa.Integer(), nullable=True))
        batch.create_index(batch.f("ix_alarms_notice_id"), ["notice_id"], unique=False)
        batch.create_foreign_key(batch.f("fk_alarms_notice_id_alarm_notices"), "alarm_notices", ["notice_id"], ["id"])
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("bot_form", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("bot_form")
    with op.batch_alter_table("alarms") as batch:
        batch.drop_constraint(batch.f("fk_alarms_notice_id_alarm_notices"), type_="foreignkey")
        batch.drop_index(batch.f("ix_alarms_notice_id"))
        batch.drop_column("notice_id")
        batch.drop_column("detected")
    op.drop_index(op.f("ix_alarm_notices_state"), table_name="alarm_notices")
    op.drop_index(op.f("ix_alarm_notices_customer_id"), table_name="alarm_notices")
    op.drop_table("alarm_notices")
