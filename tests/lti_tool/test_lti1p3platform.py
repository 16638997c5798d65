"""A launch produced by lti1p3platform, a platform implementation coachlab did not write."""

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


def test_launch_from_lti1p3platform_lands_on_the_player(app: Flask, client: FlaskClient) -> None:
    config = client.get("/lti/config.json").get_json()
    platform_key = key_pair_from_private_pem(generate_private_pem())
    registration = (
        Registration()
        .set_iss(ISSUER)
        .set_client_id(CLIENT_ID)
        .set_deployment_id(DEPLOYMENT_ID)
        .set_oidc_login_url(config["oidc_initiation_url"])
        .set_launch_url(config["target_link_uri"])
        .set_tool_key_set_url(config["public_jwk_url"])
        .set_platform_public_key(platform_key.public_pem)
        .set_platform_private_key(platform_key.private_pem)
    )
    platform = PlatformConf(registration=registration)
    platform.get_registration()
    with db.database(app).sessions() as session:
        add_platform(session, PlatformSpec(
            issuer=ISSUER, client_id=CLIENT_ID, deployment_ids=(DEPLOYMENT_ID,),
            auth_login_url=f"{ISSUER}/auth", auth_token_url=f"{ISSUER}/token",
            key_set_url=f"{ISSUER}/jwks", key_set=dict(platform.get_jwks())))
        session.commit()

    login = Login(None, platform)
    login.set_lti_message_hint(hint="link-17")
    preflight = login.initiate_login("user-17")
    assert preflight.startswith(config["oidc_initiation_url"] + "?")

    to_platform = client.get(preflight)
    assert to_platform.status_code == 302, to_platform.get_data(as_text=True)
    assert to_platform.location.startswith(f"{ISSUER}/auth?")

    launch = Launch(GetRequest(to_platform.location), platform)
    launch.set_user_data("user-17", [LEARNER], full_name="Lin Platform")
    launch.set_resource_link_claim("link-17", title="Territory rep")
    launch.set_launch_context_claim("course-17", context_title="Course 17")
    launch.set_custom_parameters_claim({"scenario": "territory-rep-300-accounts"})
    form = launch.lti_launch()
    assert form["launch_url"] == config["target_link_uri"]

    response = client.post(urlsplit(form["launch_url"]).path,
                           data={"id_token": form["id_token"], "state": form["state"]})
    assert response.status_code == 302, response.get_data(as_text=True)
    assert urlsplit(response.location).path == "/play"
    page = client.get(response.location)
    assert page.status_code == 200
    assert "Start the scenario" in page.get_data(as_text=True)  # the lesson opens the player
