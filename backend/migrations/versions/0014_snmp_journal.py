"""snmp journal: the alarm worker's committed position in the trap journal (issue 17)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 17:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "snmp_journal_cursors",
        sa.Column("journal_id", sa.String(length=64), nullable=False),
        sa.Column("low_seq", sa.BigInteger(), nullable=False),
        sa.Column("done", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("journal_id"),
    )


def downgrade() -> None:
    op.drop_table("snmp_journal_cursors")
