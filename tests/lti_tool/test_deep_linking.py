"""Deep Linking 2.0: the picker, the signed response, and launches from the chosen links."""

from __future__ import annotations

import html
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from lti_tool import db
from lti_tool.models import ResourceLink
from tests.conftest import CLAIM, Launcher, PlatformInfo
from tests.lti_tool.flows import (
    assert_rejected,
    attempt_scenario,
    correct_answers,
    open_player,
    submit,
)
from tests.lti_tool.lti_helpers import (
    CONTENT_ITEMS,
    RETURN_URL,
    choose,
    deep_link_launch,
    field,
    open_picker,
    verify_tool_jwt,
)

SCENARIO = "territory-rep-300-accounts"


@pytest.mark.parametrize("role", ["instructor", "admin"])
def test_staff_deep_linking_launch_reaches_the_catalogue(
    launch: Launcher, client: FlaskClient, role: str
) -> None:
    response = deep_link_launch(launch, role=role)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert urlsplit(response.location).path == "/lti/deep-link"
    page = html.unescape(client.get(response.location).get_data(as_text=True))
    assert "Add coachlab content to your course" in page
    assert f'value="scenario:{SCENARIO}"' in page
    assert 'value="module:' in page
    assert "High-volume territory seller" in page and "20 min</td>" in page


def test_content_developer_may_pick(launch: Launcher, client: FlaskClient) -> None:
    def as_designer(claims: dict[str, object]) -> None:
        claims[CLAIM + "roles"] = [
            "http://purl.imsglobal.org/vocab/lis/v2/membership#ContentDeveloper"]
    def tamper(claims: dict[str, object]) -> None:
        _deep(claims)
        as_designer(claims)
    response = launch(role="learner", tamper=tamper)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert urlsplit(response.location).path == "/lti/deep-link"


def _deep(claims: dict[str, object]) -> None:
    claims[CLAIM + "message_type"] = "LtiDeepLinkingRequest"
    claims.pop(CLAIM + "resource_link")
    claims["https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"] = {
        "deep_link_return_url": RETURN_URL, "accept_types": ["ltiResourceLink"],
        "accept_presentation_document_targets": ["iframe"]}


@pytest.mark.parametrize("role", ["learner", "ta"])
def test_learners_cannot_reach_the_picker(launch: Launcher, role: str) -> None:
    response = deep_link_launch(launch, role=role)
    assert response.status_code == 403
    assert_rejected(response, "instructors, administrators and content developers")


def test_picker_without_a_deep_linking_launch_is_refused(client: FlaskClient) -> None:
    assert_rejected(client.get("/lti/deep-link?dl=forged"), "deep-linking launch")
    assert_rejected(client.get("/lti/deep-link"), "deep-linking launch")


def test_search_and_filters_work_server_side(launch: Launcher, client: FlaskClient) -> None:
    picker = open_picker(launch, client)
    token = field(picker, "dl")
    everything = client.get("/lti/deep-link", query_string={"dl": token}).get_data(as_text=True)
    found = html.unescape(client.get("/lti/deep-link", query_string={
        "dl": token, "q": "territory rep", "kind": "scenario"}).get_data(as_text=True))
    assert f'value="scenario:{SCENARIO}"' in found
    assert 'value="module:' not in found
    assert found.count('name="item"') < everything.count('name="item"')
    modules = client.get("/lti/deep-link", query_string={"dl": token, "kind": "module"})
    assert 'value="scenario:' not in modules.get_data(as_text=True)
    nothing = client.get("/lti/deep-link", query_string={"dl": token, "q": "zzzz-no-such"})
    assert "Nothing matches" in nothing.get_data(as_text=True)


def test_choosing_returns_signed_content_items(
    launch: Launcher, client: FlaskClient, platform: PlatformInfo
) -> None:
    picker = open_picker(launch, client, data="opaque-platform-data")
    response = choose(client, picker, [f"scenario:{SCENARIO}", "module:start-from-the-seller"],
                      attempts_allowed="3", attempt_policy="last", points="50")
    assert response.status_code == 200, response.get_data(as_text=True)
    page = html.unescape(response.get_data(as_text=True))
    assert f'action="{RETURN_URL}"' in page and "data-autosubmit" in page
    body = verify_tool_jwt(client, field(page, "JWT"), audience=platform.issuer)
    assert body["iss"] == platform.client_id
    assert body[CLAIM + "message_type"] == "LtiDeepLinkingResponse"
    assert body[CLAIM + "deployment_id"] == platform.deployment_id
    assert body["https://purl.imsglobal.org/spec/lti-dl/claim/data"] == "opaque-platform-data"
    items = body[CONTENT_ITEMS]
    assert [item["type"] for item in items] == ["ltiResourceLink", "ltiResourceLink"]
    module, scenario = items  # catalogue order: modules first
    assert module["custom"]["module"] == "start-from-the-seller"
    assert scenario["custom"] == {"scenario": SCENARIO, "attempts_allowed": "3",
                                  "attempt_policy": "last", "points": "50"}
    assert scenario["title"] and scenario["text"]
    assert scenario["url"] == "http://localhost/lti/launch"
    assert scenario["lineItem"] == {"scoreMaximum": 50.0, "label": scenario["title"],
                                    "resourceId": f"scenario:{SCENARIO}", "tag": "coachlab"}


def test_no_data_claim_when_the_platform_sent_none(
    launch: Launcher, client: FlaskClient, platform: PlatformInfo
) -> None:
    picker = open_picker(launch, client, accept_lineitem=False)
    page = html.unescape(choose(client, picker, [f"scenario:{SCENARIO}"]).get_data(as_text=True))
    body = verify_tool_jwt(client, field(page, "JWT"), audience=platform.issuer)
    assert "https://purl.imsglobal.org/spec/lti-dl/claim/data" not in body
    assert "lineItem" not in body[CONTENT_ITEMS][0]
    assert body[CONTENT_ITEMS][0]["custom"]["attempts_allowed"] == ""


@pytest.mark.parametrize("accept_multiple", [False, "false", None])
def test_one_item_only_when_the_platform_takes_one(
    launch: Launcher, client: FlaskClient, accept_multiple: object
) -> None:
    picker = open_picker(launch, client, accept_multiple=accept_multiple)
    assert 'type="radio" name="item"' in picker
    response = choose(client, picker, [f"scenario:{SCENARIO}", "module:start-from-the-seller"])
    assert_rejected(response, "tick just one")


@pytest.mark.parametrize(("settings", "phrase"), [
    ({"attempts_allowed": "-2"}, "Attempts allowed is '-2'"),
    ({"attempt_policy": "worst"}, "Which attempt counts is 'worst'"),
    ({"points": "abc"}, "Points is 'abc'"),
    ({"points": "0"}, "Points is '0'"),
])
def test_bad_settings_show_the_picker_again_with_the_reason(
    launch: Launcher, client: FlaskClient, settings: dict[str, str], phrase: str
) -> None:
    picker = open_picker(launch, client)
    response = choose(client, picker, [f"scenario:{SCENARIO}"], **settings)
    assert_rejected(response, phrase)
    assert f'value="scenario:{SCENARIO}" id="item-scenario-{SCENARIO}" checked' in html.unescape(
        response.get_data(as_text=True))


def test_nothing_chosen_or_unknown_item_is_refused(launch: Launcher, client: FlaskClient) -> None:
    picker = open_picker(launch, client)
    assert_rejected(choose(client, picker, []), "Tick at least one")
    assert_rejected(choose(client, picker, ["scenario:nope"]), "Not in the catalogue")


def test_return_needs_the_picker_csrf_token(launch: Launcher, client: FlaskClient) -> None:
    picker = open_picker(launch, client)
    response = client.post("/lti/deep-link/return", data={
        "dl": field(picker, "dl"), "csrf_token": "forged", "item": f"scenario:{SCENARIO}"})
    assert_rejected(response, "CSRF")


def test_launch_from_a_chosen_link_honours_its_settings(
    launch: Launcher, client: FlaskClient, app: Flask, platform: PlatformInfo
) -> None:
    picker = open_picker(launch, client)
    page = html.unescape(choose(client, picker, [f"scenario:{SCENARIO}"], attempts_allowed="1",
                                attempt_policy="best", points="40").get_data(as_text=True))
    item = verify_tool_jwt(client, field(page, "JWT"), platform.issuer)[CONTENT_ITEMS][0]

    player, token = open_player(launch, client, custom=item["custom"])
    with db.database(app).sessions() as session:
        link = session.scalars(select(ResourceLink)).one()
        assert link.scenario_id == SCENARIO
        assert link.settings == {"attempts_allowed": 1, "attempt_policy": "best",
                                 "points": 40.0}
    done = submit(client, player, correct_answers(attempt_scenario(app)))
    assert done.status_code == 302
    result = client.get(done.location).get_data(as_text=True)
    assert "No attempts left on this activity." in result
    assert "Start a new attempt" not in result
    again = client.post("/play/again", data={
        "launch": token, "csrf_token": field(player, "csrf_token")})
    assert again.status_code == 403
    assert_rejected(again, "You have used all 1 attempt")
    assert "launch" in parse_qs(urlsplit(done.location).query)
