"""Persistence: typed SQLAlchemy 2 models, the async engine, queries and migrations."""
