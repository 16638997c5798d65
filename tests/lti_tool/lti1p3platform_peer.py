"""lti1p3platform, a platform implementation coachlab did not write, wired to the tool under test.

The adapter classes read requests and render results the way the tests need them; `register`
creates the platform's registration of coachlab and coachlab's registration of the platform.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

from flask import Flask
from flask.testing import FlaskClient
from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract
from lti1p3platform.message_launch import LTIAdvantageMessageLaunchAbstract
from lti1p3platform.oidc_login import OIDCLoginAbstract
from lti1p3platform.registration import Registration
from lti1p3platform.request import Request, TRequest

from lti_tool import db
from lti_tool.keys import generate_private_pem, key_pair_from_private_pem
from lti_tool.platforms import PlatformSpec, add_platform

ISSUER = "https://lti1p3platform.example.test"
CLIENT_ID = "tool-client-17"
DEPLOYMENT_ID = "deployment-17"
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"


class GetRequest(Request):
    """The tool's redirect to the platform's auth endpoint, as lti1p3platform reads requests."""

    def build_metadata(self, request: Any) -> TRequest:
        url = urlsplit(request)
        return {"method": "GET", "form_data": {}, "get_data": dict(parse_qsl(url.query)),
                "headers": {}, "content_type": None, "path": url.path, "json": None}


class PlatformConf(LTI1P3PlatformConfAbstract):
    """lti1p3platform's platform configuration, holding one registration of coachlab."""

    def init_platform_config(self, **kwargs: Any) -> None:
        self.registration_obj: Registration = kwargs["registration"]

    def get_registration_by_params(self, **kwargs: Any) -> Registration:
        return self.registration_obj


class Login(OIDCLoginAbstract):
    """Third-party initiated login; returns the URL instead of an HTTP redirect."""

    def set_lti_message_hint(self, **kwargs: Any) -> None:
        self._lti_message_hint = kwargs["hint"]

    def get_redirect(self, url: str) -> str:
        return url


class Launch(LTIAdvantageMessageLaunchAbstract):
    """The launch; returns the form_post fields instead of an auto-posting page."""

    def render_launch_form(self, launch_data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        return launch_data


def register(app: Flask, client: FlaskClient, *, tool_keys: str = "url",
             deep_linking: bool = False, platform_key_set_url: str | None = None) -> PlatformConf:
    """Register coachlab on the lti1p3platform platform and the platform in coachlab.

    tool_keys says how the platform learns the tool's keys: "url" (the tool's JWKS URL, as a
    real LMS would fetch it) or "inline" (the JWKS document handed over, without network).
    """
    config = client.get("/lti/config.json").get_json()
    platform_key = key_pair_from_private_pem(generate_private_pem())
    registration = (
        Registration()
        .set_iss(ISSUER)
        .set_client_id(CLIENT_ID)
        .set_deployment_id(DEPLOYMENT_ID)
        .set_oidc_login_url(config["oidc_initiation_url"])
        .set_launch_url(config["target_link_uri"])
        .set_platform_public_key(platform_key.public_pem)
        .set_platform_private_key(platform_key.private_pem)
    )
    if tool_keys == "url":
        registration.set_tool_key_set_url(config["public_jwk_url"])
    else:
        registration.set_tool_key_set(client.get("/lti/jwks.json").get_json())
    if deep_linking:
        registration.set_deeplink_launch_url(config["target_link_uri"])
    platform = PlatformConf(registration=registration)
    platform.get_registration()
    with db.database(app).sessions() as session:
        add_platform(session, PlatformSpec(
            issuer=ISSUER, client_id=CLIENT_ID, deployment_ids=(DEPLOYMENT_ID,),
            auth_login_url=f"{ISSUER}/auth", auth_token_url=f"{ISSUER}/token",
            key_set_url=platform_key_set_url, key_set=dict(platform.get_jwks())))
        session.commit()
    return platform
