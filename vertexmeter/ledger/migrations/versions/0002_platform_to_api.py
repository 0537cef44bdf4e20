"""Rename `platform` to `api`: the column says whose price list priced the call (vertex | gemini_api).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("priced_requests") as table:  # batch: SQLite rebuilds the table when it must
        table.alter_column("platform", new_column_name="api")


def downgrade() -> None:
    with op.batch_alter_table("priced_requests") as table:
        table.alter_column("api", new_column_name="platform")
