"""OIDC login + launch through the test client: accepted launches and every rejection."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from lti_tool import db
from lti_tool.keys import KeyPair
from lti_tool.models import Context, ResourceLink, User
from tests.conftest import CLAIM, Launcher, landing, launch_token
from tests.lti_tool.flows import assert_rejected


def _path(response: TestResponse) -> str:
    return urlsplit(response.location).path


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_login_redirects_to_the_platform_with_state_and_nonce(
    launch: Launcher, method: str
) -> None:
    response = launch.login(method)
    assert response.status_code == 302
    assert response.location.startswith("https://lms.example.test/auth?")
    query = parse_qs(urlsplit(response.location).query)
    assert query["redirect_uri"] == ["http://localhost/lti/launch"]
    assert query["response_mode"] == ["form_post"] and query["login_hint"] == ["hint-1"]
    assert query["state"][0] and query["nonce"][0]


def test_learner_launch_opens_the_player(launch: Launcher, app: Flask) -> None:
    response = launch(role="learner", custom={"scenario": "territory-rep-300-accounts"})
    # The launch answers with the player page itself (no redirect: one round trip less),
    # naming its address, which shows the same page on a reload.
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "Start the scenario" in response.get_data(as_text=True)
    assert urlsplit(landing(response)).path == "/play"
    assert response.headers["Cache-Control"] == "no-store"
    assert 'name="coachlab-page-url"' in response.get_data(as_text=True)
    with db.database(app).sessions() as session:
        user = session.scalars(select(User)).one()
        assert (user.subject, user.name) == ("user-learner", "Test Learner")
        link = session.scalars(select(ResourceLink)).one()
        assert (link.resource_link_id, link.scenario_id) == ("link-1", "territory-rep-300-accounts")
        assert session.scalars(select(Context)).one().title == "Coaching 101"


@pytest.mark.parametrize("role", ["instructor", "ta", "admin"])
def test_staff_launch_opens_the_placement_overview(
    launch: Launcher, client: FlaskClient, role: str
) -> None:
    response = launch(role=role)
    assert response.status_code == 302
    assert _path(response) == "/overview"
    page = client.get(response.location)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Placement overview" in text and "territory-rep-300-accounts" in text


def test_relaunch_updates_instead_of_duplicating(launch: Launcher, app: Flask) -> None:
    launch(role="learner")
    launch(role="learner", custom={"module": "m1"})
    with db.database(app).sessions() as session:
        assert len(session.scalars(select(User)).all()) == 1
        link = session.scalars(select(ResourceLink)).one()
        assert (link.scenario_id, link.module_id) == (None, "m1")


def _set(key: str, value: Any) -> Any:
    def tamper(claims: dict[str, Any]) -> None:
        claims[key] = value
    return tamper


def test_bad_signature_is_rejected(launch: Launcher, other_keys: KeyPair) -> None:
    assert_rejected(launch(keys=other_keys), "Bad signature", "does not match")


def test_unknown_key_id_is_rejected(launch: Launcher) -> None:
    login = launch.start()
    token = launch.platform.sign(launch.platform.claims(login.nonce), kid="no-such-kid")
    assert_rejected(launch.post(token, login.state), "Bad signature", "(kid)")


def test_wrong_audience_is_rejected(launch: Launcher) -> None:
    assert_rejected(launch(tamper=_set("aud", "someone-else")), "Wrong audience", "someone-else")


def test_unknown_issuer_is_rejected(launch: Launcher) -> None:
    assert_rejected(launch(tamper=_set("iss", "https://evil.example.test")), "Unknown issuer",
                    "https://evil.example.test")


def test_unknown_issuer_at_login_is_rejected(launch: Launcher) -> None:
    assert_rejected(launch.login(iss="https://evil.example.test"), "Unknown issuer")


def test_unknown_deployment_is_rejected(launch: Launcher) -> None:
    assert_rejected(launch(tamper=_set(CLAIM + "deployment_id", "dep-x")), "Unknown deployment")


def test_expired_token_is_rejected(launch: Launcher) -> None:
    past = int(time.time()) - 3600
    def tamper(claims: dict[str, Any]) -> None:
        claims.update(iat=past - 300, exp=past)
    assert_rejected(launch(tamper=tamper), "Expired token")


def test_replayed_nonce_is_rejected(launch: Launcher) -> None:
    login = launch.start()
    token = launch.platform.sign(launch.platform.claims(login.nonce))
    assert launch.post(token, login.state).status_code == 200
    assert_rejected(launch.post(token, login.state), "Replayed or unknown launch", "already used")


def test_a_state_is_used_up_by_its_first_launch_even_a_failed_one(
    launch: Launcher, other_keys: KeyPair
) -> None:
    login = launch.start()
    platform = launch.platform
    forged = platform.sign(platform.claims(login.nonce), keys=other_keys)
    assert_rejected(launch.post(forged, login.state), "Bad signature")
    # The genuine token cannot ride on the state the failed launch spent.
    genuine = platform.sign(platform.claims(login.nonce))
    assert_rejected(launch.post(genuine, login.state), "Replayed or unknown launch")


def test_nonce_not_issued_by_the_tool_is_rejected(launch: Launcher) -> None:
    login = launch.start()
    token = launch.platform.sign(launch.platform.claims("made-up-nonce"))
    assert_rejected(launch.post(token, login.state), "State mismatch")


def test_missing_state_is_rejected(launch: Launcher) -> None:
    login = launch.start()
    token = launch.platform.sign(launch.platform.claims(login.nonce))
    assert_rejected(launch.post(token, None), "Missing state")


def test_mismatched_state_is_rejected(launch: Launcher) -> None:
    login = launch.start()
    token = launch.platform.sign(launch.platform.claims(login.nonce))
    assert_rejected(launch.post(token, "state-forged"), "Replayed or unknown launch",
                    "not one this tool's login issued")


def test_state_of_another_login_is_rejected(launch: Launcher) -> None:
    first, second = launch.start(), launch.start()
    token = launch.platform.sign(launch.platform.claims(first.nonce))
    assert_rejected(launch.post(token, second.state), "State mismatch")


def test_missing_id_token_is_rejected(launch: Launcher) -> None:
    login = launch.start()
    assert_rejected(launch.post(None, login.state), "id_token")


def test_garbage_id_token_is_rejected(launch: Launcher) -> None:
    login = launch.start()
    assert_rejected(launch.post("not-a-jwt", login.state), "not a JWT")


def test_same_ids_on_two_platforms_stay_apart(
    launch: Launcher, app: Flask, client: FlaskClient, other_keys: KeyPair
) -> None:
    from lti_tool.platforms import PlatformSpec, add_platform
    from tests.conftest import PlatformInfo

    other = PlatformInfo(keys=other_keys, issuer="https://canvas.example.test")
    with db.database(app).sessions() as session:
        add_platform(session, PlatformSpec(
            issuer=other.issuer, client_id=other.client_id, deployment_ids=(other.deployment_id,),
            auth_login_url=f"{other.issuer}/auth", auth_token_url=f"{other.issuer}/token",
            key_set_url=None, key_set=other.keys.jwks()))
        session.commit()
    launch(role="learner")
    Launcher(client, other)(role="learner")
    with db.database(app).sessions() as session:
        users = session.scalars(select(User)).all()
        links = session.scalars(select(ResourceLink)).all()
        assert len(users) == 2 and len({u.registration_id for u in users}) == 2
        assert len(links) == 2 and {link.resource_link_id for link in links} == {"link-1"}


def test_overview_needs_a_valid_launch_reference(client: FlaskClient) -> None:
    assert_rejected(client.get("/overview"), "needs a launch from your course")
    assert_rejected(client.get("/overview?launch=forged"), "not valid")


def test_learner_cannot_open_the_overview(launch: Launcher, client: FlaskClient) -> None:
    token = launch_token(launch(role="learner"))
    assert_rejected(client.get(f"/overview?launch={token}"), "for instructors")


class CountingSession:
    """Serves one key set and counts how often it was fetched."""

    def __init__(self, jwks: dict[str, Any]) -> None:
        self.jwks = jwks
        self.fetches = 0

    def get(self, url: str, **_: Any) -> Any:
        self.fetches += 1
        jwks = self.jwks

        class Reply:
            def json(self) -> dict[str, Any]:
                return jwks
        return Reply()


def test_platform_key_set_is_fetched_once_and_cached(launch: Launcher, app: Flask) -> None:
    from lti_tool.models import PlatformRegistration

    with db.database(app).sessions() as session:
        row = session.scalars(select(PlatformRegistration)).one()
        row.key_set = None
        session.commit()
    counting = CountingSession(launch.platform.keys.jwks())
    app.config["HTTP_SESSION_FACTORY"] = lambda: counting
    assert launch(role="learner").status_code == 200
    assert launch(role="instructor").status_code == 302
    assert counting.fetches == 1


def test_unexpected_error_rolls_back_and_shows_no_traceback(
    launch: Launcher, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_link(*_: object) -> None:
        raise RuntimeError("database exploded at line 42")

    monkeypatch.setattr("lti_tool.launches._link", broken_link)
    response = launch(role="learner")
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Something went wrong on our side" in page
    assert "Traceback" not in page and "exploded" not in page
    with db.database(app).sessions() as session:
        assert session.scalars(select(User)).all() == []  # the upserted user was rolled back


def test_launch_without_the_login_cookie_is_not_accepted_silently(
    launch: Launcher, app: Flask
) -> None:
    # In an LMS iframe the login's cookies may be dropped; without another proof that this
    # browser started the login the tool offers a new window (tests/security covers the rest).
    login = launch.start()
    token = launch.platform.sign(launch.platform.claims(login.nonce))
    cookieless = Launcher(app.test_client(), launch.platform)
    response = cookieless.post(token, login.state)
    assert response.status_code == 401, response.get_data(as_text=True)
    assert "Open coachlab in a new window" in response.get_data(as_text=True)


def test_rotated_platform_keys_are_fetched_again(
    launch: Launcher, app: Flask, other_keys: KeyPair
) -> None:
    from lti_tool.models import PlatformRegistration

    with db.database(app).sessions() as session:
        session.scalars(select(PlatformRegistration)).one().key_set = None
        session.commit()
    counting = CountingSession(launch.platform.keys.jwks())
    app.config["HTTP_SESSION_FACTORY"] = lambda: counting
    assert launch(role="learner").status_code == 200
    counting.jwks = other_keys.jwks()  # the platform rotates to a new key
    login = launch.start()
    token = launch.platform.sign(launch.platform.claims(login.nonce), keys=other_keys,
                                 kid=other_keys.kid)
    assert launch.post(token, login.state).status_code == 200
    assert counting.fetches == 2
    # A token signed with a key the platform never published still fails, after one refetch.
    login = launch.start()
    forged = launch.platform.sign(launch.platform.claims(login.nonce), kid="unknown-kid")
    assert_rejected(launch.post(forged, login.state), "Bad signature")


def test_platform_http_session_is_kept_per_thread_and_keeps_no_cookies(app: Flask) -> None:
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from lti_tool.lti.launch import http_session

    seen: list[str | None] = []

    class Platform(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.headers.get("Cookie"))
            self.send_response(200)
            self.send_header("Set-Cookie", "sid=platform-a; Path=/")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Platform)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/token"
    app.config["HTTP_SESSION_FACTORY"] = None
    try:
        with app.app_context():
            mine = http_session()
            assert http_session() is mine
            mine.get(url, timeout=5)
            mine.get(url, timeout=5)
    finally:
        server.shutdown()
        server.server_close()
        mine.close()  # its pooled connection to the server just stopped
    # Kept for the thread, but nothing one platform sets rides along on the next request.
    assert seen == [None, None] and len(mine.cookies) == 0
    other: list[object] = []

    def in_thread() -> None:
        with app.app_context():
            other.append(http_session())

    thread = threading.Thread(target=in_thread)
    thread.start()
    thread.join()
    assert other and other[0] is not mine
