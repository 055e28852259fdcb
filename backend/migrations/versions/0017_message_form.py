"""message form: the assistant's form whose question was open when a customer message came (admin review)

A customer's answer to a form question (a fault's description, a serial number) is read by the form,
not by the intent classifier, so its low confidence is not a misunderstanding: the review inbox and
the dashboard's «mensajes mal entendidos» leave such answers out unless the customer then asked for
a person.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05 13:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("form", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("form")
