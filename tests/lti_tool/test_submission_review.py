"""LtiSubmissionReviewRequest: the gradebook opens one learner's attempt review."""

from __future__ import annotations

import html
from typing import Any
from urllib.parse import parse_qs, urlsplit

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.conftest import CLAIM, Launcher
from tests.lti_tool.flows import (
    assert_rejected,
    attempt_scenario,
    correct_answers,
    open_player,
    submit,
)

AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
SCENARIO = "territory-rep-300-accounts"


def review(launch: Launcher, role: str, for_user: str, subject: str | None = None,
           link: str = "link-1") -> TestResponse:
    def tamper(claims: dict[str, Any]) -> None:
        claims[CLAIM + "message_type"] = "LtiSubmissionReviewRequest"
        claims[CLAIM + "for_user"] = {"user_id": for_user}
        claims[CLAIM + "resource_link"] = {"id": link}
        claims[AGS] = {"scope": [], "lineitem": "https://lms.example.test/lineitems/1"}
    return launch(role=role, tamper=tamper, subject=subject,
                  custom={"scenario": SCENARIO})


def _graded_attempt(launch: Launcher, client: FlaskClient, app: Flask) -> int:
    page, _ = open_player(launch, client, custom={"scenario": SCENARIO})
    done = submit(client, page, correct_answers(attempt_scenario(app)))
    assert done.status_code == 302
    return int(parse_qs(urlsplit(done.location).query)["attempt"][0])


def test_instructor_sees_the_learners_attempt(
    launch: Launcher, client: FlaskClient, app: Flask
) -> None:
    attempt_id = _graded_attempt(launch, client, app)
    response = review(launch, "instructor", for_user="user-learner")
    assert response.status_code == 302, response.get_data(as_text=True)
    assert urlsplit(response.location).path == "/play/result"
    assert parse_qs(urlsplit(response.location).query)["attempt"] == [str(attempt_id)]
    page = client.get(response.location)
    assert page.status_code == 200
    assert "your result" in html.unescape(page.get_data(as_text=True))


def test_learner_sees_their_own_attempt_only(
    launch: Launcher, client: FlaskClient, app: Flask
) -> None:
    attempt_id = _graded_attempt(launch, client, app)
    own = review(launch, "learner", for_user="user-learner")
    assert own.status_code == 302
    assert parse_qs(urlsplit(own.location).query)["attempt"] == [str(attempt_id)]
    other = review(launch, "learner", for_user="someone-else")
    assert_rejected(other, "only your own submission")


def test_no_submitted_attempt_is_a_clear_404(
    launch: Launcher, client: FlaskClient, app: Flask
) -> None:
    open_player(launch, client, custom={"scenario": SCENARIO})  # started, not submitted
    response = review(launch, "instructor", for_user="user-learner")
    assert response.status_code == 404
    assert_rejected(response, "no submitted attempt")
    assert_rejected(review(launch, "instructor", for_user="nobody"), "no submitted attempt")


def test_review_is_scoped_to_the_resource_link(
    launch: Launcher, client: FlaskClient, app: Flask
) -> None:
    _graded_attempt(launch, client, app)
    other_link = review(launch, "instructor", for_user="user-learner", link="link-2")
    assert_rejected(other_link, "no submitted attempt")
