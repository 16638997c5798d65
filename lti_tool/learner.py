"""The scenario player: lesson, seller and exhibits, one step per page, review, submit, feedback.

Works without JavaScript: every page is plain HTML and every form submit saves; static/player.js
only adds debounced autosave. The launch travels as a signed reference in the page (no cookies
inside the LMS iframe) and every state-changing request carries the launch's CSRF token.
Nothing that reveals an answer (keys, option feedback, teaching notes) reaches a page before the
attempt is submitted: the step templates only get PlayerStep views.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from flask import Blueprint, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from markupsafe import Markup, escape
from werkzeug.datastructures import MultiDict

from lti_tool import attempts, content, outbox
from lti_tool.db import get_session
from lti_tool.errors import Forbidden, InvalidAnswer, NotFound
from lti_tool.lti.references import LaunchRef, check_csrf, csrf_token, load_launch
from lti_tool.models import Attempt
from lti_tool.rendering import render_markdown
from lti_tool.urls import tool_url

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from course.model import Module
    from lti_tool.launches import Launched
    from scenarios.model import Scenario, Section, Step

bp = Blueprint("learner", __name__)

FREE_TEXT_LIMIT = 5000
"""Characters a free-text answer may have; a longer one is refused with this limit named."""

LESSON, SELLER, REVIEW = "lesson", "seller", "review"


@lru_cache(maxsize=512)
def _player_path(script_root: str, endpoint: str, number: int | None) -> str:
    return url_for(endpoint, number=number) if number is not None else url_for(endpoint)


def page_link(endpoint: str, launch: str, number: int | None = None) -> str:
    """url_for(endpoint, number=number, launch=launch), with the path built once per process:
    the progress bar links every page of the attempt, and url_for's routing and quoting of the
    long launch reference cost about 25 us a link."""
    return f"{_player_path(request.script_root, endpoint, number)}?launch={quote(launch, safe='')}"


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


def is_public_section(section: Section) -> bool:
    """Teaching notes explain the answer: shown only after submission."""
    return "teaching" not in f"{section.id} {section.title}".lower()


def _note_label(kind: str, author: str) -> str:
    return f"{kind.replace('_', ' ').capitalize()}{' by ' + author if author else ''}"


def _evidence(scenario: Scenario) -> tuple[Choice, ...]:
    metrics = tuple(Choice(m.id, m.label) for m in scenario.profile.metrics)
    notes = tuple(
        Choice(n.id, f"{_note_label(n.kind, n.author)}: "
                     f"{n.text[:90]}{'...' if len(n.text) > 90 else ''}")
        for n in scenario.profile.notes
    )
    return metrics + notes


def player_steps(scenario: Scenario, shuffle_key: str | None = None) -> tuple[PlayerStep, ...]:
    """The answer-free view of every step; options shuffled per `shuffle_key` when given.

    The shuffle is deterministic (seeded by the key and the step id), so a reload or another
    device shows the same order within an attempt, and a new attempt gets a new order.
    """
    evidence = _evidence(scenario)
    views = []
    for step in scenario.steps:
        options = [Choice(o.id, o.label) for o in step.options]
        if shuffle_key is not None:
            random.Random(f"{shuffle_key}:{step.id}").shuffle(options)
        views.append(PlayerStep(
            id=step.id,
            title=step.title,
            prompt_html=render_markdown(step.prompt),
            grader=step.grader,
            options=tuple(options),
            evidence=evidence if step.grader == "coaching_focus" else (),
        ))
    return tuple(views)


def belongs_to(step_id: str, field: str) -> bool:
    """True when a form field carries (part of) the answer to the step."""
    return field == step_id or field.startswith(step_id + ".")


def _parse_step(step: Step, form: MultiDict[str, str]) -> tuple[object | None, str | None]:
    """(response in the grader's shape, or a partial draft, or None; a problem, or None)."""
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
        if not ranks:
            return None, "give every task a rank"
        # An incomplete or inconsistent ranking is kept as it was entered (rank per task).
        if len(ranks) < len(option_ids):
            return ranks, "give every task a rank"
        if sorted(ranks.values()) != list(range(1, len(option_ids) + 1)):
            return ranks, f"use each rank from 1 to {len(option_ids)} exactly once"
        return sorted(ranks, key=lambda oid: ranks[oid]), None
    if step.grader == "coaching_focus":
        task = form.get(f"{step.id}.task") or ""
        evidence = form.getlist(f"{step.id}.evidence")
        focus = {"task": task, "evidence": evidence}
        if task not in option_ids:
            return (focus if evidence else None), "choose the task to focus on"
        if not evidence:
            return focus, "tick the evidence that shows the gap"
        return focus, None
    text = (form.get(step.id) or "").strip()
    if len(text) > FREE_TEXT_LIMIT:
        # Refused whole, never cut silently; the previous draft stays as it was.
        return None, (f"shorten your answer to at most {FREE_TEXT_LIMIT} characters "
                      f"(it has {len(text)})")
    return (text or None), (None if text else "write your answer")


def is_refused(problem: str | None) -> bool:
    """A problem that stops saving (too long), as against an answer not finished yet."""
    return problem is not None and problem.startswith("shorten your answer")


def fields_of(step: Step, value: object) -> MultiDict[str, str]:
    """The form fields that show a stored answer again (the inverse of _parse_step)."""
    fields: MultiDict[str, str] = MultiDict()
    if value is None:
        return fields
    if step.grader == "ranking":
        if isinstance(value, dict):
            for option_id, rank in value.items():
                fields.add(f"{step.id}.rank.{option_id}", str(rank))
        elif isinstance(value, list):
            for rank, option_id in enumerate(value, start=1):
                fields.add(f"{step.id}.rank.{option_id}", str(rank))
    elif step.grader == "coaching_focus" and isinstance(value, dict):
        if value.get("task"):
            fields.add(f"{step.id}.task", str(value["task"]))
        for item in value.get("evidence") or []:
            fields.add(f"{step.id}.evidence", str(item))
    elif isinstance(value, list):
        for item in value:
            fields.add(step.id, str(item))
    else:
        fields.add(step.id, str(value))
    return fields


def responses_from_form(
    scenario: Scenario, form: MultiDict[str, str], stored: Mapping[str, object] | None = None
) -> tuple[dict[str, object], dict[str, str]]:
    """Every answer, and a problem per step that is missing or malformed.

    A step whose fields are in the form is read from the form; otherwise from its stored draft.
    """
    responses: dict[str, object] = {}
    problems: dict[str, str] = {}
    for step in scenario.steps:
        in_form = any(belongs_to(step.id, key) for key in form)
        source = form if in_form or stored is None else fields_of(step, stored.get(step.id))
        value, problem = _parse_step(step, source)
        if value is not None:
            responses[step.id] = value
        if problem is not None:
            problems[step.id] = problem
    return responses, problems


# -- pages -----------------------------------------------------------------------------------


def _launch_from(source: Mapping[str, str]) -> tuple[LaunchRef, str]:
    token = source.get("launch") or ""
    return load_launch(token), token


def _open_attempt(session: Session, ref: LaunchRef, attempt_id: int) -> Attempt:
    """The launching learner's own attempt, still open (what a save may change)."""
    attempt = attempts.owned_attempt(session, ref, attempt_id)
    if attempt.user_pk != ref.user_id:
        raise Forbidden("Only the learner who owns this attempt can change its answers.")
    if attempt.status != attempts.OPEN:
        raise Forbidden("This attempt is already submitted; start a new attempt to answer again.")
    return attempt


def _step_positions(scenario: Scenario) -> list[str]:
    return [f"step-{n}" for n in range(1, len(scenario.steps) + 1)]


def _lesson(attempt: Attempt) -> Module | None:
    return content.lesson_of(attempt.resource_link, attempt.scenario_id)


def _start_position(attempt: Attempt, first_attempt: bool) -> str:
    return LESSON if first_attempt and _lesson(attempt) is not None else SELLER


def _valid_position(attempt: Attempt, scenario: Scenario, position: str | None) -> bool:
    if position in (SELLER, REVIEW) or position in _step_positions(scenario):
        return True
    return position == LESSON and _lesson(attempt) is not None


def position_url(position: str, token: str) -> str:
    """The page of a resume position."""
    if position.startswith("step-"):
        return tool_url("learner.step", number=int(position[5:]), launch=token)
    endpoint = {LESSON: "learner.lesson", SELLER: "learner.seller", REVIEW: "learner.review",
                "confirm": "learner.confirm"}[position]
    return tool_url(endpoint, launch=token)


def _progress(attempt: Attempt, scenario: Scenario, here: str,
              answers: Mapping[str, object], token: str) -> dict[str, Any]:
    """The progress indicator: every page of the attempt with its link, and where the
    learner is (`at`, counted from 1). Built here rather than in the template: every player
    page renders it."""
    items: list[dict[str, Any]] = []
    if _lesson(attempt) is not None:
        items.append({"position": LESSON, "label": "Lesson",
                      "url": page_link("learner.lesson", token)})
    items.append({"position": SELLER, "label": "The seller",
                  "url": page_link("learner.seller", token)})
    for number, step in enumerate(scenario.steps, start=1):
        items.append({"position": f"step-{number}", "label": f"Step {number}: {step.title}",
                      "answered": step.id in answers,
                      "url": page_link("learner.step", token, number)})
    items.append({"position": REVIEW, "label": "Review and submit",
                  "url": page_link("learner.review", token)})
    at = len(items)
    for index, item in enumerate(items, start=1):
        item["current"] = item["position"] == here
        if item["current"]:
            at = index
    return {"items": items, "at": at}


def _page(
    template: str, ref: LaunchRef, token: str, attempt: Attempt, here: str,
    status: int = 200, **extra: Any,
) -> ResponseReturnValue:
    """Render a player page and remember it as where the learner left off."""
    session = get_session()
    scenario = attempts.scenario_of(attempt)
    answers = attempts.drafts(attempt)
    attempts.set_resume_point(session, attempt, here)
    return render_template(
        template,
        scenario=scenario,
        attempt=attempt,
        launch=token,
        csrf=csrf_token(ref),
        here=here,
        progress=_progress(attempt, scenario, here, answers, token),
        answers=answers,
        **extra,
    ), status


def _lesson_page(ref: LaunchRef, token: str, attempt: Attempt,
                 earlier: bool = True) -> ResponseReturnValue:
    """The module's lesson; with `earlier` (the learner may have other attempts), the list
    of their attempts."""
    module = _lesson(attempt)
    if module is None:
        raise NotFound("This activity has no lesson; continue with the seller.")
    session = get_session()
    past = [a for a in attempts.history(session, attempt.resource_link, attempt.user)
            if a.id != attempt.id] if earlier else []
    return _page("learner/lesson.html", ref, token, attempt, LESSON, module=module,
                 lesson_html=render_markdown(module.markdown), history=past)


def metric_rows(scenario: Scenario) -> list[dict[str, Any]]:
    """Each metric against its benchmark, with the gap stated in words."""
    rows = []
    for metric in scenario.profile.metrics:
        value, benchmark = _number(metric.value, metric.unit), _number(metric.benchmark,
                                                                        metric.unit)
        short = (metric.value < metric.benchmark if metric.higher_is_better
                 else metric.value > metric.benchmark)
        if short:
            verdict = ("Gap: below the benchmark" if metric.higher_is_better
                       else "Gap: above the benchmark (lower is better)")
        elif metric.value == metric.benchmark:
            verdict = "At the benchmark"
        else:
            verdict = "Better than the benchmark"
        rows.append({"label": metric.label, "value": value, "benchmark": benchmark,
                     "gap": short, "verdict": verdict})
    return rows


def _number(value: float, unit: str) -> str:
    text = f"{value:g}" if value != int(value) else f"{int(value)}"
    if not unit:
        return text
    return f"{text}{unit}" if unit == "%" else f"{text} {unit}"


def _seller_page(ref: LaunchRef, token: str, attempt: Attempt) -> ResponseReturnValue:
    scenario = attempts.scenario_of(attempt)
    profile = scenario.profile
    return _page(
        "learner/seller.html", ref, token, attempt, SELLER,
        sections=[(s.title, render_markdown(s.markdown))
                  for s in scenario.sections if is_public_section(s)],
        facts=[(key.replace("_", " ").capitalize(), value)
               for key, value in profile.facts.items()],
        metrics=metric_rows(scenario),
        notes=[(_note_label(n.kind, n.author), n.text) for n in profile.notes],
        summary_html=render_markdown(scenario.summary),
    )


def _shuffle_key(attempt: Attempt) -> str:
    return f"{attempt.id}:{attempt.variant_seed}"


def _step_page(
    ref: LaunchRef, token: str, attempt: Attempt, number: int,
    fields: MultiDict[str, str] | None = None, problem: str | None = None, status: int = 200,
) -> ResponseReturnValue:
    scenario = attempts.scenario_of(attempt)
    if not 1 <= number <= len(scenario.steps):
        raise NotFound(f"This scenario has steps 1 to {len(scenario.steps)}; there is no step "
                       f"{number}.")
    step = scenario.steps[number - 1]
    if fields is None:
        fields = fields_of(step, attempts.drafts(attempt).get(step.id))
    view = player_steps(scenario, _shuffle_key(attempt))[number - 1]
    return _page("learner/step.html", ref, token, attempt, f"step-{number}", status=status,
                 step=view, number=number, total=len(scenario.steps), fields=fields,
                 problem=problem, free_text_limit=FREE_TEXT_LIMIT)


def answer_summary(scenario: Scenario, step: Step, value: object) -> list[str]:
    """The learner's answer to a step in words (labels, not ids)."""
    if value is None:
        return []
    labels = {o.id: o.label for o in step.options}
    if step.grader == "single_choice":
        return [labels.get(str(value), str(value))]
    if step.grader == "multi_select" and isinstance(value, list):
        return [labels.get(str(v), str(v)) for v in value]
    if step.grader == "ranking":
        if isinstance(value, dict):
            ordered = sorted(value.items(), key=lambda item: int(item[1]))
            return [f"{rank}. {labels.get(oid, oid)}" for oid, rank in ordered]
        if isinstance(value, list):
            return [f"{n}. {labels.get(str(v), str(v))}" for n, v in enumerate(value, start=1)]
    if step.grader == "coaching_focus" and isinstance(value, dict):
        evidence = {c.value: c.label for c in _evidence(scenario)}
        lines = []
        if value.get("task"):
            lines.append(f"Focus: {labels.get(str(value['task']), str(value['task']))}")
        lines += [f"Evidence: {evidence.get(str(e), str(e))}" for e in value.get("evidence") or []]
        return lines
    return [str(value)]


def _review_page(
    ref: LaunchRef, token: str, attempt: Attempt, problems: Mapping[str, str] | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    scenario = attempts.scenario_of(attempt)
    stored = attempts.drafts(attempt)
    _, open_problems = responses_from_form(scenario, MultiDict(), stored)
    shown = dict(open_problems)
    shown.update(problems or {})
    rows = [{"number": n, "title": step.title, "answer": answer_summary(scenario, step,
                                                                        stored.get(step.id)),
             "problem": shown.get(step.id)}
            for n, step in enumerate(scenario.steps, start=1)]
    return _page("learner/review.html", ref, token, attempt, REVIEW, status=status,
                 rows=rows, problems=shown, refused=problems is not None)


@bp.get("/play")
def play() -> ResponseReturnValue:
    """Where the learner left off in the current attempt, or the result of the last one."""
    ref, token = _launch_from(request.args)
    return landing(ref, token)


def landing(ref: LaunchRef, token: str, launched: Launched | None = None) -> ResponseReturnValue:
    """The page a learner's launch opens (GET /play, or the launch's own answer): where they
    left off, or the result of their last attempt. `launched` is what the launch read (the
    link, the user and their latest attempt) when the caller is the launch."""
    session = get_session()
    if launched is not None:
        attempt, total = attempts.current_attempt(
            session, launched.link, launched.user, (launched.latest, launched.attempts))
    else:
        link, user = attempts.placement(session, ref)
        attempt, total = attempts.current_attempt(session, link, user)
    if attempt.status != attempts.OPEN:
        return redirect(tool_url("learner.result", launch=token, attempt=attempt.id))
    scenario = attempts.scenario_of(attempt)
    position = attempt.resume_at or ""
    if not _valid_position(attempt, scenario, position):
        position = _start_position(attempt, first_attempt=total == 1)
    if position == LESSON:
        return _lesson_page(ref, token, attempt, earlier=total > 1)
    if position == SELLER:
        return _seller_page(ref, token, attempt)
    if position == REVIEW:
        return _review_page(ref, token, attempt)
    return _step_page(ref, token, attempt, int(position[5:]))


def _current_open(ref: LaunchRef, token: str) -> Attempt | ResponseReturnValue:
    session = get_session()
    link, user = attempts.placement(session, ref)
    attempt = attempts.latest_attempt(session, link, user)
    if attempt is None or attempt.status != attempts.OPEN:
        return redirect(tool_url("learner.play", launch=token))
    return attempt


def _open_page(render: Callable[[LaunchRef, str, Attempt], ResponseReturnValue]
               ) -> ResponseReturnValue:
    """Render a page of the open attempt, or send the learner to /play when none is open."""
    ref, token = _launch_from(request.args)
    found = _current_open(ref, token)
    return render(ref, token, found) if isinstance(found, Attempt) else found


@bp.get("/play/lesson")
def lesson() -> ResponseReturnValue:
    """The module's lesson, read before the scenario."""
    return _open_page(_lesson_page)


@bp.get("/play/seller")
def seller() -> ResponseReturnValue:
    """The seller's profile, the briefing and the exhibits."""
    return _open_page(_seller_page)


@bp.get("/play/step/<int:number>")
def step(number: int) -> ResponseReturnValue:
    """One step of the scenario, with the learner's draft filled in."""
    return _open_page(lambda ref, token, attempt: _step_page(ref, token, attempt, number))


@bp.get("/play/review")
def review() -> ResponseReturnValue:
    """Every answer at a glance, what is missing, and the way to submit."""
    return _open_page(_review_page)


@bp.get("/play/confirm")
def confirm() -> ResponseReturnValue:
    """Submit asks first: answers become final, and how many attempts remain."""
    ref, token = _launch_from(request.args)
    found = _current_open(ref, token)
    if not isinstance(found, Attempt):
        return found
    session = get_session()
    scenario = attempts.scenario_of(found)
    _, problems = responses_from_form(scenario, MultiDict(), attempts.drafts(found))
    return render_template(
        "learner/confirm.html", scenario=scenario, attempt=found, launch=token,
        csrf=csrf_token(ref), here="confirm", problems=problems,
        number=len(attempts.history(session, found.resource_link, found.user)),
        attempts_left=attempts.attempts_left(session, found.resource_link, found.user),
        progress=_progress(found, scenario, REVIEW, attempts.drafts(found), token),
    )


@bp.post("/play/go")
def go() -> ResponseReturnValue:
    """Move to another page of the attempt (the buttons of the lesson, seller and review)."""
    ref, token = _launch_from(request.form)
    check_csrf(ref, request.form.get("csrf_token"))
    session = get_session()
    attempt = _open_attempt(session, ref, request.form.get("attempt", 0, type=int))
    target = request.form.get("to", "")
    if target != "confirm" and not _valid_position(attempt, attempts.scenario_of(attempt),
                                                   target):
        raise NotFound(f"There is no page {target!r} in this activity.")
    return redirect(position_url(target, token))


@bp.post("/play/step/<int:number>")
def save_step(number: int) -> ResponseReturnValue:
    """Save the step's answer (the no-JavaScript path), then go back, on, or to the review."""
    ref, token = _launch_from(request.form)
    check_csrf(ref, request.form.get("csrf_token"))
    session = get_session()
    attempt = _open_attempt(session, ref, request.form.get("attempt", 0, type=int))
    scenario = attempts.scenario_of(attempt)
    if not 1 <= number <= len(scenario.steps):
        raise NotFound(f"This scenario has steps 1 to {len(scenario.steps)}; there is no step "
                       f"{number}.")
    step_ = scenario.steps[number - 1]
    fields: MultiDict[str, str] = MultiDict(
        [(k, v) for k, v in request.form.items(multi=True) if belongs_to(step_.id, k)])
    value, problem = _parse_step(step_, fields)
    if is_refused(problem):
        # Shown again exactly as typed, with the limit named; the stored draft is unchanged.
        return _step_page(ref, token, attempt, number, fields, problem, status=400)
    attempts.save_step_draft(session, attempt, step_.id, value)
    where = request.form.get("go", "next")
    if where == "back":
        target = f"step-{number - 1}" if number > 1 else SELLER
    elif where == "review" or number == len(scenario.steps):
        target = REVIEW
    else:
        target = f"step-{number + 1}"
    return redirect(position_url(target, token))


@bp.post("/play/draft")
def autosave() -> ResponseReturnValue:
    """Autosave one step's draft from JSON (static/player.js); answers JSON."""
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        raise InvalidAnswer("An autosave must be a JSON object with launch, csrf_token, "
                            "attempt, step and fields.")
    ref, _ = _launch_from({"launch": str(payload.get("launch") or "")})
    check_csrf(ref, str(payload.get("csrf_token") or ""))
    session = get_session()
    raw_id = str(payload.get("attempt") or "")
    attempt = _open_attempt(session, ref, int(raw_id) if raw_id.isdigit() else 0)
    scenario = attempts.scenario_of(attempt)
    step_ = next((s for s in scenario.steps if s.id == payload.get("step")), None)
    raw = payload.get("fields")
    if step_ is None or not isinstance(raw, dict):
        raise InvalidAnswer("The autosave names no step of this scenario, or has no fields.")
    fields: MultiDict[str, str] = MultiDict()
    for name, values in raw.items():
        if belongs_to(step_.id, str(name)):
            for item in values if isinstance(values, list) else [values]:
                fields.add(str(name), str(item))
    value, problem = _parse_step(step_, fields)
    if is_refused(problem):
        return jsonify(saved=False, message=f"Not saved: {problem}. Your text is still here."), 400
    attempts.save_step_draft(session, attempt, step_.id, value)
    return jsonify(saved=True, message="Draft saved.")


@bp.post("/play/submit")
def submit() -> ResponseReturnValue:
    """Commit the answers, then grade them, then show the result."""
    ref, token = _launch_from(request.form)
    check_csrf(ref, request.form.get("csrf_token"))
    session = get_session()
    attempt = attempts.owned_attempt(session, ref, request.form.get("attempt", 0, type=int))
    if attempt.user_pk != ref.user_id:
        raise Forbidden("Only the learner who owns this attempt can submit it.")
    if attempt.status != attempts.OPEN:
        raise Forbidden("This attempt is already submitted; start a new attempt to answer again.")
    scenario = attempts.scenario_of(attempt)
    responses, problems = responses_from_form(scenario, request.form, attempts.drafts(attempt))
    if problems:
        posted = {s.id for s in scenario.steps if any(belongs_to(s.id, k) for k in request.form)}
        attempts.save_drafts(session, attempt,
                             {k: v for k, v in responses.items() if k in posted})
        return _review_page(ref, token, attempt, problems, status=400)
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


# -- feedback --------------------------------------------------------------------------------

STATUS_WORDS = {"met": "Met", "partial": "Partly met", "missed": "Missed"}


def highlight(text: str, criteria: list[dict[str, Any]]) -> Markup:
    """The learner's text, escaped, with every evidence span a grader cited marked."""
    spans: list[tuple[int, int, str]] = []
    for criterion in criteria:
        for evidence in criterion.get("evidence") or []:
            start, end = evidence.get("start"), evidence.get("end")
            if (evidence.get("source", "response") == "response" and isinstance(start, int)
                    and isinstance(end, int) and 0 <= start < end <= len(text)):
                spans.append((start, end, str(criterion.get("label", ""))))
    spans.sort()
    merged: list[tuple[int, int, list[str]]] = []
    for start, end, label in spans:
        if merged and start <= merged[-1][1]:
            last = merged[-1]
            labels = last[2] if label in last[2] else [*last[2], label]
            merged[-1] = (last[0], max(last[1], end), labels)
        else:
            merged.append((start, end, [label]))
    parts: list[str] = []
    cursor = 0
    for start, end, labels in merged:
        parts.append(str(escape(text[cursor:start])))
        parts.append(f'<mark title="{escape("; ".join(labels))}">'
                     f'<span class="visually-hidden">[evidence: </span>'
                     f"{escape(text[start:end])}"
                     f'<span class="visually-hidden">]</span></mark>')
        cursor = end
    parts.append(str(escape(text[cursor:])))
    return Markup("".join(parts))  # every piece of learner text above went through escape()


def _quotes(criterion: Mapping[str, Any]) -> list[str]:
    seen: list[str] = []
    for evidence in criterion.get("evidence") or []:
        text = str(evidence.get("text") or "")
        if evidence.get("source", "response") == "response" and text and text not in seen:
            seen.append(text)
    return seen


def result_view(attempt: Attempt) -> dict[str, Any]:
    """What the result page shows: per step score, criteria and evidence, then the teaching."""
    scenario = attempts.scenario_of(attempt)
    rows = {row.step_id: row for row in attempt.results}
    answers = attempts.drafts(attempt)
    steps = []
    for number, step in enumerate(scenario.steps, start=1):
        row = rows.get(step.id)
        criteria = list(row.criteria) if row else []
        answer = answers.get(step.id)
        # The criteria table already says each criterion's feedback, and the explanation box
        # shows the step's teaching text: list only what neither says.
        said = {str(c.get("feedback") or "") for c in criteria} | {step.feedback}
        feedback = [line for line in (row.feedback if row else []) if line not in said]
        steps.append({
            "number": number,
            "title": step.title,
            "weight": step.weight,
            "score": row.score if row else None,
            "criteria": [{**c, "status_text": STATUS_WORDS.get(str(c.get("status")),
                                                                str(c.get("status"))),
                          "quotes": _quotes(c)} for c in criteria],
            "feedback": feedback,
            "needs_review": row.needs_review if row else False,
            "answer": answer_summary(scenario, step, answer)
            if not isinstance(answer, str) or step.options else [],
            "answer_html": highlight(answer, criteria)
            if isinstance(answer, str) and not step.options else None,
            "explanation_html": render_markdown(step.feedback) if step.feedback else "",
        })
    notes = [(s.title, render_markdown(s.markdown)) for s in scenario.sections
             if not is_public_section(s)]
    return {"scenario": scenario, "steps": steps, "notes": notes}


def grade_state(attempt: Attempt, delivery: Any) -> tuple[str, str]:
    """(css state, sentence) saying where the grade is: sent, on its way, awaiting review..."""
    review = attempt.status == "needs_review"
    if delivery is None:
        if review:
            return "review", ("Part of your answer awaits your instructor's review; your score "
                              "may change after it.")
        return "none", ("This activity is not connected to a gradebook; your result is kept "
                        "here.")
    status = getattr(delivery, "status", "")
    if review:
        where = {"delivered": "was sent to your course's gradebook",
                 "pending": "is on its way to your course's gradebook"}.get(
                     status, "could not be sent to your course's gradebook yet")
        return "review", (f"Your grade {where} marked as awaiting your instructor's review "
                          "(part of your answer is reviewed by a person); it may change.")
    if status == "delivered":
        return "sent", "Your grade was sent to your course's gradebook."
    if status == "pending":
        return "pending", ("Your grade will be sent to your course's gradebook; this can take a "
                           "moment, you need not wait.")
    if status == "superseded":
        return "sent", "A newer grade replaces this one in your course's gradebook."
    return "failed", ("Your grade could not be sent to your course's gradebook yet; it is kept "
                      "here and your instructor can see it.")


@bp.get("/play/result")
def result() -> ResponseReturnValue:
    """The score per step with feedback, after submission, and the attempt history."""
    ref, token = _launch_from(request.args)
    session = get_session()
    attempt = attempts.owned_attempt(session, ref, request.args.get("attempt", 0, type=int))
    if attempt.status == attempts.OPEN:
        return redirect(tool_url("learner.play", launch=token))
    delivery = outbox.latest_delivery(session, attempt)
    state, sentence = grade_state(attempt, delivery)
    own = attempt.user_pk == ref.user_id
    history = attempts.history(session, attempt.resource_link, attempt.user)
    latest = history[-1] if history else None
    return render_template(
        "learner/result.html", attempt=attempt, launch=token, csrf=csrf_token(ref),
        delivery=delivery, grade_state=state, grade_sentence=sentence,
        history=history, own=own,
        open_attempt=latest if latest is not None and latest.status == attempts.OPEN else None,
        attempts_left=attempts.attempts_left(session, attempt.resource_link, attempt.user),
        **result_view(attempt),
    )
