"""The first ledger schema: one table of priced requests (the schema before migrations existed).

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "priced_requests",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("dedupe_key", sa.String(200), nullable=False, unique=True),
        sa.Column("response_id", sa.String(200)),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("priced_model", sa.String(200), nullable=False),
        sa.Column("platform", sa.String(20), nullable=False),
        sa.Column("mode", sa.String(20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("project", sa.String(200)),
        sa.Column("labels", sa.Text, nullable=False),
        sa.Column("amount", sa.String(80), nullable=False),
        sa.Column("grounding_entry", sa.String(200)),
        sa.Column("grounding_amount", sa.String(80), nullable=False),
        sa.Column("line_items", sa.Text, nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_priced_requests_month_created", "priced_requests", ["month", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_priced_requests_month_created", "priced_requests")
    op.drop_table("priced_requests")
