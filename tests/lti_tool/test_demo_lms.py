"""The built-in demo LMS, driven through the test client: launch, play, grade arrives over AGS."""

from __future__ import annotations

import html
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from lti_tool import db
from lti_tool.demo_lms import register_demo_platform
from lti_tool.models import Attempt, DemoScore
from lti_tool.outbox import deliver_due
from tests.conftest import landing, make_app
from tests.lti_tool.flows import attempt_scenario, correct_answers, submit
from tests.lti_tool.lti_helpers import choose, field


@pytest.fixture
def demo_app(tmp_path: Path) -> Flask:
    app = make_app(tmp_path, DEMO=True)
    register_demo_platform(app)
    return app


def _field(page: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert match, (name, page)
    return html.unescape(match.group(1))


def _iframe_src(page: str) -> str:
    match = re.search(r'<iframe[^>]*src="([^"]+)"', page)
    assert match, page
    return html.unescape(match.group(1))


def _auth_url(client: FlaskClient, login_url: str) -> str:
    """The platform auth URL the tool's login page goes on to after storing its state in the
    demo LMS (LTI client-side storage; the script does that in a browser)."""
    login = client.get(login_url)
    assert login.status_code == 200, login.get_data(as_text=True)
    match = re.search(r'data-next="([^"]+)"', login.get_data(as_text=True))
    assert match, login.get_data(as_text=True)
    return html.unescape(match.group(1))


def demo_launch(client: FlaskClient, person: str, scenario: str, *,
                start: str | None = None) -> str:
    """Walk the demo LMS launch like a browser; return the tool page's URL."""
    start = start or f"/demo/launch?person={person}&scenario={scenario}"
    page = client.get(start).get_data(as_text=True)
    login_url = _iframe_src(page)
    assert urlsplit(login_url).path == "/lti/login"
    auth = _auth_url(client, login_url)
    assert urlsplit(auth).path == "/demo/auth"
    form_post = client.get(auth).get_data(as_text=True)
    launched = client.post("/lti/launch", data={"id_token": _field(form_post, "id_token"),
                                                "state": _field(form_post, "state")})
    return landing(launched)


def test_home_lists_people_and_scenarios(demo_app: Flask) -> None:
    page = demo_app.test_client().get("/demo/").get_data(as_text=True)
    assert "Ada Learner" in page and "Ivo Instructor" in page
    assert "territory-rep-300-accounts" in page and "global-account-manager-5-accounts" in page


def test_root_opens_the_demo_lms(demo_app: Flask) -> None:
    assert urlsplit(demo_app.test_client().get("/").location).path == "/demo/"


def test_demo_is_absent_without_demo_mode(client: FlaskClient) -> None:
    assert client.get("/demo/").status_code == 404


def test_learner_launch_play_and_the_score_reaches_the_gradebook(demo_app: Flask) -> None:
    client = demo_app.test_client()
    player_url = demo_launch(client, "demo-learner-ada", "territory-rep-300-accounts")
    assert urlsplit(player_url).path == "/play"
    page = client.get(player_url).get_data(as_text=True)
    response = submit(client, page, correct_answers(attempt_scenario(demo_app)))
    assert response.status_code == 302
    assert "will be sent to your course" in client.get(response.location).get_data(as_text=True)
    assert deliver_due(demo_app).delivered == 1
    with db.database(demo_app).sessions() as session:
        attempt = session.scalars(select(Attempt)).one()
        assert attempt.grade_sync_status == "sent", attempt.grade_sync_error
        score = session.scalars(select(DemoScore)).one()
        assert score.user_id == "demo-learner-ada"
        assert score.lineitem == "demo-course-1/territory-rep-300-accounts"
        assert score.score_maximum == 100
        assert score.score_given == pytest.approx(round((attempt.score or 0) * 100, 2))
        assert score.activity_progress == "Completed"
    gradebook = client.get("/demo/gradebook").get_data(as_text=True)
    assert "Ada Learner" in gradebook and f"{score.score_given:g} / 100" in gradebook


def test_instructor_launch_opens_the_overview(demo_app: Flask) -> None:
    client = demo_app.test_client()
    url = demo_launch(client, "demo-instructor-ivo", "territory-rep-300-accounts")
    assert urlsplit(url).path == "/overview"
    assert "Placement overview" in client.get(url).get_data(as_text=True)


def test_auth_refuses_a_foreign_redirect_uri(demo_app: Flask) -> None:
    client = demo_app.test_client()
    page = client.get("/demo/launch?person=demo-learner-ada&scenario=territory-rep-300-accounts")
    login_url = _iframe_src(page.get_data(as_text=True))
    auth = _auth_url(client, login_url).replace(
        "redirect_uri=http%3A%2F%2Flocalhost%2Flti%2Flaunch",
        "redirect_uri=https%3A%2F%2Fevil.test")
    refused = client.get(auth)
    assert refused.status_code == 400
    assert "is not registered for this tool" in html.unescape(refused.get_data(as_text=True))


def test_auth_refuses_a_forged_login_hint(demo_app: Flask) -> None:
    client = demo_app.test_client()
    refused = client.get("/demo/auth?response_type=id_token&scope=openid&client_id="
                         "coachlab-demo-tool&redirect_uri=http%3A%2F%2Flocalhost%2Flti%2Flaunch"
                         "&state=s&nonce=n&login_hint=forged&lti_message_hint=forged")
    assert refused.status_code == 400
    assert "login hint is not one this demo LMS issued" in refused.get_data(as_text=True)


def test_token_endpoint_refuses_an_assertion_not_signed_by_the_tool(demo_app: Flask) -> None:
    import jwt

    from lti_tool.keys import generate_private_pem

    assertion = jwt.encode({"iss": "coachlab-demo-tool", "sub": "coachlab-demo-tool",
                            "aud": "http://localhost/demo/token", "exp": 9999999999},
                           generate_private_pem(), algorithm="RS256",
                           headers={"kid": demo_app.extensions["coachlab_keys"].kid})
    response = demo_app.test_client().post("/demo/token", data={
        "grant_type": "client_credentials", "client_assertion": assertion, "scope": "x",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"})
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_client"


def test_score_endpoint_needs_a_token(demo_app: Flask) -> None:
    response = demo_app.test_client().post(
        "/demo/ags/demo-course-1/lineitems/x/scores", json={"userId": "u"})
    assert response.status_code == 400
    assert "bearer token" in response.get_data(as_text=True)
    with db.database(demo_app).sessions() as session:
        assert session.scalars(select(DemoScore)).all() == []


def test_ags_failure_is_recorded_and_the_learner_still_sees_the_result(demo_app: Flask) -> None:
    client = demo_app.test_client()
    player_url = demo_launch(client, "demo-learner-ben", "territory-rep-300-accounts")
    page = client.get(player_url).get_data(as_text=True)
    demo_app.config["HTTP_SESSION_FACTORY"] = _refusing_session
    response = submit(client, page, correct_answers(attempt_scenario(demo_app)))
    assert response.status_code == 302
    assert client.get(response.location).status_code == 200
    assert deliver_due(demo_app).retrying == 1
    with db.database(demo_app).sessions() as session:
        attempt = session.scalars(select(Attempt)).one()
        assert attempt.grade_sync_status == "pending"
        assert "refused" in (attempt.grade_sync_error or "")


def _refusing_session() -> object:
    import requests

    class Refusing(requests.Session):
        def request(  # type: ignore[override]
            self, *args: object, **kwargs: object
        ) -> requests.Response:
            raise requests.ConnectionError("connection refused by test")

    return Refusing()


def test_ags_access_token_is_reused_across_requests(demo_app: Flask) -> None:
    from tests.conftest import wsgi_session

    token_requests: list[str] = []

    def counting_session() -> object:
        session = wsgi_session(demo_app)
        session.hooks["response"].append(
            lambda r, *a, **k: token_requests.append(r.url) if r.url.endswith("/token") else None)
        return session

    demo_app.config["HTTP_SESSION_FACTORY"] = counting_session
    for person in ("demo-learner-ada", "demo-learner-ben"):
        client = demo_app.test_client()
        page = client.get(demo_launch(client, person, "territory-rep-300-accounts"))
        submit(client, page.get_data(as_text=True), correct_answers(attempt_scenario(demo_app)))
        assert deliver_due(demo_app).delivered == 1
    with db.database(demo_app).sessions() as session:
        assert len(session.scalars(select(DemoScore)).all()) == 2
    assert len(token_requests) == 1


def test_nrps_memberships_with_a_tool_token(demo_app: Flask) -> None:
    from pylti1p3.names_roles import NamesRolesProvisioningService

    from lti_tool.demo_lms.platform import CLIENT_ID, issuer
    from lti_tool.lti.ags import CachedTokenServiceConnector
    from lti_tool.lti.launch import http_session, tool_conf

    with demo_app.test_request_context():
        conf = tool_conf()
        registration = conf.to_registration(conf.find_registration_row(issuer(), CLIENT_ID))
        connector = CachedTokenServiceConnector(registration, http_session())
        members = NamesRolesProvisioningService(connector, {
            "context_memberships_url": "http://localhost/demo/nrps/demo-course-1/memberships",
            "service_versions": ["2.0"]}).get_members()
    assert {m["user_id"] for m in members} == {
        "demo-learner-ada", "demo-learner-ben", "demo-instructor-ivo"}


def test_instructor_adds_an_activity_by_deep_linking_and_a_learner_plays_it(
    demo_app: Flask,
) -> None:
    client = demo_app.test_client()
    home = client.get("/demo/").get_data(as_text=True)
    assert "Add activities (Deep Linking)" in home
    picker_url = demo_launch(client, "demo-instructor-ivo", "",
                             start="/demo/deep-link?person=demo-instructor-ivo")
    assert urlsplit(picker_url).path.startswith("/lti/deep-link")
    picker = html.unescape(client.get(picker_url).get_data(as_text=True))
    returned = choose(client, picker, ["scenario:global-account-manager-5-accounts"],
                      attempts_allowed="2", attempt_policy="best", points="25")
    assert returned.status_code == 200, returned.get_data(as_text=True)
    page = html.unescape(returned.get_data(as_text=True))
    assert urlsplit(_form_action(page)).path == "/demo/deep-linking/return"

    added = client.post("/demo/deep-linking/return", data={"JWT": field(page, "JWT")})
    assert added.status_code == 200, added.get_data(as_text=True)
    assert "Added to the course" in added.get_data(as_text=True)
    home = html.unescape(client.get("/demo/").get_data(as_text=True))
    link = re.search(r'href="(/demo/launch\?person=demo-learner-ada&activity=(dl-\w+))"', home)
    assert link, home

    player = demo_launch(client, "demo-learner-ada", "", start=link.group(1))
    assert urlsplit(player).path == "/play"
    response = submit(client, client.get(player).get_data(as_text=True),
                      correct_answers(attempt_scenario(demo_app)))
    assert response.status_code == 302
    assert deliver_due(demo_app).delivered == 1
    with db.database(demo_app).sessions() as session:
        attempt = session.scalars(select(Attempt)).one()
        assert attempt.scenario_id == "global-account-manager-5-accounts"
        score = session.scalars(select(DemoScore)).one()
        # The points chosen in the picker travel in the link's custom parameters.
        assert score.lineitem == f"demo-course-1/{link.group(2)}"
        assert score.score_maximum == 25


def test_deep_linking_return_refuses_a_response_the_demo_did_not_ask_for(
    demo_app: Flask,
) -> None:
    import jwt

    keys = demo_app.extensions["coachlab_keys"]
    forged = jwt.encode(
        {"iss": "coachlab-demo-tool", "aud": "http://localhost/demo", "iat": 1,
         "exp": 9999999999,
         "nonce": "n",
         "https://purl.imsglobal.org/spec/lti/claim/message_type": "LtiDeepLinkingResponse",
         "https://purl.imsglobal.org/spec/lti/claim/deployment_id": "demo-deployment-1",
         "https://purl.imsglobal.org/spec/lti-dl/claim/data": "made-up",
         "https://purl.imsglobal.org/spec/lti-dl/claim/content_items": []},
        keys.private_pem, algorithm="RS256", headers={"kid": keys.kid})
    refused = demo_app.test_client().post("/demo/deep-linking/return", data={"JWT": forged})
    assert refused.status_code == 400
    assert "does not answer a request this demo LMS made" in html.unescape(
        refused.get_data(as_text=True))
    unsigned = demo_app.test_client().post("/demo/deep-linking/return", data={"JWT": "x.y.z"})
    assert unsigned.status_code == 400
    assert "did not verify" in html.unescape(unsigned.get_data(as_text=True))


def test_only_the_instructor_may_start_deep_linking(demo_app: Flask) -> None:
    refused = demo_app.test_client().get("/demo/deep-link?person=demo-learner-ada")
    assert refused.status_code == 400
    assert "Only the course's instructor" in html.unescape(refused.get_data(as_text=True))


def _form_action(page: str) -> str:
    match = re.search(r'<form[^>]*action="([^"]+)"', page)
    assert match, page
    return html.unescape(match.group(1))
