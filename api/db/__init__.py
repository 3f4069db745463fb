"""Storage: SQLAlchemy 2 models, engines, migrations and repositories."""
