"""Database engine, request-scoped sessions and migrations (flaskr's db.py, for SQLAlchemy 2)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alembic import command
from alembic.config import Config as AlembicConfig
from flask import current_app, g
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from flask import Flask

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
MIGRATION_LOCK_ID = 0x636F6163  # "coac": the advisory lock that serialises migrations


@dataclass(frozen=True)
class Database:
    """The app's engine and session factory (kept in app.extensions['coachlab_db'])."""

    engine: Engine
    sessions: sessionmaker[Session]


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the dev server's threads read while one writes; foreign keys are off by default.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite files get WAL mode and foreign keys on every connection."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # pre-ping: a connection the database dropped (restart, failover, idle timeout) is
    # replaced on checkout instead of failing the request that drew it.
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10,
                         pool_timeout=10, pool_recycle=1800)


def init_app(app: Flask) -> None:
    """Create the engine for this app and close the request's session at teardown."""
    from lti_tool import progress

    progress.install()  # the dashboard's learner rows follow every attempt change
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["coachlab_db"] = Database(engine, sessionmaker(engine, expire_on_commit=False))
    app.teardown_appcontext(_close_session)


def database(app: Flask | None = None) -> Database:
    """Return the Database of this (or the current) app."""
    target = app if app is not None else current_app
    db: Database = target.extensions["coachlab_db"]
    return db


def get_session() -> Session:
    """The session of the current app context, opened on first use."""
    if "db_session" not in g:
        g.db_session = database().sessions()
    session: Session = g.db_session
    return session


def rollback_request_session() -> None:
    """Roll back the current session, if one is open (error handlers call this)."""
    session: Session | None = g.get("db_session")
    if session is not None:
        _rollback_quietly(session)


def _rollback_quietly(session: Session) -> None:
    """Roll back; when the connection died (database restarted), drop it instead of failing
    the error page too. The pool's pre-ping replaces it on the next checkout."""
    try:
        session.rollback()
    except DBAPIError:
        log.warning("rollback on a dead database connection; discarding it", exc_info=True)
        session.invalidate()


def _close_session(_exc: BaseException | None) -> None:
    session: Session | None = g.pop("db_session", None)
    if session is None:
        return
    # close() rolls back what the request left uncommitted and returns the connection, without
    # the rollback's pass that first expires every loaded object (nothing reads them now).
    try:
        session.close()
    except DBAPIError:
        log.warning("closing on a dead database connection; discarding it", exc_info=True)
        session.invalidate()


def alembic_config(engine: Engine) -> AlembicConfig:
    """An Alembic configuration built in code: users need no alembic.ini."""
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    # configparser interpolates '%': URL-encoded passwords and options must be escaped.
    url = engine.url.render_as_string(hide_password=False).replace("%", "%%")
    cfg.set_main_option("sqlalchemy.url", url)
    return cfg


def upgrade(app: Flask, revision: str = "head") -> None:
    """Apply the migrations up to `revision` on the app's database."""
    engine = database(app).engine
    cfg = alembic_config(engine)
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Several hosts start at once, each migrating: one at a time (released at commit).
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_ID})")
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)


def current_revision(app: Flask) -> str | None:
    """The revision the database is at (None before the first migration)."""
    from alembic.runtime.migration import MigrationContext

    with database(app).engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
