"""incident intake: what the customer says (device, serial, version, error, since, related ticket)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 19:56:32.210479
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RELATED_FK = "fk_tickets_related_ticket_id_tickets"


def upgrade() -> None:
    # Plain ADD COLUMN, not a batch: on SQLite a batch with a foreign key copies and drops
    # `tickets`, which fails on a database with tickets (RMAs and events reference them).
    op.add_column("bugs", sa.Column("version", sa.String(length=50), nullable=True))
    op.add_column("rmas", sa.Column("device_text", sa.String(length=200), nullable=True))
    op.add_column("tickets", sa.Column("device_text", sa.String(length=200), nullable=True))
    op.add_column("tickets", sa.Column("serial", sa.String(length=100), nullable=True))
    op.add_column("tickets", sa.Column("version", sa.String(length=50), nullable=True))
    op.add_column("tickets", sa.Column("error_message", sa.Text(), nullable=True))
    op.add_column("tickets", sa.Column("since", sa.DateTime(timezone=True), nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        # SQLite cannot add a constraint to a table, but takes the reference inline in ADD COLUMN.
        op.execute(
            f"ALTER TABLE tickets ADD COLUMN related_ticket_id INTEGER CONSTRAINT {RELATED_FK} REFERENCES tickets (id)"
        )
    else:
        op.add_column("tickets", sa.Column("related_ticket_id", sa.Integer(), nullable=True))
        op.create_foreign_key(RELATED_FK, "tickets", "tickets", ["related_ticket_id"], ["id"])


def downgrade() -> None:
    # ALTER TABLE ... DROP COLUMN (SQLite 3.35+): a batch would copy and drop `tickets` (see above).
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(RELATED_FK, "tickets", type_="foreignkey")
    for column in ("related_ticket_id", "since", "error_message", "version", "serial", "device_text"):
        op.drop_column("tickets", column)
    op.drop_column("rmas", "device_text")
    op.drop_column("bugs", "version")
