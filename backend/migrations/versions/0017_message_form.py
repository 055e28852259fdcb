"""message form: the assistant's form whose question was open when a customer message came

Kept for the review inbox to tell answers to a form question (read by the form, whatever the classifier
scored) from misunderstood messages. Not used as a filter yet: a message sent while a question is open is
not always its answer (a question of the customer's own, a digression), and telling them apart needs the
turn's outcome too (whether the form took the answer).

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
