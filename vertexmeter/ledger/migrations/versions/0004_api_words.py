"""Store the API in the project's own words: `gemini` where rows said `gemini_api` (the price catalogue's word).

Call fingerprints are not touched: they keep hashing the words they were first computed with.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("UPDATE priced_requests SET api = 'gemini' WHERE api = 'gemini_api'")


def downgrade() -> None:
    op.execute("UPDATE priced_requests SET api = 'gemini_api' WHERE api = 'gemini'")
