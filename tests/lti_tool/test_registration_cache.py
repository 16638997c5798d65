"""The registration cache: logins and launches stop reading the registration from the
database, yet a change is seen at once in the process that made it and within
REGISTRATION_CACHE_SECONDS everywhere else."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask

from lti_tool import db
from lti_tool.lti import tool_config
from lti_tool.models import Deployment, PlatformRegistration
from lti_tool.platforms import remove_platform
from tests.conftest import Launcher
from tests.lti_tool.flows import assert_rejected
from tests.lti_tool.test_round_trips import statements


class Clock:
    """time.monotonic for the cache, moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(tool_config.time, "monotonic", clock)
    return clock


def _elsewhere(app: Flask, statement: str | sa.Executable) -> None:
    """A write made by another process (the CLI, another worker): not through this app's
    sessions, so nothing here hears of it."""
    engine = db.make_engine(db.database(app).engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        connection.execute(sa.text(statement) if isinstance(statement, str) else statement)
    engine.dispose()


def _registration_reads(sent: list[str]) -> list[str]:
    return [s for s in sent if "platform_registrations" in s.lower()]


def test_a_relaunch_reads_no_registration(app: Flask, launch: Launcher, clock: Clock) -> None:
    assert launch().status_code == 200
    with statements(app) as sent:
        assert launch().status_code == 200
    assert _registration_reads(sent) == []


def test_a_platform_removed_in_this_process_is_refused_at_once(
    app: Flask, launch: Launcher, clock: Clock
) -> None:
    assert launch().status_code == 200
    with db.database(app).sessions() as session:
        remove_platform(session, launch.platform.issuer, None)
        session.commit()
    assert_rejected(launch.login(), "Unknown issuer")


def test_a_change_made_elsewhere_is_seen_after_the_cache_lifetime(
    app: Flask, launch: Launcher, clock: Clock
) -> None:
    assert launch().status_code == 200
    _elsewhere(app, "UPDATE platform_registrations SET auth_login_url = "
                    "'https://lms.example.test/new-auth'")
    # Within the lifetime this worker still sends the browser to the old login URL...
    clock.now += app.config["REGISTRATION_CACHE_SECONDS"] - 1
    assert launch.login().location.startswith("https://lms.example.test/auth?")
    # ...and after it, reads the registration again.
    clock.now += 2
    assert launch.login().location.startswith("https://lms.example.test/new-auth?")


def test_a_platform_removed_elsewhere_is_refused_cleanly_within_the_lifetime(
    app: Flask, launch: Launcher, clock: Clock
) -> None:
    assert launch().status_code == 200
    login = launch.start()  # the login still finds the cached registration
    _elsewhere(app, "DELETE FROM platform_registrations")  # its users and links go with it
    token = launch.platform.sign(launch.platform.claims(login.nonce))
    # The launch's rows cannot point at a registration that is gone: a 4xx page, not a 500.
    assert_rejected(launch.post(token, login.state), "Unknown issuer")
    assert_rejected(launch.login(), "Unknown issuer")  # and the cache forgot it


def test_an_unknown_issuer_is_never_cached(app: Flask, launch: Launcher, clock: Clock) -> None:
    with db.database(app).sessions() as session:
        row = session.scalars(sa.select(PlatformRegistration)).one()
        columns = {c.name: getattr(row, c.key) for c in PlatformRegistration.__table__.columns
                   if c.name != "id"}
        remove_platform(session, launch.platform.issuer, None)
        session.commit()
    assert_rejected(launch.login(), "Unknown issuer")
    # Registered by another process: launches at once, no lifetime to wait out.
    _elsewhere(app, sa.insert(PlatformRegistration).values(**columns))
    _elsewhere(app, sa.insert(Deployment).values(
        registration_id=sa.select(PlatformRegistration.id).scalar_subquery(),
        deployment_id=launch.platform.deployment_id))
    assert launch().status_code == 200


def test_an_unlisted_deployment_is_checked_in_the_database(
    app: Flask, launch: Launcher, clock: Clock
) -> None:
    assert launch().status_code == 200  # caches the registration and deployment-1
    with db.database(app).sessions() as session:
        row = session.scalars(sa.select(PlatformRegistration)).one()
        registration_id = row.id
    # Listed by another process: the cache knows the registration but not this deployment,
    # so the launch asks the database rather than refusing.
    _elsewhere(app, "INSERT INTO deployments (registration_id, deployment_id) "
                    f"VALUES ({registration_id}, 'course-77')")

    def in_course_77(claims: dict[str, object]) -> None:
        claims["https://purl.imsglobal.org/spec/lti/claim/deployment_id"] = "course-77"

    assert launch(tamper=in_course_77).status_code == 200
    with db.database(app).sessions() as session:
        assert session.scalars(sa.select(Deployment.deployment_id).where(
            Deployment.deployment_id == "course-77")).one() == "course-77"


def test_lifetime_zero_reads_every_time(tmp_path_factory: pytest.TempPathFactory) -> None:
    from tests.conftest import make_app

    app = make_app(tmp_path_factory.mktemp("nocache"), REGISTRATION_CACHE_SECONDS=0)
    cache = app.extensions["coachlab_registrations"]
    info = tool_config.RegistrationInfo(
        id=1, issuer="https://i", client_id="c", auth_login_url="https://i/a",
        auth_token_url="https://i/t", key_set_url=None, key_set=None, audience=None,
        allow_any_deployment=False)
    cache.keep("https://i", (info,))
    cache.keep_listed(1, "d")
    assert cache.rows("https://i") is None and not cache.listed(1, "d")
    db.database(app).engine.dispose()
