"""The scenario player: what the page shows, submission committed before grading, results."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape
from sqlalchemy import select

from lti_tool import db
from lti_tool.models import Attempt, StepResponse, StepResultRecord
from scenarios.library import load_library
from tests.conftest import Launcher
from tests.lti_tool.flows import (
    GOOD_PLAN,
    SCENARIO,
    assert_rejected,
    attempt_scenario,
    correct_answers,
    form_of,
    open_player,
    submit,
)


def test_player_shows_briefing_exhibits_and_steps_but_no_answers(
    launch: Launcher, client: FlaskClient, app: Flask
) -> None:
    page, _ = open_player(launch, client, custom={"scenario": SCENARIO})
    scenario = attempt_scenario(app)
    assert escape(scenario.title) in page
    assert "Briefing" in page and "Exhibits" in page and "<table>" in page
    assert "Teaching notes" not in page
    for step in scenario.steps:
        assert escape(step.title) in page
        assert escape(step.feedback[:40]) not in page
        for option in step.options:
            if option.feedback:
                assert escape(option.feedback[:40]) not in page
    assert "<script" not in page  # the form works without JavaScript
    assert 'type="radio"' in page and "<select" in page and "<textarea" in page


def test_default_placement_is_the_territory_scenario(
    launch: Launcher, client: FlaskClient, app: Flask
) -> None:
    open_player(launch, client)
    assert attempt_scenario(app).id == SCENARIO


def test_custom_scenario_parameter_chooses_the_scenario(
    launch: Launcher, client: FlaskClient, app: Flask
) -> None:
    open_player(launch, client, custom={"scenario": "global-account-manager-5-accounts"})
    assert attempt_scenario(app).id == "global-account-manager-5-accounts"


def test_unknown_scenario_names_the_known_ones(launch: Launcher, client: FlaskClient) -> None:
    response = launch(role="learner", custom={"scenario": "nope"})
    page = client.get(response.location)
    assert_rejected(page, "'nope'", SCENARIO)


def test_submit_grades_stores_every_step_and_shows_the_result(
    launch: Launcher, client: FlaskClient, app: Flask
) -> None:
    page, _ = open_player(launch, client)
    scenario = attempt_scenario(app)
    response = submit(client, page, correct_answers(scenario))
    assert response.status_code == 302, response.get_data(as_text=True)
    result = client.get(response.location)
    text = result.get_data(as_text=True)
    assert result.status_code == 200
    assert "Score:" in text and "Teaching notes" in text
    for step in scenario.steps:
        assert escape(step.title) in text
    with db.database(app).sessions() as session:
        attempt = session.scalars(select(Attempt)).one()
        assert attempt.status in ("graded", "needs_review")
        assert attempt.score is not None and attempt.score > 0.7
        assert attempt.content_hash == scenario.content_hash
        assert attempt.variant_seed == scenario.variant_seed
        assert attempt.grade_sync_status == "not_available"  # the test launch had no AGS claim
        responses = session.scalars(select(StepResponse)).all()
        assert {r.step_id for r in responses} == {s.id for s in scenario.steps}
        assert {r.state for r in responses} == {"submitted"}
        results = {r.step_id: r for r in session.scalars(select(StepResultRecord))}
        assert set(results) == {s.id for s in scenario.steps}
        assert results["situation"].score == 1.0
        assert results["situation"].grader == "single_choice"
        assert all(r.grader_version for r in results.values())
        assert all(isinstance(r.criteria, list) and r.criteria for r in results.values())
    assert f"{round(attempt.score * 100)}%" in text


def test_wrong_focus_scores_lower_and_explains(
    launch: Launcher, client: FlaskClient, app: Flask
) -> None:
    page, _ = open_player(launch, client)
    scenario = attempt_scenario(app)
    answers = correct_answers(scenario)
    answers["focus.task"] = "negotiation"
    submit(client, page, answers)
    with db.database(app).sessions() as session:
        focus = session.scalars(
            select(StepResultRecord).where(StepResultRecord.step_id == "focus")).one()
        assert focus.score < 0.5 and focus.feedback


def test_incomplete_answers_are_kept_as_drafts_and_named(
    launch: Launcher, client: FlaskClient, app: Flask
) -> None:
    page, _ = open_player(launch, client)
    response = submit(client, page, {"situation": "territory", "critical_tasks.rank.coverage": "1"})
    text = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "give every task a rank" in text and "write your answer" in text
    assert 'value="territory" checked' in text
    with db.database(app).sessions() as session:
        attempt = session.scalars(select(Attempt)).one()
        assert attempt.status == "in_progress"
        drafts = {r.step_id: (r.value, r.state) for r in session.scalars(select(StepResponse))}
        assert drafts["situation"] == ("territory", "draft")


def test_duplicate_ranks_are_refused(launch: Launcher, client: FlaskClient, app: Flask) -> None:
    page, _ = open_player(launch, client)
    answers = correct_answers(attempt_scenario(app))
    for key in [k for k in answers if k.startswith("critical_tasks.rank.")]:
        answers[key] = "1"
    response = submit(client, page, answers)
    assert response.status_code == 400
    assert "use each rank from 1 to 6 exactly once" in response.get_data(as_text=True)


def test_submit_without_csrf_token_is_refused(launch: Launcher, client: FlaskClient) -> None:
    page, token = open_player(launch, client)
    response = client.post("/play/submit", data={"launch": token, "attempt": "1"})
    assert_rejected(response, "CSRF check failed")


def test_csrf_token_of_another_launch_is_refused(
    launch: Launcher, client: FlaskClient
) -> None:
    first, _ = open_player(launch, client)
    second, _ = open_player(launch, client)
    response = submit(client, second, {}, csrf_token=form_of(first, "csrf_token"))
    assert_rejected(response, "CSRF check failed")


def test_answers_are_committed_before_grading(
    launch: Launcher, client: FlaskClient, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    page, _ = open_player(launch, client)
    scenario = attempt_scenario(app)

    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("grader exploded")

    monkeypatch.setattr("graders.scoring.grade_attempt", broken)
    response = submit(client, page, correct_answers(scenario))
    text = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Your answers were saved" in text
    assert "Traceback" not in text and "grader exploded" not in text
    with db.database(app).sessions() as session:
        attempt = session.scalars(select(Attempt)).one()
        assert attempt.status == "submitted" and attempt.submitted_at is not None
        stored = {r.step_id: r for r in session.scalars(select(StepResponse))}
        assert stored["plan"].value == GOOD_PLAN and stored["plan"].state == "submitted"
        assert session.scalars(select(StepResultRecord)).all() == []


def test_a_submitted_attempt_cannot_be_resubmitted(
    launch: Launcher, client: FlaskClient, app: Flask
) -> None:
    page, _ = open_player(launch, client)
    answers = correct_answers(attempt_scenario(app))
    submit(client, page, answers)
    assert_rejected(submit(client, page, answers), "already submitted")


def test_player_after_submission_shows_the_result_and_allows_a_new_attempt(
    launch: Launcher, client: FlaskClient, app: Flask
) -> None:
    page, token = open_player(launch, client)
    submit(client, page, correct_answers(attempt_scenario(app)))
    again = client.get(f"/play?launch={token}")
    assert again.status_code == 302 and "/play/result" in again.location
    result = client.get(again.location).get_data(as_text=True)
    new = client.post("/play/again", data={"launch": token,
                                           "csrf_token": form_of(result, "csrf_token")})
    assert new.status_code == 302
    assert client.get(f"/play?launch={token}").status_code == 200
    with db.database(app).sessions() as session:
        statuses = [a.status for a in session.scalars(select(Attempt).order_by(Attempt.id))]
    assert len(statuses) == 2
    assert statuses[0] in ("graded", "needs_review") and statuses[1] == "in_progress"


def test_instructor_overview_lists_attempts_and_scores(
    launch: Launcher, client: FlaskClient, app: Flask
) -> None:
    page, _ = open_player(launch, client)
    submit(client, page, correct_answers(attempt_scenario(app)))
    overview = client.get(launch(role="instructor").location).get_data(as_text=True)
    assert "Test Learner" in overview
    with db.database(app).sessions() as session:
        attempt = session.scalars(select(Attempt)).one()
    assert f"{round((attempt.score or 0) * 100)}%" in overview
    assert attempt.status.replace("_", " ") in overview


def test_another_learner_cannot_read_my_result(
    launch: Launcher, client: FlaskClient, app: Flask
) -> None:
    page, _ = open_player(launch, client)
    submit(client, page, correct_answers(attempt_scenario(app)))
    other = launch(role="learner", subject="someone-else")
    token = parse_qs(urlsplit(other.location).query)["launch"][0]
    assert_rejected(client.get(f"/play/result?launch={token}&attempt=1"), "another learner")


def test_an_expired_launch_reference_is_refused(
    launch: Launcher, client: FlaskClient, app: Flask
) -> None:
    _, token = open_player(launch, client)
    app.config["LAUNCH_MAX_AGE"] = -1  # every reference is now older than allowed
    response = client.get(f"/play?launch={token}")
    assert response.status_code == 401
    assert "This launch is too old" in response.get_data(as_text=True)


def test_module_parameter_opens_the_modules_first_scenario(
    launch: Launcher, client: FlaskClient, app: Flask
) -> None:
    from course.catalogue import load_catalogue

    module = load_catalogue(None, load_library()).module("coaching-the-strategic-account-seller")
    open_player(launch, client, custom={"module": module.id})
    assert attempt_scenario(app).id == module.scenarios[0]


def test_unknown_module_is_named(launch: Launcher, client: FlaskClient) -> None:
    response = launch(role="learner", custom={"module": "no-such-module"})
    assert_rejected(client.get(response.location), "'no-such-module'", "custom parameter `module`")


def test_a_response_the_grader_refuses_reopens_the_attempt(
    launch: Launcher, client: FlaskClient, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    from graders.base import ResponseError

    page, token = open_player(launch, client)

    def refuse(*_: object, **__: object) -> None:
        raise ResponseError("step 'plan': expected text")

    monkeypatch.setattr("graders.scoring.grade_attempt", refuse)
    response = submit(client, page, correct_answers(attempt_scenario(app)))
    assert_rejected(response, "step 'plan': expected text", "correct them and submit again")
    with db.database(app).sessions() as session:
        attempt = session.scalars(select(Attempt)).one()
        assert attempt.status == "in_progress"
        assert {r.state for r in session.scalars(select(StepResponse))} == {"draft"}
    assert client.get(f"/play?launch={token}").status_code == 200
