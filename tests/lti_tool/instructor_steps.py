"""Shared steps of the instructor, admin and authorization tests: graded attempts by several
learners, staff launches (of this course, another course, another platform)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from flask import Flask
from flask.testing import FlaskClient

from lti_tool import db
from lti_tool.lti.references import csrf_token, load_launch
from lti_tool.platforms import PlatformSpec, add_platform
from tests.conftest import Launcher, PlatformInfo
from tests.lti_tool.flows import attempt_scenario, correct_answers, open_player, submit

WRONG_PLAN = "Tell her to work harder and I will take over the big accounts myself."


def token_of(location: str) -> str:
    """The launch token in a redirect after a launch."""
    return parse_qs(urlsplit(location).query)["launch"][0]


def staff_token(launch: Launcher, role: str = "instructor", subject: str | None = None,
                link_id: str | None = None, context: dict[str, str] | None = None) -> str:
    """Launch as staff (optionally on another resource link or course); the launch token."""

    def tamper(claims: dict[str, Any]) -> None:
        if link_id is not None:
            claims["https://purl.imsglobal.org/spec/lti/claim/resource_link"] = {
                "id": link_id, "title": f"Placement {link_id}"}
        if context is not None:
            claims["https://purl.imsglobal.org/spec/lti/claim/context"] = context

    response = launch(role=role, subject=subject, tamper=tamper)
    assert response.status_code == 302, response.get_data(as_text=True)
    return token_of(response.location)


def play(launch: Launcher, client: FlaskClient, app: Flask, subject: str,
         wrong: bool = False, name: str | None = None) -> int:
    """A learner plays and submits (right or partly wrong answers); the attempt id."""

    def rename(claims: dict[str, Any]) -> None:
        if name is not None:
            claims["name"] = name

    page, _ = open_player(launch, client, subject=subject, tamper=rename)
    scenario = attempt_scenario(app)
    answers: dict[str, Any] = correct_answers(scenario)
    if wrong:
        for step in scenario.steps:
            if step.grader == "single_choice":
                answers[step.id] = next(o.id for o in step.options if o.id not in step.key)
            elif step.grader == "coaching_focus":
                answers[f"{step.id}.task"] = next(
                    o.id for o in step.options if o.id not in step.key)
            elif step.grader == "coaching_plan":
                answers[step.id] = WRONG_PLAN
    response = submit(client, page, answers)
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(parse_qs(urlsplit(response.location).query)["attempt"][0])


def csrf_for(app: Flask, token: str) -> str:
    """The CSRF token a page of this launch would carry."""
    with app.test_request_context():
        return csrf_token(load_launch(token))


def link_id_of(app: Flask, token: str) -> int:
    """The placement row id of a launch."""
    with app.test_request_context():
        return load_launch(token).link_id


def other_platform(app: Flask, keys: Any) -> PlatformInfo:
    """A second LMS registered with the tool (same ids for course and link, other issuer)."""
    info = PlatformInfo(keys=keys, issuer="https://other-lms.example.test",
                        client_id="other-client")
    with db.database(app).sessions() as session:
        add_platform(session, PlatformSpec(
            issuer=info.issuer, client_id=info.client_id, deployment_ids=(info.deployment_id,),
            auth_login_url=f"{info.issuer}/auth", auth_token_url=f"{info.issuer}/token",
            key_set_url=f"{info.issuer}/jwks", key_set=info.keys.jwks(),
        ))
        session.commit()
    return info
