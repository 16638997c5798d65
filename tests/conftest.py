"""Shared fixtures in the flaskr shape: app (temporary data dir + SQLite), client, runner, plus a
test LMS platform with its own key and a `launch` helper doing the full OIDC login + launch."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
import requests
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from werkzeug.test import TestResponse

from lti_tool import create_app, db
from lti_tool.keys import KeyPair, generate_private_pem, key_pair_from_private_pem
from lti_tool.platforms import PlatformSpec, add_platform
from lti_tool.scratch_schema import scratch_schema

BASE_URL = "http://localhost"
CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
ROLES = {
    "learner": "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner",
    "instructor": "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor",
    "ta": "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant",
    "admin": "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator",
}


class WsgiAdapter(BaseAdapter):
    """Routes requests' HTTP calls into the Flask app (the tool and the demo LMS live there).

    Each call runs in a fresh thread so the inner request gets its own app context (and its own
    database session), as it would in a second server thread.
    """

    def __init__(self, app: Flask) -> None:
        super().__init__()
        self.app = app

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        url = urlsplit(request.url or "")

        def call() -> TestResponse:
            client = self.app.test_client()
            return client.open(
                url.path, query_string=url.query, method=request.method or "GET",
                headers=dict(request.headers), data=request.body,
                base_url=f"{url.scheme}://{url.netloc}",
            )

        with ThreadPoolExecutor(max_workers=1) as pool:
            inner = pool.submit(call).result()
        response = requests.Response()
        response.status_code = inner.status_code
        response.headers = CaseInsensitiveDict(dict(inner.headers))
        response._content = inner.get_data()
        response.url = request.url or ""
        response.request = request
        return response

    def close(self) -> None:
        """Nothing to release."""


def wsgi_session(app: Flask) -> requests.Session:
    """A requests session whose calls reach `app` instead of the network."""
    session = requests.Session()
    adapter = WsgiAdapter(app)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def make_app(tmp_path: Path, **overrides: Any) -> Flask:
    """A migrated app with its data dir in tmp_path."""
    config: dict[str, Any] = {
        "DATA_DIR": str(tmp_path / "data"),
        "SECRET_KEY": "test-secret",
        "BASE_URL": BASE_URL,
        "TESTING": True,
    }
    config.update(overrides)
    app = create_app(config)
    app.config["HTTP_SESSION_FACTORY"] = lambda: wsgi_session(app)
    db.upgrade(app)
    _made_apps.append(app)
    return app


_made_apps: list[Flask] = []


@pytest.fixture(autouse=True)
def _dispose_engines() -> Iterator[None]:
    """Close every pooled connection of the apps a test made (a PostgreSQL connection left
    open warns, and its schema could not be dropped)."""
    yield
    while _made_apps:
        db.database(_made_apps.pop()).engine.dispose()


POSTGRES_URL = os.environ.get(
    "COACHLAB_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TEST_DATABASES = tuple(
    name.strip() for name in os.environ.get("COACHLAB_TEST_DATABASES", "sqlite").split(",")
    if name.strip()
)
"""Engines the `app` fixture runs every database test on; `make test` sets
COACHLAB_TEST_DATABASES=sqlite,postgresql (a bare `pytest` runs SQLite only)."""
_KNOWN_DATABASES = {"sqlite", "postgresql"}
if set(TEST_DATABASES) - _KNOWN_DATABASES or not TEST_DATABASES:
    raise pytest.UsageError(
        f"COACHLAB_TEST_DATABASES={','.join(TEST_DATABASES)!r}: use sqlite, postgresql or both "
        "(comma-separated)")


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A database URL whose search_path is a fresh uuid-named schema, dropped afterwards
    (other test runs share the server: never a fixed name). Skips when the server is missing
    (fails under CI=1, where PostgreSQL must run)."""
    with ExitStack() as stack:
        try:
            url = stack.enter_context(scratch_schema(POSTGRES_URL))
        except sa.exc.OperationalError as error:
            message = f"POSTGRES TESTS SKIPPED: no PostgreSQL at {POSTGRES_URL}: {error}"
            if os.environ.get("CI"):
                pytest.fail(message)
            pytest.skip(message)
        yield url


@pytest.fixture(params=[
    pytest.param(name, marks=[pytest.mark.postgres] if name == "postgresql" else [], id=name)
    for name in TEST_DATABASES
])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The database of the `app` fixture: SQLite in tmp_path, or a PostgreSQL schema."""
    if request.param == "postgresql":
        with postgres_schema() as url:
            yield url
    else:
        yield f"sqlite:///{tmp_path / 'data' / 'coachlab.sqlite3'}"


@pytest.fixture
def app(tmp_path: Path, database_url: str) -> Iterator[Flask]:
    app = make_app(tmp_path, DATABASE_URL=database_url)
    yield app
    # Close pooled connections before the schema is dropped (and so none leak across tests).
    db.database(app).engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture(scope="session")
def platform_keys() -> KeyPair:
    return key_pair_from_private_pem(generate_private_pem())


@pytest.fixture(scope="session")
def other_keys() -> KeyPair:
    return key_pair_from_private_pem(generate_private_pem())


@dataclass
class PlatformInfo:
    """A test LMS: its key, identity, and a registration in the app with an inline key set."""

    keys: KeyPair
    issuer: str = "https://lms.example.test"
    client_id: str = "coachlab-test-client"
    deployment_id: str = "deployment-1"
    context: dict[str, str] = field(
        default_factory=lambda: {"id": "course-1", "title": "Coaching 101", "label": "C101"}
    )

    def claims(self, nonce: str, role: str = "learner", custom: Mapping[str, str] | None = None,
               subject: str | None = None) -> dict[str, Any]:
        """Claims of a resource link launch."""
        now = int(time.time())
        sub = subject or f"user-{role}"
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.client_id,
            "sub": sub,
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
            "name": f"Test {role.title()}",
            "email": f"{sub}@example.test",
            CLAIM + "message_type": "LtiResourceLinkRequest",
            CLAIM + "version": "1.3.0",
            CLAIM + "deployment_id": self.deployment_id,
            CLAIM + "target_link_uri": f"{BASE_URL}/lti/launch",
            CLAIM + "resource_link": {"id": "link-1", "title": "Coach the territory rep"},
            CLAIM + "roles": [ROLES[role]],
            CLAIM + "context": self.context,
        }
        if custom:
            claims[CLAIM + "custom"] = dict(custom)
        return claims

    def sign(self, claims: Mapping[str, Any], keys: KeyPair | None = None,
             kid: str | None = None) -> str:
        """Sign claims as an id_token (with another key to forge a bad signature)."""
        signer = keys or self.keys
        return jwt.encode(dict(claims), signer.private_pem, algorithm="RS256",
                          headers={"kid": kid or self.keys.kid})


@pytest.fixture
def platform(app: Flask, platform_keys: KeyPair) -> PlatformInfo:
    info = PlatformInfo(keys=platform_keys)
    with db.database(app).sessions() as session:
        add_platform(session, PlatformSpec(
            issuer=info.issuer, client_id=info.client_id, deployment_ids=(info.deployment_id,),
            auth_login_url=f"{info.issuer}/auth", auth_token_url=f"{info.issuer}/token",
            key_set_url=f"{info.issuer}/jwks", key_set=info.keys.jwks(),
        ))
        session.commit()
    return info


@dataclass(frozen=True)
class Login:
    """What the tool's login initiation sent back: the platform auth request's parameters."""

    state: str
    nonce: str
    params: dict[str, str]


@dataclass
class Launcher:
    """Drives the OIDC login and the launch through the test client."""

    client: FlaskClient
    platform: PlatformInfo
    urls: dict[str, str] = field(default_factory=dict)

    def url(self, name: str) -> str:
        """Path of a tool endpoint, read from /lti/config.json as an LMS admin would."""
        if not self.urls:
            config = self.client.get("/lti/config.json").get_json()
            self.urls = {"login": config["oidc_initiation_url"],
                         "launch": config["target_link_uri"],
                         "jwks": config["public_jwk_url"]}
        return urlsplit(self.urls[name]).path

    def login(self, method: str = "GET", **params: str) -> TestResponse:
        """Send the OIDC login initiation."""
        query = {"iss": self.platform.issuer, "login_hint": "hint-1",
                 "target_link_uri": f"{BASE_URL}/lti/launch",
                 "client_id": self.platform.client_id,
                 "lti_deployment_id": self.platform.deployment_id, **params}
        if method == "POST":
            return self.client.post(self.url("login"), data=query)
        return self.client.get(self.url("login") + "?" + urlencode(query))

    def start(self, method: str = "GET") -> Login:
        """Login initiation, returning the state and nonce the tool chose."""
        response = self.login(method)
        assert response.status_code == 302, response.get_data(as_text=True)
        query = {k: v[0] for k, v in parse_qs(urlsplit(response.location).query).items()}
        return Login(state=query["state"], nonce=query["nonce"], params=query)

    def post(self, id_token: str | None, state: str | None) -> TestResponse:
        """Post the form_post launch."""
        data = {}
        if id_token is not None:
            data["id_token"] = id_token
        if state is not None:
            data["state"] = state
        return self.client.post(self.url("launch"), data=data)

    def __call__(
        self,
        role: str = "learner",
        custom: Mapping[str, str] | None = None,
        tamper: Callable[[dict[str, Any]], None] | None = None,
        keys: KeyPair | None = None,
        subject: str | None = None,
    ) -> TestResponse:
        """Full login + launch; returns the launch response (see landing())."""
        login = self.start()
        claims = self.platform.claims(login.nonce, role=role, custom=custom, subject=subject)
        if tamper is not None:
            tamper(claims)
        return self.post(self.platform.sign(claims, keys=keys), login.state)


def landing(response: TestResponse) -> str:
    """Where a launch took the browser: a learner's launch answers with the player page
    itself and names its address in Content-Location; staff, deep linking and submission
    review launches redirect."""
    if response.status_code == 200 and response.headers.get("Content-Location"):
        return str(response.headers["Content-Location"])
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:3000]
    return str(response.location)


def launch_token(response: TestResponse) -> str:
    """The signed launch reference of the page a launch opened."""
    return parse_qs(urlsplit(landing(response)).query)["launch"][0]


@pytest.fixture
def launch(client: FlaskClient, platform: PlatformInfo) -> Launcher:
    return Launcher(client, platform)
