"""The ledger's schema revisions (Alembic)."""
