"""Alembic environment: the URL comes from parkgate's configuration, the models from gateway.store.schema."""

from alembic import context

from gateway.store.engine import Store
from gateway.store.schema import Base

config = context.config


def run_migrations_online():
    connectable = config.attributes.get("connection")
    if connectable is not None:
        _run(connectable)
        return
    store = Store(config.get_main_option("sqlalchemy.url"), keys=config.attributes.get("keys"))
    try:
        with store.engine.connect() as connection:
            _run(connection)
    finally:
        store.dispose()


def _run(connection):
    context.configure(connection=connection, target_metadata=Base.metadata,
                      render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
