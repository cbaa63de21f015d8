"""SQLAlchemy storage, secret encryption and Alembic migrations."""
