"""LTI Dynamic Registration against a fake platform served locally (no network)."""

from __future__ import annotations

import html
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask, jsonify, request
from flask.testing import FlaskClient
from sqlalchemy import select

from lti_tool import db
from lti_tool.lti.registration import host_allowed
from lti_tool.models import PlatformRegistration
from tests.conftest import Launcher, PlatformInfo
from tests.lti_tool.flows import assert_rejected
from tests.lti_tool.lti_helpers import route_hosts

ISSUER = "https://moodle.example.test"
CONFIG_URL = f"{ISSUER}/mod/lti/openid-configuration.php"
TOOL_CONFIG = "https://purl.imsglobal.org/spec/lti-tool-configuration"


class FakePlatform:
    """The openid-configuration and registration endpoints of a Moodle-like platform."""

    def __init__(self) -> None:
        self.app = Flask("fake-platform")
        self.issuer = ISSUER
        self.config_override: dict[str, Any] = {}
        self.config_body: str | None = None
        self.refuse: int | None = None
        self.deployment_id: str | None = "7"
        self.received: list[dict[str, Any]] = []
        app = self.app

        @app.get("/mod/lti/openid-configuration.php")
        def openid_configuration() -> Any:
            if self.config_body is not None:
                return self.config_body, 200, {"Content-Type": "text/html"}
            return jsonify({
                "issuer": self.issuer,
                "authorization_endpoint": f"{ISSUER}/mod/lti/auth.php",
                "token_endpoint": f"{ISSUER}/mod/lti/token.php",
                "jwks_uri": f"{ISSUER}/mod/lti/certs.php",
                "registration_endpoint": f"{ISSUER}/mod/lti/openid-registration.php",
                "authorization_server": f"{ISSUER}/mod/lti/token.php",
                "https://purl.imsglobal.org/spec/lti-platform-configuration": {
                    "product_family_code": "moodle", "version": "4.3"},
                **self.config_override,
            })

        @app.post("/mod/lti/openid-registration.php")
        def register() -> Any:
            self.received.append({"auth": request.headers.get("Authorization"),
                                  "body": request.get_json()})
            if self.refuse:
                return jsonify(error="invalid_token"), self.refuse
            answer: dict[str, Any] = {"client_id": "moodle-client-9",
                                      **request.get_json()}
            if self.deployment_id:
                answer[TOOL_CONFIG] = {**answer[TOOL_CONFIG],
                                       "deployment_id": self.deployment_id}
            return jsonify(answer)


@pytest.fixture
def fake(app: Flask) -> FakePlatform:
    platform = FakePlatform()
    route_hosts(app, {ISSUER: platform.app})
    return platform


def _register(client: FlaskClient, url: str = CONFIG_URL, token: str = "reg-token-1") -> Any:
    return client.get("/lti/register", query_string={"openid_configuration": url,
                                                     "registration_token": token})


def _rows(app: Flask) -> list[PlatformRegistration]:
    with db.database(app).sessions() as session:
        rows = list(session.scalars(select(PlatformRegistration)))
        for row in rows:
            _ = row.deployments
        session.expunge_all()
        return rows


def test_registration_posts_the_tool_and_stores_the_platform(
    app: Flask, client: FlaskClient, fake: FakePlatform
) -> None:
    response = _register(client)
    assert response.status_code == 200, response.get_data(as_text=True)
    page = response.get_data(as_text=True)
    assert "coachlab is registered" in page and "lti_register_close.js" in page
    with client.get("/static/lti_register_close.js") as static:
        script = static.get_data(as_text=True)
    assert '(window.opener || window.parent).postMessage({subject: "org.imsglobal.lti.close"}' \
        in script

    [sent] = fake.received
    assert sent["auth"] == "Bearer reg-token-1"
    body = sent["body"]
    assert body["application_type"] == "web"
    assert body["response_types"] == ["id_token"]
    assert body["grant_types"] == ["implicit", "client_credentials"]
    assert body["initiate_login_uri"] == "http://localhost/lti/login"
    assert body["redirect_uris"] == ["http://localhost/lti/launch"]
    assert body["jwks_uri"] == "http://localhost/lti/jwks.json"
    assert body["token_endpoint_auth_method"] == "private_key_jwt"
    scopes = body["scope"].split()
    for scope in ("lti-ags/scope/lineitem", "lti-ags/scope/score",
                  "lti-ags/scope/result.readonly", "lti-nrps/scope/contextmembership.readonly"):
        assert f"https://purl.imsglobal.org/spec/{scope}" in scopes
    tool = body[TOOL_CONFIG]
    assert tool["domain"] == "localhost"
    assert tool["target_link_uri"] == "http://localhost/lti/launch"
    assert {"iss", "sub", "name", "email"} <= set(tool["claims"])
    types = [m["type"] for m in tool["messages"]]
    assert "LtiDeepLinkingRequest" in types and "LtiSubmissionReviewRequest" in types

    [row] = _rows(app)
    assert (row.issuer, row.client_id) == (ISSUER, "moodle-client-9")
    assert row.auth_login_url == f"{ISSUER}/mod/lti/auth.php"
    assert row.auth_token_url == f"{ISSUER}/mod/lti/token.php"
    assert row.key_set_url == f"{ISSUER}/mod/lti/certs.php"
    assert row.audience == f"{ISSUER}/mod/lti/token.php"
    assert [d.deployment_id for d in row.deployments] == ["7"]
    assert not row.allow_any_deployment


def test_without_a_deployment_id_every_deployment_is_trusted(
    app: Flask, client: FlaskClient, fake: FakePlatform
) -> None:
    fake.deployment_id = None
    assert _register(client).status_code == 200
    [row] = _rows(app)
    assert row.allow_any_deployment and row.deployments == []


def test_issuer_must_match_the_configuration_url(
    app: Flask, client: FlaskClient, fake: FakePlatform
) -> None:
    fake.issuer = "https://evil.example.test"
    assert_rejected(_register(client), "Issuer mismatch", "evil.example.test")
    assert fake.received == [] and _rows(app) == []


def test_issuer_with_a_path_on_the_same_site_is_accepted(
    app: Flask, client: FlaskClient, fake: FakePlatform
) -> None:
    fake.issuer = f"{ISSUER}/moodle"
    assert _register(client).status_code == 200
    assert _rows(app)[0].issuer == f"{ISSUER}/moodle"


def test_platform_that_refuses_is_a_clear_error(
    app: Flask, client: FlaskClient, fake: FakePlatform
) -> None:
    fake.refuse = 401
    assert_rejected(_register(client), "refused the registration (HTTP 401)", "invalid_token")
    assert _rows(app) == []


@pytest.mark.parametrize(("change", "phrase"), [
    ({"config_body": "<html>not json</html>"}, "is not JSON"),
    ({"config_override": {"registration_endpoint": None}}, "lacks registration_endpoint"),
    ({"config_override": {"jwks_uri": "ftp://x"}}, "jwks_uri 'ftp://x' is not an http(s) URL"),
])
def test_bad_configuration_is_a_clear_error(
    app: Flask, client: FlaskClient, fake: FakePlatform, change: dict[str, Any], phrase: str
) -> None:
    for name, value in change.items():
        setattr(fake, name, value)
    assert_rejected(_register(client), phrase)
    assert _rows(app) == []


def test_unreachable_platform_is_a_clear_error(app: Flask, client: FlaskClient) -> None:
    response = _register(client, "https://nowhere.example.test/openid-configuration")
    # Nothing answers for that host: the routed session reaches the tool, which 404s.
    assert_rejected(response, "HTTP 404")

    def down() -> Any:
        import requests

        class Down(requests.Session):
            def request(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
                raise requests.ConnectTimeout("timed out")
        return Down()
    app.config["HTTP_SESSION_FACTORY"] = down
    response = _register(client)
    assert response.status_code == 502
    assert "could not be read (ConnectTimeout)" in html.unescape(response.get_data(as_text=True))


def test_missing_parameter_and_switched_off(app: Flask, client: FlaskClient) -> None:
    assert_rejected(client.get("/lti/register"), "Dynamic Registration URL")
    app.config["DYNAMIC_REGISTRATION"] = False
    assert_rejected(client.get("/lti/register", query_string={
        "openid_configuration": CONFIG_URL}), "switched off")


def test_registered_platform_can_launch(
    app: Flask, client: FlaskClient, fake: FakePlatform, platform_keys: Any
) -> None:
    assert _register(client).status_code == 200
    with db.database(app).sessions() as session:
        row = session.scalars(select(PlatformRegistration)).one()
        row.key_set = platform_keys.jwks()  # the fake serves no certs.php
        session.commit()
    info = PlatformInfo(keys=platform_keys, issuer=ISSUER, client_id="moodle-client-9",
                        deployment_id="7")
    response = Launcher(client, info)(role="learner")
    assert response.status_code == 200, response.get_data(as_text=True)


def test_about_page_names_the_registration_url(client: FlaskClient) -> None:
    page = client.get("/lti/").get_data(as_text=True)
    assert "<code>http://localhost/lti/register</code>" in page


def test_allow_list_refuses_other_hosts_before_fetching(
    app: Flask, client: FlaskClient, fake: FakePlatform
) -> None:
    fetched: list[str] = []

    def spy() -> Any:
        import requests

        class Spy(requests.Session):
            def request(self, method: str, url: Any, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
                fetched.append(str(url))
                raise requests.ConnectTimeout("must not be reached")
        return Spy()

    app.config["HTTP_SESSION_FACTORY"] = spy
    app.config["DYNAMIC_REGISTRATION_HOSTS"] = "moodle.example.com, *.instructure.com"
    response = _register(client, "https://intranet.internal/openid-configuration")
    assert_rejected(response, "'intranet.internal' is not one of them",
                    "COACHLAB_DYNAMIC_REGISTRATION_HOSTS")
    assert fetched == [] and _rows(app) == []


@pytest.mark.parametrize(("host", "allowed"), [
    ("moodle.example.com", True), ("MOODLE.example.com.", True), ("school.instructure.com", True),
    ("instructure.com", False), ("evil-moodle.example.com", False), ("evilinstructure.com", False),
])
def test_host_allow_list_patterns(host: str, allowed: bool) -> None:
    assert host_allowed(host, "moodle.example.com, *.instructure.com") is allowed
    assert host_allowed(host, "") is True


def test_allow_listed_host_registers(app: Flask, client: FlaskClient, fake: FakePlatform) -> None:
    app.config["DYNAMIC_REGISTRATION_HOSTS"] = urlsplit(CONFIG_URL).hostname or ""
    assert _register(client).status_code == 200
    assert len(_rows(app)) == 1
