"""Upgrading keeps data: fill every table at the previous migration head, upgrade to head,
and find every row and value still there (on SQLite and on PostgreSQL, via the `app`
fixture's engines)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask import Flask

from lti_tool import create_app, db
from tests.conftest import BASE_URL

ROWS_PER_TABLE = 3
INTENDED_DROPS: set[str] = set()
"""table.column names a migration drops on purpose (its data moved elsewhere); nothing else
may disappear."""


def _previous_head(app: Flask) -> str:
    script = ScriptDirectory.from_config(db.alembic_config(db.database(app).engine))
    head = script.get_revision(script.get_current_head())
    assert head is not None and isinstance(head.down_revision, str), "one linear chain"
    return head.down_revision


def _value(table: sa.Table, column: sa.Column[Any], index: int,
           inserted: dict[str, list[Any]]) -> Any:
    """A value of the column's type; foreign keys point at rows inserted before."""
    for fk in column.foreign_keys:
        targets = inserted.get(fk.column.table.name)
        if targets:
            return targets[index % len(targets)]
        return None
    kind = column.type
    if isinstance(kind, sa.Boolean):
        return index % 2 == 1
    if isinstance(kind, sa.Integer):
        return 10 + index
    if isinstance(kind, sa.Float | sa.Numeric):
        return 0.25 + index
    if isinstance(kind, sa.DateTime):
        moment = dt.datetime(2026, 1, 2, 3, 4, 5 + index)
        return moment.replace(tzinfo=dt.UTC) if kind.timezone else moment
    if isinstance(kind, sa.Date):
        return dt.date(2026, 1, 2 + index)
    if isinstance(kind, sa.JSON):
        return {"kept": f"{table.name}.{column.name}", "n": index}
    if isinstance(kind, sa.LargeBinary):
        return f"{table.name}-{index}".encode()
    text = f"{table.name[:12]}-{column.name[:12]}-{index}"
    length = getattr(kind, "length", None)
    return text[-length:] if length else text


def _fill(connection: sa.Connection, metadata: sa.MetaData) -> None:
    inserted: dict[str, list[Any]] = {}
    for table in metadata.sorted_tables:
        if table.name == "alembic_version":
            continue
        keys = []
        for index in range(ROWS_PER_TABLE):
            row = {column.name: _value(table, column, index, inserted)
                   for column in table.columns
                   if not (column.primary_key and column.autoincrement is not False
                           and isinstance(column.type, sa.Integer))}
            result = connection.execute(table.insert().values(**row))
            primary = result.inserted_primary_key
            keys.append(primary[0] if primary else None)
        inserted[table.name] = keys


def _snapshot(connection: sa.Connection) -> dict[str, list[dict[str, Any]]]:
    metadata = sa.MetaData()
    metadata.reflect(connection)
    snapshot = {}
    for table in metadata.sorted_tables:
        if table.name == "alembic_version":
            continue
        order = list(table.primary_key.columns) or list(table.columns)
        rows = connection.execute(sa.select(table).order_by(*order)).mappings().all()
        snapshot[table.name] = [dict(row) for row in rows]
    return snapshot


def test_upgrading_from_the_previous_head_keeps_every_row(
    tmp_path: Path, database_url: str
) -> None:
    app = create_app({"DATA_DIR": str(tmp_path / "data"), "SECRET_KEY": "t",
                      "BASE_URL": BASE_URL, "TESTING": True, "DATABASE_URL": database_url})
    engine = db.database(app).engine
    previous = _previous_head(app)
    db.upgrade(app, previous)
    with engine.begin() as connection:
        metadata = sa.MetaData()
        metadata.reflect(connection)
        _fill(connection, metadata)
    with engine.connect() as connection:
        before = _snapshot(connection)
    assert sum(len(rows) for rows in before.values()) >= ROWS_PER_TABLE * 5

    db.upgrade(app)

    assert db.current_revision(app) != previous
    with engine.connect() as connection:
        after = _snapshot(connection)
    for name, rows in before.items():
        assert name in after, f"table {name} was dropped by the upgrade"
        assert len(after[name]) == len(rows), f"{name}: {len(rows)} rows became {len(after[name])}"
        for old, new in zip(rows, after[name], strict=True):
            lost = {c for c in old if c not in new and f"{name}.{c}" not in INTENDED_DROPS}
            assert not lost, f"{name}: columns {sorted(lost)} were dropped with their data"
            kept = {column: value for column, value in old.items() if column in new}
            assert kept == {column: new[column] for column in kept}, name
    engine.dispose()
