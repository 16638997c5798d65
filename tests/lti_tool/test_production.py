"""Production serving: health and readiness, request ids and JSON logs, secrets from files,
the tool key from the environment, several workers sharing Redis, a clock leeway, an outage
answered with a 503 page, and concurrent first launches."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
import requests.adapters
import requests.structures
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from lti_tool import create_app, db
from lti_tool.config import load_config
from lti_tool.errors import ConfigError
from lti_tool.keys import KeyPair, generate_private_pem, key_pair_from_private_pem
from lti_tool.launches import record_launch
from lti_tool.lti.claims import read_claims
from lti_tool.lti.references import LaunchRef, sign_launch
from lti_tool.models import PlatformRegistration, User
from lti_tool.ops import JsonFormatter
from tests.conftest import BASE_URL, Launcher, PlatformInfo, make_app
from tests.lti_tool.flows import assert_rejected

REDIS_URL = os.environ.get("COACHLAB_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
ROOT = Path(__file__).resolve().parents[2]


def _redis_or_skip() -> None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.RedisError as error:
        if os.environ.get("CI"):
            pytest.fail(f"no Redis at {REDIS_URL}: {error}")
        pytest.skip(f"REDIS TESTS SKIPPED: no Redis at {REDIS_URL}: {error}")


def test_health_and_readiness_with_a_request_id(client: FlaskClient) -> None:
    health = client.get("/healthz")
    assert health.status_code == 200 and health.get_json() == {"status": "ok"}
    ready = client.get("/readyz", headers={"X-Request-ID": "lb-check-42"})
    assert ready.status_code == 200
    assert ready.get_json() == {"status": "ready", "checks": {"database": "ok", "cache": "ok"}}
    assert ready.headers["X-Request-ID"] == "lb-check-42"
    generated = client.get("/healthz", headers={"X-Request-ID": "evil id; drop"})
    assert generated.headers["X-Request-ID"] != "evil id; drop"
    assert len(generated.headers["X-Request-ID"]) == 32


def test_readiness_and_pages_answer_503_while_the_database_is_down(tmp_path: Path) -> None:
    app = create_app({"DATA_DIR": str(tmp_path), "SECRET_KEY": "t", "BASE_URL": BASE_URL,
                      "DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:9/none"
                                      "?connect_timeout=2"})
    client = app.test_client()
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.get_json()["checks"]["database"].startswith("unreachable")
    assert client.get("/healthz").status_code == 200  # alive: no restart for an outage
    with app.test_request_context():
        token = sign_launch(LaunchRef(launch_id="l", registration_id=1, user_id=1, link_id=1,
                                      staff=False, admin=False))
    page = client.get(f"/play?launch={token}")
    body = page.get_data(as_text=True)
    assert page.status_code == 503 and page.headers["Retry-After"] == "30"
    assert "briefly unavailable" in body and "Traceback" not in body


def test_json_log_lines_carry_the_request_id(app: Flask) -> None:
    formatter = JsonFormatter()
    with app.test_request_context("/x", headers={"X-Request-ID": "abc-123"}):
        app.preprocess_request()
        record = logging.LogRecord("coachlab.access", logging.INFO, __file__, 1,
                                   "GET %s %s", ("/x", 200), None)
        record.status = 200
        line = json.loads(formatter.format(record))
    assert line["request_id"] == "abc-123" and line["message"] == "GET /x 200"
    assert line["status"] == 200 and line["level"] == "INFO"


def test_secrets_come_from_files_and_both_at_once_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("from-a-file\n")
    config = load_config({"COACHLAB_SECRET_KEY_FILE": str(secret)})
    assert config["SECRET_KEY"] == "from-a-file"
    with pytest.raises(ConfigError, match="keep one of them"):
        load_config({"COACHLAB_SECRET_KEY_FILE": str(secret), "COACHLAB_SECRET_KEY": "x"})
    with pytest.raises(ConfigError, match="cannot be read"):
        load_config({"COACHLAB_SECRET_KEY_FILE": str(tmp_path / "missing")})


def test_the_tool_key_from_the_environment_signs_and_is_published(tmp_path: Path) -> None:
    pem = generate_private_pem()
    expected = key_pair_from_private_pem(pem).kid
    key_file = tmp_path / "tool.pem"
    key_file.write_text(pem)
    app = create_app(load_config({"COACHLAB_TOOL_PRIVATE_KEY_FILE": str(key_file),
                                  "COACHLAB_DATA_DIR": str(tmp_path / "data")}) | {
        "SECRET_KEY": "t", "BASE_URL": BASE_URL})
    assert app.extensions["coachlab_keys"].kid == expected  # what tokens are signed with
    published = app.test_client().get("/lti/jwks.json").get_json()["keys"]
    assert published[0]["kid"] == expected  # what platforms verify with
    assert not (tmp_path / "data" / "tool_private_key.pem").exists()
    with pytest.raises(ConfigError, match="not an unencrypted PEM"):
        create_app({"DATA_DIR": str(tmp_path), "TOOL_PRIVATE_KEY": "nonsense"})


def test_several_workers_with_the_in_process_cache_refuse_to_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="COACHLAB_CACHE_URL=redis"):
        create_app({"DATA_DIR": str(tmp_path), "WORKERS": 2})
    create_app({"DATA_DIR": str(tmp_path), "WORKERS": 1})


@pytest.mark.slow
def test_gunicorn_refuses_two_workers_without_redis(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COACHLAB_")}
    env.update(COACHLAB_DATA_DIR=str(tmp_path), COACHLAB_BIND="127.0.0.1:0",
               PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-m", "gunicorn", "-c", "python:lti_tool.gunicorn_conf",
         "--workers", "2", "lti_tool.wsgi:application()"],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode != 0
    assert "refusing to start 2 gunicorn workers with the in-process cache" in done.stderr


@pytest.mark.parametrize(("skew", "accepted"), [(45, True), (-45, True), (600, False)])
def test_a_platform_clock_slightly_off_is_tolerated(
    launch: Launcher, skew: int, accepted: bool
) -> None:
    def shift(claims: dict[str, Any]) -> None:
        claims["iat"] += skew
        claims["exp"] = claims["iat"] + 300 if skew > 0 else int(time.time()) - 30
        if skew < 0:
            claims["exp"] = int(time.time()) - 30  # expired 30 s ago by our clock

    response = launch(tamper=shift)
    if accepted:
        assert response.status_code == 200, response.get_data(as_text=True)
    else:
        assert_rejected(response, "not yet valid")


def _route_robin(apps: list[Flask]) -> requests.Session:
    """A browser whose requests land on the instances in turn, as behind a round-robin load
    balancer. Cookies travel in the Cookie header the test sets (the Werkzeug client's own
    jar is off, so it cannot drop them)."""
    turn = iter(range(10**6))

    class RoundRobin(requests.adapters.BaseAdapter):
        def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
            app = apps[next(turn) % len(apps)]
            url = urlsplit(request.url or "")
            inner = app.test_client(use_cookies=False).open(
                url.path, query_string=url.query, method=request.method or "GET",
                headers=dict(request.headers), data=request.body,
                base_url=f"{url.scheme}://{url.netloc}")
            response = requests.Response()
            response.status_code = inner.status_code
            response.headers = requests.structures.CaseInsensitiveDict(dict(inner.headers))
            response._content = inner.get_data()
            response.url = request.url or ""
            response.request = request
            return response

        def close(self) -> None:
            """Nothing to release."""

    session = requests.Session()
    session.mount("http://", RoundRobin())
    return session


def test_login_launch_and_next_page_on_three_instances_sharing_redis(
    tmp_path: Path, database_url: str, platform_keys: KeyPair
) -> None:
    _redis_or_skip()
    shared = {"DATABASE_URL": database_url, "CACHE_URL": REDIS_URL,
              "DATA_DIR": str(tmp_path / "data")}
    apps = [make_app(tmp_path, **shared) for _ in range(3)]
    info = PlatformInfo(keys=platform_keys)
    Launcher(apps[0].test_client(), info)  # registration below, through instance 1
    from lti_tool.platforms import PlatformSpec, add_platform

    with db.database(apps[0]).sessions() as session:
        add_platform(session, PlatformSpec(
            issuer=info.issuer, client_id=info.client_id, deployment_ids=(info.deployment_id,),
            auth_login_url=f"{info.issuer}/auth", auth_token_url=f"{info.issuer}/token",
            key_set_url=None, key_set=info.keys.jwks()))
        session.commit()
    browser = _route_robin(apps)
    query = {"iss": info.issuer, "login_hint": "h", "target_link_uri": f"{BASE_URL}/lti/launch",
             "client_id": info.client_id, "lti_deployment_id": info.deployment_id}
    login = browser.get(f"{BASE_URL}/lti/login?{urlencode(query)}", allow_redirects=False)
    assert login.status_code == 302  # instance 1 stored state and nonce in Redis
    # The in-app adapter has no raw response for requests to read cookies from: keep the
    # state cookie as the browser would.
    from http.cookies import SimpleCookie

    jar: SimpleCookie = SimpleCookie(login.headers["Set-Cookie"])
    assert jar, "the login sets the state cookie"
    browser.headers["Cookie"] = "; ".join(f"{n}={m.value}" for n, m in jar.items())
    auth = {k: v[0] for k, v in parse_qs(urlsplit(login.headers["Location"]).query).items()}
    token = info.sign(info.claims(auth["nonce"], subject="multi-instance"))
    launched = browser.post(f"{BASE_URL}/lti/launch", data={"id_token": token,
                                                            "state": auth["state"]},
                            allow_redirects=False)
    assert launched.status_code == 200, launched.text  # instance 2 found them
    page = browser.get(launched.headers["Content-Location"], allow_redirects=False)
    assert page.status_code == 200 and 'name="csrf_token"' in page.text  # instance 3
    replay = browser.post(f"{BASE_URL}/lti/launch", data={"id_token": token,
                                                          "state": auth["state"]})
    assert replay.status_code == 400  # the state was used up on instance 2, for all
    for app in apps:
        db.database(app).engine.dispose()


def test_concurrent_first_launches_into_a_new_course_both_succeed(
    app: Flask, platform: PlatformInfo, monkeypatch: pytest.MonkeyPatch
) -> None:
    if db.database(app).engine.dialect.name == "sqlite":
        pytest.skip("SQLite serialises writers: the race needs PostgreSQL")
    from lti_tool import launches

    claims = read_claims(platform.claims("n", subject="racer"))
    original_user = launches._user
    raced: list[str] = []

    def user_then_the_other_launch_commits(session: Any, registration_id: int,
                                           claims: Any, found: Any) -> User:
        user = original_user(session, registration_id, claims, found)  # none: a new row
        if not raced:
            raced.append("other")
            with db.database(app).sessions() as other:
                row = other.get(PlatformRegistration, registration_id)
                assert row is not None
                record_launch(other, row, claims, "other")  # commits the same user first
        return user

    monkeypatch.setattr(launches, "_user", user_then_the_other_launch_commits)
    with app.test_request_context():
        session = db.get_session()
        registration = session.scalars(select(PlatformRegistration)).one()
        ref = record_launch(session, registration, claims, "ours").ref
    assert raced
    with db.database(app).sessions() as session:
        assert session.scalar(select(func.count()).select_from(User)) == 1
        assert session.get(User, ref.user_id) is not None


def test_readiness_and_login_answer_503_while_redis_is_down(
    tmp_path: Path, platform_keys: KeyPair
) -> None:
    from lti_tool.platforms import PlatformSpec, add_platform

    app = make_app(tmp_path, CACHE_URL="redis://127.0.0.1:9/0?socket_connect_timeout=1")
    platform = PlatformInfo(keys=platform_keys)
    with db.database(app).sessions() as session:
        add_platform(session, PlatformSpec(
            issuer=platform.issuer, client_id=platform.client_id,
            deployment_ids=(platform.deployment_id,), auth_login_url=f"{platform.issuer}/auth",
            auth_token_url=f"{platform.issuer}/token", key_set_url=None,
            key_set=platform.keys.jwks()))
        session.commit()
    client = app.test_client()
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.get_json()["checks"]["cache"] != "ok"
    # The OIDC login stores its state and nonce in the shared cache: without it, a clean 503.
    login = client.get("/lti/login", query_string={
        "iss": platform.issuer, "login_hint": "u", "target_link_uri": f"{BASE_URL}/lti/launch",
        "client_id": platform.client_id})
    body = login.get_data(as_text=True)
    assert login.status_code == 503 and login.headers["Retry-After"] == "30", body[:500]
    assert "briefly unavailable" in body and "Traceback" not in body
