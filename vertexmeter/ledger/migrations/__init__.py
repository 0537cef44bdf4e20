"""Alembic migrations of the ledger schema: `versions/` holds one revision per schema change, oldest first."""
