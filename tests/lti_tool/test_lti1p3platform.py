"""A launch produced by lti1p3platform, a platform implementation coachlab did not write."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import landing
from tests.lti_tool.lti1p3platform_peer import ISSUER, LEARNER, GetRequest, Launch, Login, register


def test_launch_from_lti1p3platform_lands_on_the_player(app: Flask, client: FlaskClient) -> None:
    config = client.get("/lti/config.json").get_json()
    platform = register(app, client, platform_key_set_url=f"{ISSUER}/jwks")

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
    assert response.status_code == 200, response.get_data(as_text=True)
    assert urlsplit(landing(response)).path == "/play"
    assert "Start the scenario" in response.get_data(as_text=True)
    page = client.get(landing(response))  # what a reload shows
    assert page.status_code == 200
    assert "Start the scenario" in page.get_data(as_text=True)  # the lesson opens the player
