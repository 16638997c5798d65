"""Grade and data integrity: the server scores, attempts stay closed once submitted, nothing
reveals an answer before submission, and no learner route lets a launch reach another
learner's attempt or another placement (IDOR over every route in app.url_map)."""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from lti_tool import db
from lti_tool.models import Attempt, ResourceLink, StepResponse
from scenarios.library import load_library
from tests.conftest import CLAIM, Launcher, landing
from tests.lti_tool.flows import (
    GOOD_PLAN,
    assert_rejected,
    attempt_scenario,
    correct_answers,
    form_of,
    open_player,
    submit,
)

PUBLIC_PREFIXES = ("static", "lti.", "demo_lms.", "index", "ops.")
"""Endpoints reachable without a launch reference: the protocol, assets, the demo LMS and
the health and readiness checks (lti_tool/ops.py: they show no user data)."""

MARKER = "VICTIM-PRIVATE-ANSWER-7c1f"


def _state(app: Flask) -> list[tuple[Any, ...]]:
    """Every attempt and answer, to prove a request changed nothing."""
    with db.database(app).sessions() as session:
        attempts = [(a.id, a.status, a.score, a.user_pk, a.resource_link_pk)
                    for a in session.scalars(select(Attempt).order_by(Attempt.id))]
        answers = [(r.attempt_id, r.step_id, repr(r.value), r.state)
                   for r in session.scalars(select(StepResponse).order_by(StepResponse.id))]
    return attempts + answers


def _token(location: str) -> str:
    return parse_qs(urlsplit(location).query)["launch"][0]


def _victim_attempts(launch: Launcher, client: FlaskClient, app: Flask) -> list[int]:
    """A learner with a submitted attempt and an open one holding a private draft."""
    page, token = open_player(launch, client, subject="victim")
    answers = correct_answers(attempt_scenario(app))
    answers = {k: (f"{GOOD_PLAN} {MARKER}" if k == "plan" else v) for k, v in answers.items()}
    assert submit(client, page, answers).status_code == 302
    result = client.get(f"/play?launch={token}", follow_redirects=True).get_data(as_text=True)
    client.post("/play/again", data={"launch": token, "csrf_token": form_of(result, "csrf_token")})
    page = client.get(f"/play?launch={token}").get_data(as_text=True)
    assert submit(client, page, {"plan": f"draft {MARKER}"}).status_code == 400
    with db.database(app).sessions() as session:
        return list(session.scalars(select(Attempt.id).order_by(Attempt.id)))


def _url(rule: Any, attempt_id: int) -> str:
    values = {arg: (attempt_id if "int" in type(rule._converters[arg]).__name__.lower() else "x")
              for arg in rule.arguments}
    path = rule.rule
    for arg, value in values.items():
        path = re.sub(rf"<[^>]*{arg}>", str(value), path)
    return path


def _protected_rules(app: Flask) -> list[Any]:
    rules = [rule for rule in app.url_map.iter_rules()
             if not rule.endpoint.startswith(PUBLIC_PREFIXES)]
    assert {"learner.play", "learner.submit", "learner.result", "learner.again",
            "learner.lesson", "learner.seller", "learner.step", "learner.save_step",
            "learner.review", "learner.confirm", "learner.go", "learner.autosave"} <= {
        rule.endpoint for rule in rules}
    return rules


def test_every_route_needs_a_launch(client: FlaskClient, app: Flask) -> None:
    for rule in _protected_rules(app):
        for method in sorted((rule.methods or set()) & {"GET", "POST"}):
            response = client.open(_url(rule, 1), method=method, data={"attempt": "1"})
            assert 400 <= response.status_code < 500, (rule.rule, method, response.status_code)


def test_no_route_lets_a_learner_reach_another_learners_attempt(
    launch: Launcher, client: FlaskClient, app: Flask
) -> None:
    victim_ids = _victim_attempts(launch, client, app)
    page, token = open_player(launch, client, subject="attacker")
    csrf = form_of(page, "csrf_token")
    before = _state(app)
    answers = correct_answers(attempt_scenario(app))
    for rule in _protected_rules(app):
        for victim in victim_ids:
            for method in sorted((rule.methods or set()) & {"GET", "POST"}):
                data = {"launch": token, "csrf_token": csrf, "attempt": str(victim),
                        "attempt_id": str(victim), **answers}
                if method == "GET":
                    response = client.get(_url(rule, victim), query_string={
                        "launch": token, "attempt": victim, "attempt_id": victim})
                else:
                    response = client.post(_url(rule, victim), data=data)
                body = response.get_data(as_text=True)
                assert response.status_code < 500, (rule.rule, method, body)
                if response.status_code in (301, 302, 303):
                    body += client.get(response.location).get_data(as_text=True)
                # The attacker never submitted: any score or answer shown is the victim's.
                for leak in (MARKER, "total-score", "step-score"):
                    assert leak not in html.unescape(body), (rule.rule, method, victim, leak)
    after = [row for row in _state(app) if row not in before]
    with db.database(app).sessions() as session:
        attacker_pk = session.scalar(select(Attempt.user_pk).order_by(Attempt.id.desc()))
        touched = {a for a in session.scalars(select(Attempt)) if a.id in victim_ids}
    # The victim's attempts and answers are exactly as they were.
    assert [row for row in before if row[0] in victim_ids and len(row) == 5] == [
        (a.id, a.status, a.score, a.user_pk, a.resource_link_pk)
        for a in sorted(touched, key=lambda a: a.id)]
    assert all(row[0] not in victim_ids for row in after if len(row) == 4)
    assert attacker_pk is not None


def test_a_launch_for_one_placement_cannot_act_on_another(
    launch: Launcher, client: FlaskClient, app: Flask
) -> None:
    def other_course(claims: dict[str, Any]) -> None:
        claims[CLAIM + "context"] = {"id": "course-2", "title": "Other course"}
        claims[CLAIM + "resource_link"] = {"id": "link-2", "title": "Elsewhere"}

    elsewhere = launch(role="learner", tamper=other_course)
    other_page = elsewhere.get_data(as_text=True)
    other_attempt = int(form_of(other_page, "attempt"))
    page, token = open_player(launch, client)
    answers = correct_answers(attempt_scenario(app))
    # My own attempt, but on the other placement: this launch (course-1) cannot touch it.
    assert_rejected(client.get(f"/play/result?launch={token}&attempt={other_attempt}"),
                    f"no attempt {other_attempt} on this activity")
    data = {"launch": token, "csrf_token": form_of(page, "csrf_token"),
            "attempt": str(other_attempt), **answers}
    assert_rejected(client.post("/play/submit", data=data), "no attempt")
    # Nor can an instructor of course-1 open it.
    staff = _token(launch(role="instructor").location)
    assert_rejected(client.get(f"/play/result?launch={staff}&attempt={other_attempt}"),
                    "no attempt")
    with db.database(app).sessions() as session:
        assert session.get(Attempt, other_attempt).status == "in_progress"  # type: ignore[union-attr]


def test_posted_score_fields_are_ignored(
    launch: Launcher, client: FlaskClient, app: Flask
) -> None:
    page, _ = open_player(launch, client)
    scenario = attempt_scenario(app)
    wrong = correct_answers(scenario)
    focus = next(s for s in scenario.steps if s.grader == "coaching_focus")
    wrong[f"{focus.id}.task"] = next(o.id for o in focus.options if o.id != focus.key[0])
    forged = {"score": "1.0", "scoreGiven": "100", "attempt_score": "100", "total": "1",
              f"{focus.id}.score": "1", "status": "graded"}
    assert submit(client, page, wrong, **forged).status_code == 302
    page2, _ = open_player(launch, client, subject="honest")
    assert submit(client, page2, wrong).status_code == 302
    with db.database(app).sessions() as session:
        forged_score, honest_score = (a.score for a in session.scalars(
            select(Attempt).order_by(Attempt.id)))
    assert forged_score == honest_score and forged_score is not None and forged_score < 1


def test_a_submitted_attempt_cannot_be_changed(
    launch: Launcher, client: FlaskClient, app: Flask
) -> None:
    page, _ = open_player(launch, client)
    answers = correct_answers(attempt_scenario(app))
    submit(client, page, answers)
    before = _state(app)
    changed = {**answers, "plan": "I will simply close her deals myself."}
    assert_rejected(submit(client, page, changed), "already submitted")
    assert_rejected(submit(client, page, {"plan": "draft over a submitted attempt"}))
    assert _state(app) == before


def test_nothing_reveals_an_answer_before_submission(
    launch: Launcher, client: FlaskClient, app: Flask
) -> None:
    library = load_library()
    for summary in library.summaries():
        response = launch(role="learner", custom={"scenario": summary.id},
                          subject=f"reader-{summary.id}")
        page = html.unescape(response.get_data(as_text=True))
        scenario = attempt_scenario(app)
        secrets = [s.feedback for s in scenario.steps if s.feedback]
        secrets += [o.feedback for s in scenario.steps for o in s.options if o.feedback]
        secrets += [c.feedback_met for s in scenario.steps for c in s.criteria if c.feedback_met]
        for secret in secrets:
            # A line of the teaching explanation is distinctive; the page must not carry it.
            line = max(secret.splitlines(), key=len).strip()[:80]
            assert line not in page, (summary.id, line)
        # The result page of an open attempt sends the learner back to the player.
        attempt = form_of(page, "attempt")
        token = _token(landing(response))
        early = client.get(f"/play/result?launch={token}&attempt={attempt}")
        assert early.status_code == 302 and urlsplit(early.location).path == "/play"


def test_an_over_long_answer_is_refused_with_the_limit_and_the_draft_kept(
    launch: Launcher, client: FlaskClient, app: Flask
) -> None:
    from lti_tool.learner import FREE_TEXT_LIMIT

    page, _ = open_player(launch, client)
    assert submit(client, page, {"plan": "my first draft"}).status_code == 400
    response = submit(client, page, {"plan": "x" * (FREE_TEXT_LIMIT + 1)})
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert f"at most {FREE_TEXT_LIMIT} characters" in text and str(FREE_TEXT_LIMIT + 1) in text
    with db.database(app).sessions() as session:
        plan = session.scalars(select(StepResponse).where(StepResponse.step_id == "plan")).one()
        assert plan.value == "my first draft"


def test_no_submit_past_the_attempt_limit(
    launch: Launcher, client: FlaskClient, app: Flask
) -> None:
    pytest.importorskip("lti_tool.placements", reason="attempt limits arrive with lti-services")
    page, token = open_player(launch, client)
    with db.database(app).sessions() as session:
        link = session.scalars(select(ResourceLink)).one()
        link.settings = {"attempts_allowed": 1}
        session.commit()
    answers = correct_answers(attempt_scenario(app))
    submit(client, page, answers)
    result = client.get(f"/play?launch={token}", follow_redirects=True).get_data(as_text=True)
    assert "/play/again" not in result  # no button to start one
    # Forging the request with the launch's own CSRF token does not start one either.
    again = client.post("/play/again", data={"launch": token,
                                             "csrf_token": form_of(page, "csrf_token")})
    assert again.status_code < 500
    assert_rejected(submit(client, page, answers))
    with db.database(app).sessions() as session:
        assert len(session.scalars(select(Attempt)).all()) == 1
