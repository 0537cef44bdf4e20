"""Add `fingerprint`: the call's hash, so a re-imported call is recognised without pricing it again.

Rows stored before it keep NULL and are compared by their priced line items.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("priced_requests") as table:
        table.add_column(sa.Column("fingerprint", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("priced_requests") as table:
        table.drop_column("fingerprint")
