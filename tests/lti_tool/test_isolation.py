"""Two registrations sending the same context, user and resource link ids never see each other's
data: not in the overview, not through a launch reference, not in submission review."""

from __future__ import annotations

import html
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from lti_tool import db
from lti_tool.keys import KeyPair
from lti_tool.models import Attempt, Context, ResourceLink, User
from lti_tool.platforms import PlatformSpec, add_platform
from tests.conftest import CLAIM, Launcher, PlatformInfo
from tests.lti_tool.flows import (
    assert_rejected,
    attempt_scenario,
    correct_answers,
    open_player,
    submit,
)
from tests.lti_tool.test_submission_review import review

SCENARIO = "territory-rep-300-accounts"


@pytest.fixture(params=["other-issuer", "same-issuer-other-client"])
def second(request: pytest.FixtureRequest, app: Flask, other_keys: KeyPair,
           platform: PlatformInfo) -> PlatformInfo:
    issuer = "https://other-lms.example.test" if request.param == "other-issuer" \
        else platform.issuer
    info = PlatformInfo(keys=other_keys, issuer=issuer, client_id="second-client",
                        deployment_id=platform.deployment_id)
    with db.database(app).sessions() as session:
        add_platform(session, PlatformSpec(
            issuer=info.issuer, client_id=info.client_id, deployment_ids=(info.deployment_id,),
            auth_login_url=f"{info.issuer}/auth", auth_token_url=f"{info.issuer}/token",
            key_set_url=f"{info.issuer}/jwks", key_set=info.keys.jwks()))
        session.commit()
    return info


def _graded(launcher: Launcher, client: FlaskClient, app: Flask) -> tuple[int, str]:
    page, token = open_player(launcher, client, custom={"scenario": SCENARIO})
    done = submit(client, page, correct_answers(attempt_scenario(app)))
    assert done.status_code == 302
    return int(parse_qs(urlsplit(done.location).query)["attempt"][0]), token


def test_same_ids_make_separate_rows(
    app: Flask, client: FlaskClient, launch: Launcher, second: PlatformInfo
) -> None:
    launch(role="learner")
    Launcher(client, second)(role="learner")
    with db.database(app).sessions() as session:
        users = session.scalars(select(User)).all()
        assert [u.subject for u in users] == ["user-learner", "user-learner"]
        assert len({u.registration_id for u in users}) == 2
        assert len(session.scalars(select(Context)).all()) == 2
        assert len(session.scalars(select(ResourceLink)).all()) == 2


def test_overview_of_one_platform_hides_the_others_attempts(
    app: Flask, client: FlaskClient, launch: Launcher, second: PlatformInfo
) -> None:
    attempt_id, _ = _graded(launch, client, app)
    staff = Launcher(client, second)(role="instructor")
    page = html.unescape(client.get(staff.location).get_data(as_text=True))
    assert "No learner has started this activity yet." in page
    assert f"#{attempt_id}" not in page
    own = html.unescape(client.get(launch(role="instructor").location).get_data(as_text=True))
    assert f"#{attempt_id}" in own


def test_a_launch_reference_cannot_open_the_other_platforms_attempt(
    app: Flask, client: FlaskClient, launch: Launcher, second: PlatformInfo
) -> None:
    attempt_id, _ = _graded(launch, client, app)
    staff = Launcher(client, second)(role="instructor")
    token = parse_qs(urlsplit(staff.location).query)["launch"][0]
    response = client.get("/play/result", query_string={"launch": token, "attempt": attempt_id})
    assert_rejected(response, f"There is no attempt {attempt_id}")


def test_submission_review_does_not_cross_platforms(
    app: Flask, client: FlaskClient, launch: Launcher, second: PlatformInfo
) -> None:
    _graded(launch, client, app)
    response = review(Launcher(client, second), "instructor", for_user="user-learner")
    assert_rejected(response, "no submitted attempt")
    assert review(launch, "instructor", for_user="user-learner").status_code == 302


def test_deployment_of_one_registration_is_not_the_others(
    app: Flask, client: FlaskClient, launch: Launcher, second: PlatformInfo
) -> None:
    def deployment(claims: dict[str, Any]) -> None:
        claims[CLAIM + "deployment_id"] = "only-on-first"
    with db.database(app).sessions() as session:
        from lti_tool.models import Deployment, PlatformRegistration

        first = session.scalars(select(PlatformRegistration).where(
            PlatformRegistration.client_id == launch.platform.client_id)).one()
        first.deployments.append(Deployment(deployment_id="only-on-first"))
        session.commit()
    assert launch(tamper=deployment).status_code == 200
    assert_rejected(Launcher(client, second)(tamper=deployment), "Unknown deployment")


def test_attempts_stay_with_their_registration(
    app: Flask, client: FlaskClient, launch: Launcher, second: PlatformInfo
) -> None:
    _graded(launch, client, app)
    _graded(Launcher(client, second), client, app)
    with db.database(app).sessions() as session:
        for attempt in session.scalars(select(Attempt)):
            assert attempt.user.registration_id == attempt.resource_link.registration_id
        assert len({a.resource_link_pk for a in session.scalars(select(Attempt))}) == 2
