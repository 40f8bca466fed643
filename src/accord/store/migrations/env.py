"""Alembic environment: runs migrations on the engine Accord hands over."""

from alembic import context

from accord.store.schema import metadata

config = context.config
engine = config.attributes["engine"]

with engine.begin() as connection:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    context.run_migrations()
