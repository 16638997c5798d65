"""Deep linking driven by lti1p3platform, a platform implementation coachlab did not write:
its LtiDeepLinkingRequest reaches the picker and its response handling accepts the tool's JWT."""

from __future__ import annotations

import html
from urllib.parse import urlsplit

from flask import Flask
from flask.testing import FlaskClient

from tests.lti_tool.lti1p3platform_peer import (
    CLIENT_ID,
    INSTRUCTOR,
    ISSUER,
    GetRequest,
    Launch,
    Login,
    register,
)
from tests.lti_tool.lti_helpers import choose, field

RETURN_URL = f"{ISSUER}/deep-linking/return"
SCENARIO = "global-account-manager-5-accounts"


def test_lti1p3platform_deep_linking_round_trip(app: Flask, client: FlaskClient) -> None:
    config = client.get("/lti/config.json").get_json()
    platform = register(app, client, tool_keys="inline", deep_linking=True,
                        platform_key_set_url=f"{ISSUER}/jwks")

    login = Login(None, platform)
    login.set_lti_message_hint(hint="deep-link-17")
    login.set_deeplinking_launch_url()
    to_platform = client.get(login.initiate_login("teacher-17"))
    assert to_platform.status_code == 302, to_platform.get_data(as_text=True)

    launch = Launch(GetRequest(to_platform.location), platform)
    launch.set_user_data("teacher-17", [INSTRUCTOR], full_name="Tess Teacher")
    launch.set_launch_context_claim("course-17", context_title="Course 17")
    launch.set_dl(RETURN_URL, title="Add an activity", accept_types={"ltiResourceLink"},
                  extra_data={"placement": "week-3"})
    form = launch.lti_launch()
    response = client.post(urlsplit(form["launch_url"]).path,
                           data={"id_token": form["id_token"], "state": form["state"]})
    assert response.status_code == 302, response.get_data(as_text=True)
    picker = client.get(response.location)
    assert picker.status_code == 200
    picker_page = html.unescape(picker.get_data(as_text=True))
    assert f'value="scenario:{SCENARIO}"' in picker_page

    returned = choose(client, picker_page, [f"scenario:{SCENARIO}"], attempts_allowed="2",
                      attempt_policy="best", points="25")
    assert returned.status_code == 200, returned.get_data(as_text=True)
    page = html.unescape(returned.get_data(as_text=True))
    assert f'action="{RETURN_URL}"' in page

    items = platform.validate_deeplinking_resp({"JWT": field(page, "JWT")})
    assert len(items) == 1
    item = items[0]
    assert item["type"] == "ltiResourceLink"
    assert item["url"] == config["target_link_uri"]
    assert item["custom"] == {"scenario": SCENARIO, "attempts_allowed": "2",
                              "attempt_policy": "best", "points": "25"}
    assert item["lineItem"]["scoreMaximum"] == 25.0
    assert item["lineItem"]["resourceId"] == f"scenario:{SCENARIO}"
    body = platform.tool_validate_and_decode(field(page, "JWT"))
    assert body["https://purl.imsglobal.org/spec/lti-dl/claim/data"] == {"placement": "week-3"}
    assert body["aud"] == [ISSUER] and body["iss"] == CLIENT_ID
