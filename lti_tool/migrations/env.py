"""Alembic environment: run on the connection lti_tool.db.upgrade hands over (no alembic.ini)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from lti_tool.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    """Migrate on the caller's connection, or on a fresh engine from sqlalchemy.url."""
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(
            connection=connection, target_metadata=target_metadata, render_as_batch=True
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.begin() as own_connection:
        context.configure(
            connection=own_connection, target_metadata=target_metadata, render_as_batch=True
        )
        with context.begin_transaction():
            context.run_migrations()


def run_migrations_offline() -> None:
    """Emit SQL for the configured URL (coachlab does not use this, alembic requires it)."""
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
