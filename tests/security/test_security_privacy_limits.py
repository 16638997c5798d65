"""Personal data (anonymous launches, erasure, retention), limits (rate, production guards)
and secrets kept out of the logs."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import func, select

from lti_tool import create_app, db
from lti_tool.cli import main
from lti_tool.errors import ConfigError
from lti_tool.keys import ensure_key_pair
from lti_tool.models import AnonymousStepScore, Attempt, StepResponse, StepResultRecord, User
from lti_tool.privacy import pseudonym, purge_expired
from lti_tool.security import rate_limit_storage, redact
from tests.conftest import Launcher, PlatformInfo, make_app
from tests.lti_tool.flows import attempt_scenario, correct_answers, open_player, submit


def _anonymous(claims: dict[str, Any]) -> None:
    for name in ("name", "given_name", "family_name", "email"):
        claims.pop(name, None)


def test_a_launch_without_name_or_email_works_and_shows_a_pseudonym(
    launch: Launcher, client: FlaskClient, app: Flask
) -> None:
    page, _ = open_player(launch, client, tamper=_anonymous, subject="lms-user-8812")
    assert submit(client, page, correct_answers(attempt_scenario(app))).status_code == 302
    overview = client.get(launch(role="instructor").location).get_data(as_text=True)
    with db.database(app).sessions() as session:
        user = session.scalars(select(User).where(User.subject == "lms-user-8812")).one()
        assert user.name == "" and user.email == ""
        label = pseudonym(user)
    assert label in overview and label.startswith("Learner ")
    assert "lms-user-8812" not in overview  # the raw LMS id is not a name


def _two_learners(launch: Launcher, client: FlaskClient, app: Flask) -> None:
    for subject in ("erase-me", "keep-me"):
        page, _ = open_player(launch, client, subject=subject)
        submit(client, page, correct_answers(attempt_scenario(app)))


def test_learner_erase_removes_personal_data_and_keeps_anonymous_scores(
    launch: Launcher, client: FlaskClient, app: Flask, runner: FlaskCliRunner
) -> None:
    _two_learners(launch, client, app)
    with db.database(app).sessions() as session:
        steps = session.scalar(select(func.count()).select_from(StepResultRecord))
    refused = runner.invoke(main, ["learner", "erase", "--issuer", launch.platform.issuer,
                                   "--subject", "erase-me"], input="n\n")
    assert refused.exit_code != 0 and "Aborted" in refused.output
    result = runner.invoke(main, ["learner", "erase", "--issuer", launch.platform.issuer,
                                  "--subject", "erase-me"], input="y\n")
    assert result.exit_code == 0, result.output
    assert "erased learner erase-me" in result.output and "1 attempt(s)" in result.output
    with db.database(app).sessions() as session:
        subjects = set(session.scalars(select(User.subject)))
        assert "erase-me" not in subjects and "keep-me" in subjects
        assert len(session.scalars(select(Attempt)).all()) == 1
        remaining = session.scalar(select(func.count()).select_from(StepResultRecord))
        kept = session.scalars(select(AnonymousStepScore)).all()
        assert len(kept) == (steps or 0) - (remaining or 0) > 0
        assert {row.reason for row in kept} == {"erased"}
        assert all(not hasattr(row, "user_pk") for row in kept)
        answers = session.scalars(select(StepResponse)).all()
        assert {r.attempt_id for r in answers} == {session.scalars(select(Attempt.id)).one()}
    unknown = runner.invoke(main, ["learner", "erase", "--issuer", launch.platform.issuer,
                                   "--subject", "nobody", "--yes"])
    assert unknown.exit_code != 0 and "No learner with subject 'nobody'" in unknown.output


def test_retention_purges_old_attempts_and_keeps_anonymous_scores(
    launch: Launcher, client: FlaskClient, app: Flask, runner: FlaskCliRunner
) -> None:
    _two_learners(launch, client, app)
    with db.database(app).sessions() as session:
        old = session.scalars(select(Attempt).order_by(Attempt.id)).first()
        assert old is not None
        old.created_at = old.created_at - timedelta(days=400)
        session.commit()
    off = runner.invoke(main, ["retention", "purge"])
    assert off.exit_code == 0 and "retention is off" in off.output
    app.config["RETENTION_DAYS"] = 365
    result = runner.invoke(main, ["retention", "purge"])
    assert result.exit_code == 0, result.output
    assert "purged 1 attempt(s) older than 365 days" in result.output
    with db.database(app).sessions() as session:
        assert len(session.scalars(select(Attempt)).all()) == 1
        assert {r.reason for r in session.scalars(select(AnonymousStepScore))} == {"retention"}
        # Nothing younger than the period goes, and 0 days means keep everything.
        assert purge_expired(session, 365).attempts == 0
        assert purge_expired(session, 0).attempts == 0


def test_the_worker_runs_the_retention_purge(
    launch: Launcher, client: FlaskClient, app: Flask, runner: FlaskCliRunner
) -> None:
    _two_learners(launch, client, app)
    with db.database(app).sessions() as session:
        for attempt in session.scalars(select(Attempt)):
            attempt.created_at = attempt.created_at - timedelta(days=40)
        session.commit()
    app.config["RETENTION_DAYS"] = 30
    result = runner.invoke(main, ["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "retention purged 2 attempt(s) older than 30 days" in result.output
    with db.database(app).sessions() as session:
        assert session.scalars(select(Attempt)).all() == []


def test_login_and_launch_are_rate_limited_with_a_429_page(
    tmp_path: Path, platform_keys: Any
) -> None:
    app = make_app(tmp_path, RATE_LIMIT="3 per minute")
    client = app.test_client()
    codes = [client.get("/lti/login?iss=x&login_hint=y").status_code for _ in range(4)]
    assert codes[:3] == [400, 400, 400] and codes[3] == 429
    page = client.get("/lti/login").get_data(as_text=True)
    assert "Too many requests" in page and "3 per 1 minute" in page
    assert client.get("/lti/jwks.json").status_code == 200  # only login and launch
    for _ in range(3):
        client.post("/lti/launch", data={})
    assert client.post("/lti/launch", data={}).status_code == 429


def test_rate_limit_storage_prefers_redis_when_configured() -> None:
    assert rate_limit_storage({}) == "memory://"
    assert rate_limit_storage({"CACHE_URL": "redis://c:6379/0"}) == "redis://c:6379/0"
    assert rate_limit_storage({"REDIS_URL": "redis://r/1", "CACHE_URL": "redis://c"}) == (
        "redis://r/1")
    assert rate_limit_storage({"RATELIMIT_STORAGE_URL": "redis://l/2",
                               "REDIS_URL": "redis://r/1"}) == "redis://l/2"


@pytest.mark.parametrize(("overrides", "message"), [
    ({"DEBUG": True}, "Debug mode refuses to start with COACHLAB_ENV=production"),
    ({"DEMO": True}, "The demo LMS refuses to start with COACHLAB_ENV=production"),
])
def test_production_refuses_debug_and_demo(
    tmp_path: Path, overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        create_app({"DATA_DIR": str(tmp_path), "ENV": "production", "SECRET_KEY": "k",
                    **overrides})
    # The command line says why instead of a traceback.
    env = {"COACHLAB_DATA_DIR": str(tmp_path), "COACHLAB_ENV": "production",
           **{f"COACHLAB_{k}": "1" for k in overrides}}
    result = CliRunner().invoke(main, ["db", "upgrade"], env=env)
    assert result.exit_code != 0 and message in result.output


def test_development_allows_debug(tmp_path: Path) -> None:
    assert create_app({"DATA_DIR": str(tmp_path), "DEBUG": True}).debug


def test_no_private_key_or_id_token_reaches_the_logs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, platform_keys: Any
) -> None:
    with caplog.at_level(logging.DEBUG):
        ensure_key_pair(tmp_path / "fresh" / "tool_private_key.pem")
        app = make_app(tmp_path)
        from lti_tool.platforms import PlatformSpec, add_platform

        info = PlatformInfo(keys=platform_keys)
        with db.database(app).sessions() as session:
            add_platform(session, PlatformSpec(
                issuer=info.issuer, client_id=info.client_id,
                deployment_ids=(info.deployment_id,), auth_login_url=f"{info.issuer}/auth",
                auth_token_url=f"{info.issuer}/token", key_set_url=f"{info.issuer}/jwks",
                key_set=info.keys.jwks()))
            session.commit()
        client = app.test_client()
        launch = Launcher(client, info)
        login = launch.start()
        token = info.sign(info.claims(login.nonce))
        assert launch.post(token, login.state).status_code == 200
        launch.post(token, login.state)  # a replay, rejected and logged
        launch.post(token + "x", "state-unknown")
    logged = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    assert "PRIVATE KEY" not in logged and "BEGIN" not in logged
    assert token not in logged and token.split(".")[1] not in logged
    assert app.config["SECRET_KEY"] not in logged


def test_redact_removes_tokens_and_keys() -> None:
    text = "token eyJhbGciOi.eyJpc3MiOi.c2ln and -----BEGIN PRIVATE KEY-----\nabc\n" \
           "-----END PRIVATE KEY----- end"
    assert redact(text) == "token [redacted] and [redacted] end"
