"""The scenario player: briefing and exhibits, the steps as a plain HTML form, results.

Works without JavaScript. Nothing that reveals an answer (keys, option feedback, teaching
notes) reaches the page before the attempt is submitted: templates only get PlayerStep views.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask import Blueprint, redirect, render_template, request
from flask.typing import ResponseReturnValue
from werkzeug.datastructures import MultiDict

from lti_tool import attempts, outbox
from lti_tool.db import get_session
from lti_tool.errors import Forbidden
from lti_tool.lti.references import LaunchRef, check_csrf, csrf_token, load_launch
from lti_tool.models import Attempt
from lti_tool.urls import tool_url

if TYPE_CHECKING:
    from scenarios.model import Scenario, Section, Step

bp = Blueprint("learner", __name__)

FREE_TEXT_LIMIT = 5000
"""Characters kept of a free-text answer (graders handle length; the database need not)."""


@dataclass(frozen=True)
class Choice:
    """One selectable thing on the form: its value and its label."""

    value: str
    label: str


@dataclass(frozen=True)
class PlayerStep:
    """What the page may know about a step before submission (no key, no feedback)."""

    id: str
    title: str
    prompt_html: str
    grader: str
    options: tuple[Choice, ...]
    evidence: tuple[Choice, ...]


def _render(markdown: str) -> str:
    from scenarios.markdown import render

    return render(markdown)


def is_public_section(section: Section) -> bool:
    """Teaching notes explain the answer: shown only after submission."""
    return "teaching" not in f"{section.id} {section.title}".lower()


def _evidence(scenario: Scenario) -> tuple[Choice, ...]:
    metrics = tuple(Choice(m.id, m.label) for m in scenario.profile.metrics)
    notes = tuple(
        Choice(n.id, f"{n.kind.replace('_', ' ')}{' by ' + n.author if n.author else ''}: "
                     f"{n.text[:90]}{'...' if len(n.text) > 90 else ''}")
        for n in scenario.profile.notes
    )
    return metrics + notes


def player_steps(scenario: Scenario) -> tuple[PlayerStep, ...]:
    """The answer-free view of every step."""
    evidence = _evidence(scenario)
    return tuple(
        PlayerStep(
            id=step.id,
            title=step.title,
            prompt_html=_render(step.prompt),
            grader=step.grader,
            options=tuple(Choice(o.id, o.label) for o in step.options),
            evidence=evidence if step.grader == "coaching_focus" else (),
        )
        for step in scenario.steps
    )


def _parse_step(step: Step, form: MultiDict[str, str]) -> tuple[object | None, str | None]:
    """(response in the grader's shape, or None; a problem in plain words, or None)."""
    option_ids = [o.id for o in step.options]
    if step.grader == "single_choice":
        value = form.get(step.id)
        if not value:
            return None, "choose one answer"
        return value, None if value in option_ids else "choose one of the listed answers"
    if step.grader == "multi_select":
        values = [v for v in form.getlist(step.id) if v in option_ids]
        return (values, None) if values else (None, "tick at least one answer")
    if step.grader == "ranking":
        ranks: dict[str, int] = {}
        for option_id in option_ids:
            raw = form.get(f"{step.id}.rank.{option_id}", "")
            if raw.isdigit():
                ranks[option_id] = int(raw)
        ordered = sorted(ranks, key=lambda oid: ranks[oid])
        if len(ranks) < len(option_ids):
            return (ordered or None), "give every task a rank"
        if sorted(ranks.values()) != list(range(1, len(option_ids) + 1)):
            return ordered, f"use each rank from 1 to {len(option_ids)} exactly once"
        return ordered, None
    if step.grader == "coaching_focus":
        task = form.get(f"{step.id}.task") or ""
        evidence = form.getlist(f"{step.id}.evidence")
        focus = {"task": task, "evidence": evidence}
        if task not in option_ids:
            return (focus if evidence else None), "choose the task to focus on"
        if not evidence:
            return focus, "tick the evidence that shows the gap"
        return focus, None
    text = (form.get(step.id) or "").strip()[:FREE_TEXT_LIMIT]
    return (text or None), (None if text else "write your answer")


def responses_from_form(
    scenario: Scenario, form: MultiDict[str, str]
) -> tuple[dict[str, object], dict[str, str]]:
    """Every answer found in the form, and a problem per step that is missing or malformed."""
    responses: dict[str, object] = {}
    problems: dict[str, str] = {}
    for step in scenario.steps:
        value, problem = _parse_step(step, form)
        if value is not None:
            responses[step.id] = value
        if problem is not None:
            problems[step.id] = problem
    return responses, problems


def _launch_from(source: Mapping[str, str]) -> tuple[LaunchRef, str]:
    token = source.get("launch") or ""
    return load_launch(token), token


def _player_page(
    ref: LaunchRef, token: str, attempt: Attempt, problems: Mapping[str, str],
    status: int = 200,
) -> ResponseReturnValue:
    scenario = attempts.scenario_of(attempt)
    return render_template(
        "learner/play.html",
        title=scenario.title,
        summary=scenario.summary,
        sections=[(s.title, _render(s.markdown))
                  for s in scenario.sections if is_public_section(s)],
        steps=player_steps(scenario),
        answers=attempts.drafts(attempt),
        problems=problems,
        attempt=attempt,
        launch=token,
        csrf=csrf_token(ref),
    ), status


@bp.get("/play")
def play() -> ResponseReturnValue:
    """Show the current attempt's form, or the result of the last submitted attempt."""
    ref, token = _launch_from(request.args)
    session = get_session()
    link, user = attempts.placement(session, ref)
    attempt = attempts.current_attempt(session, link, user)
    if attempt.status != attempts.OPEN:
        return redirect(tool_url("learner.result", launch=token, attempt=attempt.id))
    return _player_page(ref, token, attempt, {})


@bp.post("/play/submit")
def submit() -> ResponseReturnValue:
    """Commit the answers, then grade them, then show the result."""
    ref, token = _launch_from(request.form)
    check_csrf(ref, request.form.get("csrf_token"))
    session = get_session()
    attempt = attempts.owned_attempt(session, ref, request.form.get("attempt", 0, type=int))
    if attempt.user_pk != ref.user_id:
        raise Forbidden("Only the learner who owns this attempt can submit it.")
    scenario = attempts.scenario_of(attempt)
    responses, problems = responses_from_form(scenario, request.form)
    if problems:
        attempts.save_drafts(session, attempt, responses)
        return _player_page(ref, token, attempt, problems, status=400)
    attempts.submit(session, attempt, responses)
    attempts.grade(session, attempt)
    outbox.wake_worker()
    return redirect(tool_url("learner.result", launch=token, attempt=attempt.id))


@bp.post("/play/again")
def again() -> ResponseReturnValue:
    """Start a new attempt after a submitted one."""
    ref, token = _launch_from(request.form)
    check_csrf(ref, request.form.get("csrf_token"))
    session = get_session()
    link, user = attempts.placement(session, ref)
    latest = attempts.latest_attempt(session, link, user)
    if latest is None or latest.status != attempts.OPEN:
        attempts.start_attempt(session, link, user)
    return redirect(tool_url("learner.play", launch=token))


def result_view(attempt: Attempt) -> dict[str, Any]:
    """What the result page shows: per step score, criteria and feedback, then the teaching."""
    scenario = attempts.scenario_of(attempt)
    rows = {row.step_id: row for row in attempt.results}
    steps = []
    for step in scenario.steps:
        row = rows.get(step.id)
        steps.append({
            "title": step.title,
            "weight": step.weight,
            "score": row.score if row else None,
            "criteria": row.criteria if row else [],
            "feedback": row.feedback if row else [],
            "needs_review": row.needs_review if row else False,
            # Graders usually repeat the step's teaching explanation in their feedback.
            "explanation_html": _render(step.feedback)
            if step.feedback and not (row and step.feedback in row.feedback) else "",
        })
    notes = [(s.title, _render(s.markdown)) for s in scenario.sections
             if not is_public_section(s)]
    return {"scenario": scenario, "steps": steps, "notes": notes}


@bp.get("/play/result")
def result() -> ResponseReturnValue:
    """The score per step with feedback, after submission."""
    ref, token = _launch_from(request.args)
    session = get_session()
    attempt = attempts.owned_attempt(session, ref, request.args.get("attempt", 0, type=int))
    if attempt.status == attempts.OPEN:
        return redirect(tool_url("learner.play", launch=token))
    return render_template(
        "learner/result.html", attempt=attempt, launch=token, csrf=csrf_token(ref),
        delivery=outbox.latest_delivery(session, attempt), **result_view(attempt),
        attempts_left=attempts.attempts_left(session, attempt.resource_link, attempt.user),
    )
