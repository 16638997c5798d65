"""A throwaway PostgreSQL schema on a shared server, for the tests and the benchmarks.

Test runs and benchmarks share one PostgreSQL database, so each gets its own uuid-named
schema (never a fixed name) and reaches it through the URL's search_path.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote

import sqlalchemy as sa


def with_search_path(base_url: str, schema: str) -> str:
    """`base_url` with its connections' search_path set to `schema`."""
    separator = "&" if "?" in base_url else "?"
    return f"{base_url}{separator}options={quote(f'-csearch_path={schema}')}"


@contextmanager
def scratch_schema(base_url: str, prefix: str = "coachlab_") -> Iterator[str]:
    """A URL whose search_path is a fresh `prefix`<uuid> schema, dropped with its tables on exit.

    Raises:
        sqlalchemy.exc.OperationalError: the server cannot be reached (nothing was created).
    """
    engine = sa.create_engine(base_url, poolclass=sa.pool.NullPool)
    schema = f"{prefix}{uuid.uuid4().hex[:12]}"
    try:
        with engine.begin() as connection:
            connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    except BaseException:
        engine.dispose()
        raise
    try:
        yield with_search_path(base_url, schema)
    finally:
        with engine.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()
