"""A production-like stack for benchmarks and load tests: PostgreSQL (a uuid-named schema on
the shared server, dropped afterwards), Redis, the test platform, the tool under gunicorn and,
when asked, the floor app under gunicorn with the same worker and thread counts."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))

from driver import (  # noqa: E402
    POSTGRES_URL,
    REDIS_URL,
    Server,
    TestPlatform,
    coachlab,
    free_port,
    start_gunicorn,
    tool_env,
)

from lti_tool.scratch_schema import scratch_schema  # noqa: E402 - driver put the root on sys.path


@dataclass
class Stack:
    """What a benchmark talks to."""

    platform: TestPlatform
    env: dict[str, str]
    database_url: str
    work: Path
    tool: Server | None = None
    floor: Server | None = None
    servers: list[Server] = field(default_factory=list)

    def start_tool(self, workers: int = 2, threads: int = 4, **extra: str) -> Server:
        """gunicorn serving the tool (lti_tool/gunicorn_conf.py)."""
        port = free_port()
        env = dict(self.env, COACHLAB_BASE_URL=f"http://127.0.0.1:{port}", **extra)
        server = start_gunicorn("lti_tool.wsgi:application()", env, port,
                                self.work / f"tool-{port}.log", workers, threads)
        self.servers.append(server)
        self.tool = self.tool or server
        return server

    def start_floor(self, workers: int = 2, threads: int = 4) -> Server:
        """gunicorn serving the floor app, same workers and threads."""
        engine = sa.create_engine(self.database_url, poolclass=sa.pool.NullPool)
        with engine.begin() as connection:
            connection.execute(sa.text(
                "CREATE TABLE IF NOT EXISTS floor_answers "
                "(id serial PRIMARY KEY, learner text NOT NULL, answer text NOT NULL)"))
        engine.dispose()
        port = free_port()
        env = dict(os.environ, FLOOR_REDIS_URL=REDIS_URL, FLOOR_DATABASE_URL=self.database_url,
                   FLOOR_AUTH_URL=f"{self.platform.issuer}/auth",
                   FLOOR_JWKS_URL=self.platform.jwks_url,
                   PYTHONPATH=str(Path(__file__).resolve().parents[1]))
        self.floor = start_gunicorn("bench.floor_app:create_floor_app()", env, port,
                                    self.work / f"floor-{port}.log", workers, threads,
                                    config=False)
        self.servers.append(self.floor)
        return self.floor


@contextlib.contextmanager
def stack(database_url: str | None = None, **extra: str) -> Iterator[Stack]:
    """Migrated database, registered platform; servers are started by the caller."""
    platform = TestPlatform()
    platform.serve_jwks()
    with tempfile.TemporaryDirectory(prefix="coachlab-bench-") as work, \
            (contextlib.nullcontext(database_url) if database_url
             else scratch_schema(POSTGRES_URL, "coachlab_bench_")) as url:
        env = tool_env(Path(work) / "data", url, REDIS_URL, "http://127.0.0.1", **extra)
        coachlab(env, "db", "upgrade")
        coachlab(env, *platform.register_args())
        result = Stack(platform, env, url, Path(work))
        try:
            yield result
        finally:
            for server in result.servers:
                server.stop()
            platform.stop()
