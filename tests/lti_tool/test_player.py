"""The scenario player: what the page shows, submission committed before grading, results."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape
from sqlalchemy import select

from lti_tool import db
from lti_tool.models import Attempt, ResourceLink, StepResponse, StepResultRecord
from scenarios.library import load_library
from tests.conftest import Launcher, landing, launch_token
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


def _secrets(scenario: Any) -> list[str]:
    """Distinctive lines of every answer-revealing text of a scenario."""
    texts = [s.feedback for s in scenario.steps if s.feedback]
    texts += [o.feedback for s in scenario.steps for o in s.options if o.feedback]
    texts += [c.feedback_met for s in scenario.steps for c in s.criteria if c.feedback_met]
    return [max(t.splitlines(), key=len).strip()[:60] for t in texts]


def _shown(number: float, unit: str) -> str:
    """A metric number as the seller page prints it (the template's format)."""
    text = f"{number:g}"
    return f"{text}{unit}" if unit in ("", "%") else f"{text} {unit}"


def _go(client: FlaskClient, page: str, to: str) -> str:
    response = client.post("/play/go", data={"launch": form_of(page, "launch"),
                                             "csrf_token": form_of(page, "csrf_token"),
                                             "attempt": form_of(page, "attempt"), "to": to})
    assert response.status_code == 302, response.get_data(as_text=True)
    shown = client.get(response.location)
    assert shown.status_code == 200, shown.get_data(as_text=True)
    return shown.get_data(as_text=True)


def _save_step(client: FlaskClient, page: str, number: int, data: dict[str, Any],
               go: str = "next") -> Any:
    return client.post(f"/play/step/{number}", data={
        "launch": form_of(page, "launch"), "csrf_token": form_of(page, "csrf_token"),
        "attempt": form_of(page, "attempt"), "go": go, **data})


def _step_answers(scenario: Any, step_id: str) -> dict[str, Any]:
    return {k: v for k, v in correct_answers(scenario).items()
            if k == step_id or k.startswith(step_id + ".")}


def test_player_opens_on_the_lesson_then_the_seller_then_one_step_per_page(
    launch: Launcher, client: FlaskClient, app: Flask
) -> None:
    page, token = open_player(launch, client, custom={"scenario": SCENARIO})
    scenario = attempt_scenario(app)
    from course.catalogue import load_catalogue

    lesson = next(m for m in load_catalogue(None, load_library()).modules
                  if SCENARIO in m.scenarios)
    assert f"<h1>{escape(lesson.title)}</h1>" in page and "Start the scenario" in page
    assert 'aria-current="step">Lesson' in page
    seller = _go(client, page, "seller")
    assert "Briefing" in seller and "Exhibits" in seller and "<table" in seller
    # Each metric against its benchmark; a gap is marked and said in words.
    table = seller[seller.index('class="metrics-table"'):]
    touched = next(m for m in scenario.profile.metrics if m.id == "accounts_touched")
    row = table[table.index(escape(touched.label)):]
    row = row[:row.index("</tr>")]
    assert f"{touched.value:g}%" in row and f"{touched.benchmark:g}%" in row
    assert 'class="gap-badge">Gap</strong>' in row and "Gap: below the benchmark" in row
    discount = next(m for m in scenario.profile.metrics if m.id == "average_discount")
    row = table[table.index(escape(discount.label)):]
    assert "Better than the benchmark" in row[:row.index("</tr>")]
    # Each metric is shown once: no authored table repeats the computed one.
    rows = re.findall(r"<tr.*?</tr>", seller, re.S)
    for metric in scenario.profile.metrics:
        cells = [f"<td>{escape(_shown(metric.value, metric.unit))}</td>",
                 f"<td>{escape(_shown(metric.benchmark, metric.unit))}</td>"]
        assert len([r for r in rows if all(c in r for c in cells)]) == 1, metric.id
    assert seller.count(">Benchmark<") == 1
    # Gaps are marked per metric; which task to coach is for the learner to derive.
    focus = scenario.derivation.focus
    assert focus not in seller and escape(scenario.situation.label) not in seller
    focus_step = next(s for s in scenario.steps if s.grader == "coaching_focus")
    assert all(escape(o.label) not in seller for o in focus_step.options if o.task == focus)
    assert all(escape(n.text[:40]) in seller for n in scenario.profile.notes)
    pages = [page, seller]
    for number, step in enumerate(scenario.steps, start=1):
        shown = client.get(f"/play/step/{number}?launch={token}").get_data(as_text=True)
        assert f"Step {number} of {len(scenario.steps)}" in shown
        assert escape(step.title) in shown
        assert all(escape(other.title) not in shown.split("<form", 1)[1]
                   for other in scenario.steps if other is not step)
        pages.append(shown)
    pages.append(client.get(f"/play/review?launch={token}").get_data(as_text=True))
    pages.append(client.get(f"/play/confirm?launch={token}").get_data(as_text=True))
    for shown in pages:
        for secret in _secrets(scenario):
            assert escape(secret) not in shown and secret not in shown
        assert "Teaching notes" not in shown
        assert not re.search(r"<script(?![^>]*\bsrc=)", shown)  # JS only from static files
    assert 'src="/static/player.js"' in pages[2]
    step_page = pages[2]
    assert 'type="radio"' in step_page and "<fieldset" in step_page and "<legend>" in step_page


def test_a_step_saves_on_every_button_and_back_and_next_move(
    launch: Launcher, client: FlaskClient, app: Flask
) -> None:
    page, token = open_player(launch, client)
    scenario = attempt_scenario(app)
    first = scenario.steps[0]
    moved = _save_step(client, page, 1, _step_answers(scenario, first.id))
    assert moved.status_code == 302 and moved.location.endswith(f"/play/step/2?launch={token}")
    back = _save_step(client, page, 2, {"critical_tasks.rank.coverage": "2"}, go="back")
    assert urlsplit(back.location).path == "/play/step/1"
    shown = client.get(back.location).get_data(as_text=True)
    assert f'value="{first.key[0]}" checked' in shown
    ranks = client.get(f"/play/step/2?launch={token}").get_data(as_text=True)
    assert re.search(r'name="critical_tasks.rank.coverage".*?<option value="2" selected',
                     ranks, re.S)
    assert urlsplit(_save_step(client, page, 1, {}, go="back").location).path == "/play/seller"
    last = len(scenario.steps)
    assert urlsplit(_save_step(client, page, last, {"plan": "x"}).location).path == "/play/review"
    with db.database(app).sessions() as session:
        drafts = {r.step_id: (r.value, r.state) for r in session.scalars(select(StepResponse))}
    # Step 1 was sent empty by its Back button: the learner cleared it, so no draft remains.
    assert drafts == {"critical_tasks": ({"coverage": 2}, "draft"), "plan": ("x", "draft")}
    assert client.get(f"/play/step/{last + 1}?launch={token}").status_code == 404


def test_a_relaunch_on_another_device_resumes_where_the_learner_left_off(
    launch: Launcher, client: FlaskClient, app: Flask
) -> None:
    page, token = open_player(launch, client)
    scenario = attempt_scenario(app)
    _save_step(client, page, 1, _step_answers(scenario, scenario.steps[0].id))
    client.get(f"/play/step/3?launch={token}")
    other_device = app.test_client()
    relaunch = Launcher(other_device, launch.platform)(role="learner")
    resumed = relaunch.get_data(as_text=True)
    assert f"Step 3 of {len(scenario.steps)}" in resumed
    assert 'aria-current="step">Step 3' in resumed
    step1 = other_device.get(landing(relaunch).replace("/play?", "/play/step/1?"))
    assert f'value="{scenario.steps[0].key[0]}" checked' in step1.get_data(as_text=True)


def test_autosave_takes_json_with_the_launch_and_csrf_token(
    launch: Launcher, client: FlaskClient, app: Flask
) -> None:
    from lti_tool.learner import FREE_TEXT_LIMIT

    page, _ = open_player(launch, client)
    body = {"launch": form_of(page, "launch"), "csrf_token": form_of(page, "csrf_token"),
            "attempt": int(form_of(page, "attempt")), "step": "plan",
            "fields": {"plan": ["first thoughts"], "situation": ["hunter"]}}
    saved = client.post("/play/draft", json=body)
    assert saved.status_code == 200 and saved.get_json() == {"saved": True,
                                                             "message": "Draft saved."}
    too_long = client.post("/play/draft", json={**body, "fields": {
        "plan": ["y" * (FREE_TEXT_LIMIT + 1)]}})
    assert too_long.status_code == 400
    message = too_long.get_json()["message"]
    assert f"at most {FREE_TEXT_LIMIT} characters" in message and "still here" in message
    assert_rejected(client.post("/play/draft", json={**body, "csrf_token": "forged"}),
                    "CSRF check failed")
    assert_rejected(client.post("/play/draft", data=body), "JSON object")
    assert_rejected(client.post("/play/draft", json={**body, "step": "nope"}), "no step")
    with db.database(app).sessions() as session:
        drafts = {r.step_id: r.value for r in session.scalars(select(StepResponse))}
    # Only the named step is saved; the over-long text did not replace the draft.
    assert drafts == {"plan": "first thoughts"}


def test_an_over_long_answer_on_its_step_is_refused_and_shown_again_whole(
    launch: Launcher, client: FlaskClient, app: Flask
) -> None:
    from lti_tool.learner import FREE_TEXT_LIMIT

    page, _ = open_player(launch, client)
    last = len(attempt_scenario(app).steps)
    _save_step(client, page, last, {"plan": "kept draft"})
    text = "z" * FREE_TEXT_LIMIT + "END-OF-MY-TEXT"
    refused = _save_step(client, page, last, {"plan": text})
    shown = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert f"at most {FREE_TEXT_LIMIT} characters" in shown and str(len(text)) in shown
    assert f">{text}</textarea>" in shown and 'aria-invalid="true"' in shown
    with db.database(app).sessions() as session:
        plan = session.scalars(select(StepResponse)).one()
        assert plan.value == "kept draft"


def test_review_names_what_is_missing_and_confirm_shows_the_attempts_left(
    launch: Launcher, client: FlaskClient, app: Flask
) -> None:
    page, token = open_player(launch, client)
    with db.database(app).sessions() as session:
        link = session.scalars(select(ResourceLink)).one()
        link.settings = {"attempts_allowed": 3}
        session.commit()
    scenario = attempt_scenario(app)
    _save_step(client, page, 1, _step_answers(scenario, scenario.steps[0].id))
    review = client.get(f"/play/review?launch={token}").get_data(as_text=True)
    assert "No answer yet." in review and "write your answer" in review
    assert 'id="to-confirm" disabled' in review
    label = next(o.label for o in scenario.steps[0].options if o.id == scenario.steps[0].key[0])
    assert escape(label) in review
    for number, step in enumerate(scenario.steps, start=1):
        _save_step(client, page, number, _step_answers(scenario, step.id))
    review = client.get(f"/play/review?launch={token}").get_data(as_text=True)
    assert "No answer yet." not in review and 'id="to-confirm" disabled' not in review
    confirm = _go(client, review, "confirm")
    assert "After this attempt you have 2 more attempts on this activity." in confirm
    assert "cannot be changed" in confirm and 'id="submit-attempt"' in confirm


def test_submitting_the_saved_drafts_grades_them_and_the_feedback_teaches(
    launch: Launcher, client: FlaskClient, app: Flask
) -> None:
    page, token = open_player(launch, client)
    scenario = attempt_scenario(app)
    for number, step in enumerate(scenario.steps, start=1):
        _save_step(client, page, number, _step_answers(scenario, step.id))
    done = submit(client, page, {})  # the confirm form: only the hidden fields
    assert done.status_code == 302, done.get_data(as_text=True)
    result = client.get(done.location).get_data(as_text=True)
    assert 'id="total-score"' in result and result.count('class="step-score"') == len(
        scenario.steps)
    # The learner's own words, with the spans the grader cited marked.
    assert re.search(r"<mark[^>]*><span class=\"visually-hidden\">\[evidence: </span>"
                     r"Coverage</span>|<mark[^>]*><span class=\"visually-hidden\">"
                     r"\[evidence: </span>Coverage", result)
    assert "Met</span>" in result
    assert "The right reading of this seller" in result
    # The reading of the seller is shown in words: task labels, never ids or g-values.
    assert escape(scenario.derivation.explanation) in result
    assert not re.search(r"\(g=\d", result) and f"{scenario.derivation.focus} " not in result
    assert escape(scenario.steps[-1].feedback[:60]) in result
    assert "not connected to a gradebook" in result  # the test launch has no AGS claim
    assert "Your attempts" in result and "Attempt 1" in result
    assert 'id="new-attempt"' in result


def test_a_new_attempt_gets_a_new_variant_and_the_history_lists_both(
    launch: Launcher, client: FlaskClient, app: Flask
) -> None:
    page, token = open_player(launch, client)
    first = attempt_scenario(app)
    assert load_library().has_variants(first.id)
    submit(client, page, correct_answers(first))
    result = client.get(f"/play?launch={token}", follow_redirects=True).get_data(as_text=True)
    client.post("/play/again", data={"launch": token,
                                     "csrf_token": form_of(result, "csrf_token")})
    second_page = client.get(f"/play?launch={token}").get_data(as_text=True)
    assert "The seller" in second_page and 'aria-current="step">The seller' in second_page
    second = attempt_scenario(app)
    assert second.variant_seed != first.variant_seed
    with db.database(app).sessions() as session:
        first_id = session.scalars(select(Attempt.id).order_by(Attempt.id)).first()
    old = client.get(f"/play/result?launch={token}&attempt={first_id}").get_data(as_text=True)
    assert "Attempt 2" in old and "In progress" in old and 'id="continue-attempt"' in old


def test_options_are_shuffled_the_same_way_within_an_attempt_only() -> None:
    from lti_tool.learner import player_steps

    scenario = load_library().scenario(SCENARIO, None)
    orders = {tuple(o.value for s in player_steps(scenario, f"{n}:1") for o in s.options)
              for n in range(1, 6)}
    again = tuple(o.value for s in player_steps(scenario, "3:1") for o in s.options)
    assert len(orders) > 1 and again in orders
    unshuffled = player_steps(scenario)
    assert [o.value for o in unshuffled[0].options] == [o.id for o in scenario.steps[0].options]


def test_rendered_markdown_is_cached_by_content() -> None:
    from lti_tool.rendering import cache_stats, clear_cache, render_markdown

    clear_cache()
    first = render_markdown("# Title\n\n<script>x</script> **bold**")
    again = render_markdown("# Title\n\n<script>x</script> **bold**")
    assert first == again and "<strong>bold</strong>" in first and "<script>" not in first
    assert cache_stats() == {"hits": 1, "misses": 1, "size": 1}


def test_highlight_marks_evidence_spans_and_escapes_the_rest() -> None:
    from lti_tool.learner import highlight

    text = "<b>Coverage</b> first & tiering"
    criteria = [{"label": "focus", "evidence": [
        {"text": "Coverage", "start": 3, "end": 11, "source": "response"},
        {"text": "tiering", "start": 24, "end": 31, "source": "response"},
        {"text": "ignored", "start": 0, "end": 99, "source": "response"},  # out of range
        {"text": "coverage", "start": None, "end": None, "source": "option"}]},
        {"label": "action", "evidence": [{"text": "Cover", "start": 3, "end": 8}]}]
    html_ = str(highlight(text, criteria))
    assert html_.startswith("&lt;b&gt;<mark title=\"action; focus\">")
    assert "Coverage<span" in html_ and "&lt;/b&gt; first &amp; <mark" in html_
    assert html_.count("<mark") == 2


def test_grade_state_says_sent_pending_or_awaiting_review() -> None:
    from types import SimpleNamespace

    from lti_tool.learner import grade_state

    graded, review = SimpleNamespace(status="graded"), SimpleNamespace(status="needs_review")
    assert grade_state(graded, SimpleNamespace(status="delivered"))[0] == "sent"  # type: ignore[arg-type]
    assert grade_state(graded, SimpleNamespace(status="pending"))[0] == "pending"  # type: ignore[arg-type]
    state, text = grade_state(review, SimpleNamespace(status="delivered"))  # type: ignore[arg-type]
    assert state == "review" and "awaiting your instructor's review" in text
    assert grade_state(graded, None)[0] == "none"  # type: ignore[arg-type]


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
    assert_rejected(launch(role="learner", custom={"scenario": "nope"}), "'nope'", SCENARIO)


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
    assert 'role="alert"' in text and "Review your answers" in text
    with db.database(app).sessions() as session:
        attempt = session.scalars(select(Attempt)).one()
        assert attempt.status == "in_progress"
        drafts = {r.step_id: (r.value, r.state) for r in session.scalars(select(StepResponse))}
        assert drafts["situation"] == ("territory", "draft")
        assert drafts["critical_tasks"] == ({"coverage": 1}, "draft")


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
    token = launch_token(launch(role="learner", subject="someone-else"))
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
    assert_rejected(response, "'no-such-module'", "custom parameter `module`")


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


def test_an_autosave_racing_a_button_press_updates_instead_of_failing(
    launch: Launcher, client: FlaskClient, app: Flask
) -> None:
    from lti_tool import attempts

    open_player(launch, client)
    with db.database(app).sessions() as slow, db.database(app).sessions() as fast:
        mine = slow.scalars(select(Attempt)).one()
        assert mine.responses == []  # loaded before the other request inserts the row
        theirs = fast.scalars(select(Attempt)).one()
        attempts.save_step_draft(fast, theirs, "plan", "from the autosave")
        attempts.save_step_draft(slow, mine, "plan", "from the button")
    with db.database(app).sessions() as session:
        rows = session.scalars(select(StepResponse)).all()
        assert [(r.step_id, r.value) for r in rows] == [("plan", "from the button")]


def test_an_autosave_cannot_touch_another_learners_attempt(
    launch: Launcher, client: FlaskClient, app: Flask
) -> None:
    victim_page, _ = open_player(launch, client, subject="victim")
    _save_step(client, victim_page, 4, {"plan": "the victim's draft"})
    victim_attempt = int(form_of(victim_page, "attempt"))
    page, _ = open_player(launch, client, subject="attacker")
    body = {"launch": form_of(page, "launch"), "csrf_token": form_of(page, "csrf_token"),
            "attempt": victim_attempt, "step": "plan", "fields": {"plan": ["overwritten"]}}
    assert_rejected(client.post("/play/draft", json=body), "another learner")
    assert_rejected(_save_step(client, page, 4, {"plan": "overwritten",
                                                 "attempt": str(victim_attempt)}))
    with db.database(app).sessions() as session:
        rows = session.scalars(select(StepResponse)).all()
        assert [(r.attempt_id, r.value) for r in rows] == [(victim_attempt, "the victim's draft")]


def test_progress_links_are_what_url_for_builds(app: Flask) -> None:
    """The progress bar's links skip url_for's routing per link; they must still be the same
    addresses, under a proxy's path prefix too."""
    from flask import url_for

    from lti_tool.learner import page_link

    token = "eyJ0.a-b_c.d~e"
    for script_root in ("", "/coachlab"):
        with app.test_request_context("/play", base_url=f"http://tool.example{script_root}"):
            for endpoint, number in (("learner.seller", None), ("learner.review", None),
                                     ("learner.step", 3)):
                values = {"number": number} if number is not None else {}
                expected = url_for(endpoint, launch=token, **values)
                assert page_link(endpoint, token, number) == expected
                assert expected.startswith(f"{script_root}/play")
