"""Test steps of the LTI Advantage services: deep-linking launches and fake LMS hosts."""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

import jwt
import requests
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.conftest import CLAIM, Launcher, WsgiAdapter, wsgi_session

DL_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
CONTENT_ITEMS = "https://purl.imsglobal.org/spec/lti-dl/claim/content_items"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
RETURN_URL = "https://lms.example.test/deep-link-return"


def deep_link_launch(launch: Launcher, role: str = "instructor",
                     **settings: Any) -> TestResponse:
    """A full login + LtiDeepLinkingRequest launch."""
    def tamper(claims: dict[str, Any]) -> None:
        claims[CLAIM + "message_type"] = "LtiDeepLinkingRequest"
        del claims[CLAIM + "resource_link"]
        claims[DL_SETTINGS] = {"deep_link_return_url": RETURN_URL,
                               "accept_types": ["ltiResourceLink"],
                               "accept_presentation_document_targets": ["iframe", "window"],
                               "accept_multiple": True, **settings}
    return launch(role=role, tamper=tamper)


def open_picker(launch: Launcher, client: FlaskClient, **settings: Any) -> str:
    """Launch deep linking as an instructor and return the picker page."""
    response = deep_link_launch(launch, **settings)
    assert response.status_code == 302, response.get_data(as_text=True)
    page = client.get(response.location)
    assert page.status_code == 200, page.get_data(as_text=True)
    return html.unescape(page.get_data(as_text=True))


def field(page: str, name: str) -> str:
    """The value of a hidden input."""
    marker = f'name="{name}" value="'
    start = page.index(marker) + len(marker)
    return page[start:page.index('"', start)]


def choose(client: FlaskClient, picker: str, items: list[str],
           **settings: str) -> TestResponse:
    """Post the picker's form with the chosen items and settings."""
    data: dict[str, Any] = {"dl": field(picker, "dl"), "csrf_token": field(picker, "csrf_token"),
                            "item": items, **settings}
    return client.post("/lti/deep-link/return", data=data)


def tool_jwks(client: FlaskClient) -> dict[str, Any]:
    """The tool's published key set."""
    keys: dict[str, Any] = client.get("/lti/jwks.json").get_json()
    return keys


def verify_tool_jwt(client: FlaskClient, token: str, audience: str) -> dict[str, Any]:
    """Verify a tool-signed JWT against the tool's JWKS, as a platform does."""
    kid = jwt.get_unverified_header(token)["kid"]
    key = jwt.PyJWKSet.from_dict(tool_jwks(client))[kid]
    body: dict[str, Any] = jwt.decode(token, key.key, algorithms=["RS256"], audience=audience)
    return body


def route_hosts(app: Flask, hosts: Mapping[str, Flask]) -> None:
    """Send the tool's outgoing HTTP calls for each base URL to a fake app, the rest to itself."""
    def factory() -> requests.Session:
        session = wsgi_session(app)
        for base, fake in hosts.items():
            session.mount(base, WsgiAdapter(fake))
        return session
    app.config["HTTP_SESSION_FACTORY"] = factory
