"""The scale-out backends for real: PostgreSQL for the database, Redis for the shared cache."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from flask import Flask
from sqlalchemy import select

from lti_tool import db
from lti_tool.lti.references import load_launch
from lti_tool.models import Attempt, Base, StepResultRecord
from tests.conftest import Launcher, PlatformInfo, launch_token, make_app, postgres_schema
from tests.lti_tool.flows import attempt_scenario, correct_answers, open_player, submit

REDIS_URL = os.environ.get("COACHLAB_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh schema in the test database, dropped afterwards."""
    with postgres_schema() as url:
        yield url


@pytest.mark.postgres
def test_migrations_and_a_graded_attempt_on_postgresql(
    tmp_path: Path, postgres_url: str, platform_keys: object
) -> None:
    app = make_app(tmp_path, DATABASE_URL=postgres_url)
    with db.database(app).engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
    _play_once(app, platform_keys)
    db.database(app).engine.dispose()


def _play_once(app: Flask, platform_keys: object) -> str:
    """Launch as a learner, submit a graded attempt; return the launch reference."""
    from lti_tool.keys import KeyPair
    from lti_tool.platforms import PlatformSpec, add_platform

    assert isinstance(platform_keys, KeyPair)
    info = PlatformInfo(keys=platform_keys)
    with db.database(app).sessions() as session:
        add_platform(session, PlatformSpec(
            issuer=info.issuer, client_id=info.client_id, deployment_ids=(info.deployment_id,),
            auth_login_url=f"{info.issuer}/auth", auth_token_url=f"{info.issuer}/token",
            key_set_url=None, key_set=info.keys.jwks()))
        session.commit()
    client = app.test_client()
    page, token = open_player(Launcher(client, info), client)
    assert submit(client, page, correct_answers(attempt_scenario(app))).status_code == 302
    with db.database(app).sessions() as session:
        assert session.scalars(select(Attempt)).one().status in ("graded", "needs_review")
        assert len(session.scalars(select(StepResultRecord)).all()) == 4
    return token


def test_launch_state_and_nonces_live_in_redis(tmp_path: Path, platform_keys: object) -> None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.RedisError as error:
        pytest.skip(f"REDIS TESTS SKIPPED: no Redis at {REDIS_URL}: {error}")
    app = make_app(tmp_path, CACHE_URL=REDIS_URL)
    store = redis.Redis.from_url(REDIS_URL)
    token = _play_once(app, platform_keys)
    # A login's state record goes to Redis, where any worker's launch finds it.
    login = Launcher(app.test_client(), PlatformInfo(keys=platform_keys)).start()
    assert any(login.state in key.decode() for key in store.keys("coachlab:*"))
    # A learner's launch data is never read back, so it is not written.
    with app.test_request_context():
        launch_id = load_launch(token).launch_id
    assert store.exists(f"coachlab:{launch_id}") == 0
    # A staff launch's data is kept there for the instructor pages (which read it back).
    client = app.test_client()
    staff = Launcher(client, PlatformInfo(keys=platform_keys))(role="instructor")
    assert staff.status_code == 302, staff.get_data(as_text=True)
    with app.test_request_context():
        staff_id = load_launch(launch_token(staff)).launch_id
    assert store.exists(f"coachlab:{staff_id}") == 1


@pytest.mark.parametrize("backend", ["in-process", "redis"])
def test_a_login_state_is_taken_by_one_launch_only(tmp_path: Path, backend: str) -> None:
    """Concurrent launches posting one state (a replay racing the real one, on any worker):
    exactly one gets the login's record, and it is gone afterwards."""
    import threading

    import redis

    from lti_tool.cache import get_cache
    from lti_tool.lti.storage import CookielessCacheStorage

    settings = {}
    if backend == "redis":
        try:
            redis.Redis.from_url(REDIS_URL).ping()
        except redis.RedisError as error:
            pytest.skip(f"REDIS TESTS SKIPPED: no Redis at {REDIS_URL}: {error}")
        settings["CACHE_URL"] = REDIS_URL
    app = make_app(tmp_path, **settings)
    with app.app_context():
        CookielessCacheStorage(get_cache()).remember_state("state-raced", "nonce-1", binding="b")
    start, taken = threading.Barrier(8), []

    def launch() -> None:
        with app.app_context():
            storage = CookielessCacheStorage(get_cache())
            start.wait()
            taken.append(storage.take_login_record("state-raced"))

    threads = [threading.Thread(target=launch) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [record for record in taken if record] == [{"nonce": "nonce-1", "binding": "b"}]
    with app.app_context():
        assert CookielessCacheStorage(get_cache()).login_record("state-raced") is None
    db.database(app).engine.dispose()
