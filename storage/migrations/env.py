"""Alembic environment: runs on the connection the application hands over."""

from alembic import context

from storage.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only the application runs migrations
    raise RuntimeError("run migrations through storage.db.migrate()")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
