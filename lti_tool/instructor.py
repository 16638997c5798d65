"""Instructor views: placement dashboard, attempt review with override and audit, review
queue, item analysis, grader agreement, CSV export and regrade.

Every route checks the launch's role AND that the placement or attempt it names belongs to
the launch's registration and course (context). Everything works without JavaScript.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    stream_with_context,
)
from flask.typing import ResponseReturnValue
from markupsafe import Markup, escape
from sqlalchemy import and_, select
from sqlalchemy.orm import Session, joinedload

from lti_tool import attempts, content, outbox, progress, regrade, reports
from lti_tool.cache import get_cache
from lti_tool.db import database, get_session
from lti_tool.errors import Forbidden, NotFound
from lti_tool.lti import nrps
from lti_tool.lti.claims import CLAIM
from lti_tool.lti.references import LaunchRef, check_csrf, csrf_token, load_launch
from lti_tool.models import Attempt, ResourceLink, StepResultRecord, User
from lti_tool.placements import placement_settings
from lti_tool.urls import tool_url

bp = Blueprint("instructor", __name__)


# --- authorization ---


def staff_launch(source: Any = None) -> tuple[LaunchRef, str]:
    """The launch of this request; Forbidden unless it has an instructor role."""
    source = source if source is not None else (
        request.form if request.method == "POST" else request.args)
    token = source.get("launch", "")
    ref = load_launch(token)
    if not ref.staff:
        raise Forbidden("This page is for instructors; your launch has a learner role.")
    return ref, token


def course_placement(session: Session, ref: LaunchRef, link_id: int | None = None
                     ) -> ResourceLink:
    """The placement, when it is the launch's own or another placement of the same course."""
    # One round trip for the launch's placement, its course and user (the identity map then
    # answers attempts.placement and the dashboard's later reads).
    # (The identity map holds objects weakly: session.info keeps them for the request.)
    session.info["launch_rows"] = session.execute(
        select(ResourceLink, User).options(joinedload(ResourceLink.context))
        .join(User, and_(User.id == ref.user_id,
                         User.registration_id == ResourceLink.registration_id))
        .where(ResourceLink.id == ref.link_id)).all()
    own, _ = attempts.placement(session, ref)
    if link_id is None or link_id == own.id:
        return own
    link = session.get(ResourceLink, link_id)
    if (link is None or link.registration_id != ref.registration_id
            or own.context_pk is None or link.context_pk != own.context_pk):
        raise Forbidden("That placement belongs to another course; open it from its own course.")
    return link


def course_attempt(session: Session, ref: LaunchRef, attempt_id: int) -> Attempt:
    """An attempt on a placement of the launch's course."""
    attempt = session.get(Attempt, attempt_id)
    if attempt is None:
        raise NotFound(f"There is no attempt {attempt_id}.")
    course_placement(session, ref, attempt.resource_link_pk)
    return attempt


def _common(ref: LaunchRef, token: str, link: ResourceLink) -> dict[str, Any]:
    return {"launch": token, "link": link, "csrf": csrf_token(ref), "ref": ref}


# --- dashboard ---


def _sync_roster(session: Session, link: ResourceLink) -> nrps.Roster:
    """Read the course roster (NRPS) and write its learners into the placement's summary rows
    (not started when they have no attempt). A roster written in the last few minutes is not
    read again: the dashboard then needs no roster at all (a large one costs milliseconds just
    to unpickle), and the roster cache keeps the same few minutes anyway."""
    key = f"roster-synced:{link.id}"
    if get_cache().get(key):
        return nrps.Roster()  # synced recently; the rows are in the summary table
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    roster = nrps.link_roster(app, link)
    if roster.ok:
        members = roster.active_learners()
        progress.sync_roster(session, link.id, link.registration_id, members)
        get_cache().set(key, progress.roster_digest(members), timeout=nrps.CACHE_SECONDS)
    return roster


def _dashboard(link_id: int | None) -> ResponseReturnValue:
    ref, token = staff_launch()
    session = get_session()
    link = course_placement(session, ref, link_id)
    query = reports.dashboard_query(request.args)
    roster = _sync_roster(session, link)
    policy = placement_settings(link).attempt_policy
    rows, total = reports.dashboard(session, link, query, policy=policy)
    course_links = list(session.execute(
        select(ResourceLink.id, ResourceLink.title, ResourceLink.resource_link_id)
        .where(ResourceLink.registration_id == link.registration_id,
               ResourceLink.context_pk == link.context_pk)
        .order_by(ResourceLink.id))) if link.context_pk is not None else [link]
    user = session.get(User, ref.user_id)
    return render_template(
        "instructor/overview.html", **_common(ref, token, link), rows=rows, total=total,
        query=query, user=user, scenario_id=content.placement_scenario_id(link),
        roster=roster, policy=policy,
        not_started=reports.count_status(session, link, "not_started") if roster.ok else 0,
        course_links=course_links, statuses=reports.STATUSES, sort_keys=reports.SORT_KEYS,
        deliveries=reports.page_deliveries(session, rows),
        pages=max(1, -(-total // query.per_page)),
        pending_manual_notice=outbox.pending_manual_notice(_platform_product(ref.launch_id))
        if any(row.needs_review for row in rows) else None,
    )


@bp.get("/overview")
def overview() -> ResponseReturnValue:
    """The dashboard of the launch's own placement (where a staff launch lands)."""
    return _dashboard(None)


@bp.get("/instructor/placement/<int:placement_id>")
def dashboard(placement_id: int) -> ResponseReturnValue:
    """The dashboard of a placement of the launch's course."""
    return _dashboard(placement_id)


# --- attempt review ---


def highlight(text: str, spans: list[tuple[int, int]]) -> Markup:
    """The text escaped, with <mark> around the (merged) evidence spans and nothing else."""
    merged: list[list[int]] = []
    for start, end in sorted((max(0, s), min(len(text), e)) for s, e in spans if e > s):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        elif start < end:
            merged.append([start, end])
    out: list[str] = []
    position = 0
    for start, end in merged:
        out.append(str(escape(text[position:start])))
        out.append(f"<mark>{escape(text[start:end])}</mark>")
        position = end
    out.append(str(escape(text[position:])))
    return Markup("".join(out))


def _answer_view(step: Any, value: Any, result: StepResultRecord | None,
                 scenario: Any) -> dict[str, Any]:
    labels = {o.id: o.label for o in step.options}
    evidence_labels = {m.id: m.label for m in scenario.profile.metrics}
    evidence_labels.update({n.id: f"{n.kind.replace('_', ' ')}: {n.text[:80]}"
                            for n in scenario.profile.notes})
    shown: dict[str, Any] = {"kind": "text", "text": ""}
    if value is None:
        shown = {"kind": "none"}
    elif step.grader == "single_choice":
        shown = {"kind": "list", "items": [labels.get(str(value), str(value))]}
    elif step.grader in ("multi_select", "ranking") and isinstance(value, list):
        shown = {"kind": "ordered" if step.grader == "ranking" else "list",
                 "items": [labels.get(str(v), str(v)) for v in value]}
    elif step.grader == "coaching_focus" and isinstance(value, dict):
        shown = {"kind": "focus", "task": labels.get(str(value.get("task")), value.get("task")),
                 "items": [evidence_labels.get(str(e), str(e))
                           for e in value.get("evidence") or []]}
    else:
        spans = [
            (int(ev["start"]), int(ev["end"]))
            for c in (result.criteria if result else [])
            for ev in c.get("evidence") or []
            if ev.get("source", "response") == "response" and ev.get("start") is not None
            and ev.get("end") is not None
        ]
        shown = {"kind": "text", "html": highlight(str(value), spans)}
    return shown


@bp.get("/instructor/attempt/<int:attempt_id>")
def review(attempt_id: int) -> ResponseReturnValue:
    """Every answer with its criteria, evidence, feedback, grader version, audit and history."""
    ref, token = staff_launch()
    session = get_session()
    attempt = course_attempt(session, ref, attempt_id)
    scenario = attempts.scenario_of(attempt)
    answers = attempts.drafts(attempt)
    rows = {row.step_id: row for row in attempt.results}
    steps = [
        {"step": step, "result": rows.get(step.id),
         "answer": _answer_view(step, answers.get(step.id), rows.get(step.id), scenario)}
        for step in scenario.steps
    ]
    return render_template(
        "instructor/review.html", **_common(ref, token, attempt.resource_link),
        attempt=attempt, scenario=scenario, steps=steps,
        current_hash=scenario.content_hash,
        audit=regrade.audit_trail(session, attempt.id),
        history=regrade.history(session, attempt.id),
        delivery=outbox.latest_delivery(session, attempt),
        seconds=(attempt.submitted_at - attempt.created_at).total_seconds()
        if attempt.submitted_at and attempt.created_at else None,
    )


@bp.post("/instructor/attempt/<int:attempt_id>/review")
def decide(attempt_id: int) -> ResponseReturnValue:
    """Confirm or override a step or the total; the audit row and the LMS grade follow."""
    ref, token = staff_launch()
    check_csrf(ref, request.form.get("csrf_token"))
    session = get_session()
    attempt = course_attempt(session, ref, attempt_id)
    actor = session.get(User, ref.user_id)
    if actor is None:
        raise NotFound("Your user record is gone; launch again from your course.")
    regrade.decide(session, attempt, actor, regrade.parse_decision(request.form))
    return redirect(tool_url("instructor.review", attempt_id=attempt.id, launch=token))


# --- review queue ---


@bp.get("/instructor/placement/<int:placement_id>/queue")
def queue(placement_id: int) -> ResponseReturnValue:
    """The steps awaiting an instructor's review on this placement, oldest first."""
    ref, token = staff_launch()
    session = get_session()
    link = course_placement(session, ref, placement_id)
    items = session.execute(
        select(StepResultRecord, Attempt, User)
        .join(Attempt, Attempt.id == StepResultRecord.attempt_id)
        .join(User, User.id == Attempt.user_pk)
        .where(Attempt.resource_link_pk == link.id, StepResultRecord.needs_review.is_(True))
        .order_by(Attempt.submitted_at, Attempt.id, StepResultRecord.id)
        .limit(500)
    ).all()
    return render_template("instructor/queue.html", **_common(ref, token, link), items=items)


# --- item analysis and agreement ---


def _analysis(placement_id: int) -> tuple[LaunchRef, str, ResourceLink, reports.ItemAnalysis,
                                           list[str], Any]:
    ref, token = staff_launch()
    session = get_session()
    link = course_placement(session, ref, placement_id)
    known = reports.scenario_ids_in(session, [link.id])
    scenario_id = request.args.get("scenario") or (
        known[0] if known else content.placement_scenario_id(link))
    scenario = content.load_scenario(scenario_id, None)
    return ref, token, link, reports.item_analysis(session, [link.id], scenario), known, scenario


@bp.get("/instructor/placement/<int:placement_id>/analysis")
def analysis(placement_id: int) -> ResponseReturnValue:
    """Facility, discrimination, distractors, wrong focus, criterion hit rates, histogram."""
    ref, token, link, stats, known, scenario = _analysis(placement_id)
    return render_template("instructor/analysis.html", **_common(ref, token, link),
                           stats=stats, known=known, scenario=scenario,
                           chart_data=_chart_data(stats))


@bp.get("/instructor/placement/<int:placement_id>/analysis.json")
def analysis_json(placement_id: int) -> ResponseReturnValue:
    """The item analysis as JSON (the API behind the charts)."""
    _, _, _, stats, _, _ = _analysis(placement_id)
    from dataclasses import asdict

    return jsonify(asdict(stats))


def _chart_data(stats: reports.ItemAnalysis) -> dict[str, Any]:
    return {
        "histogram": {"labels": [f"{10 * i}-{10 * i + 9 if i < 9 else 100}%"
                                 for i in range(10)], "values": list(stats.histogram)},
        "steps": {"labels": [s.title for s in stats.steps],
                  "facility": [None if s.facility is None else round(s.facility, 1)
                               for s in stats.steps],
                  "discrimination": [None if s.discrimination is None
                                     else round(s.discrimination, 1) for s in stats.steps]},
    }


@bp.get("/instructor/placement/<int:placement_id>/agreement")
def agreement(placement_id: int) -> ResponseReturnValue:
    """Grader vs instructor agreement per scenario, step and criterion, with flags."""
    ref, token = staff_launch()
    session = get_session()
    link = course_placement(session, ref, placement_id)
    return render_template(
        "instructor/agreement.html", **_common(ref, token, link),
        rows=reports.agreement_report(session, [link.id]),
        qwk_threshold=reports.QWK_THRESHOLD, smd_threshold=reports.SMD_THRESHOLD,
    )


# --- export and regrade ---


def _export_steps(session: Session, link: ResourceLink) -> list[str]:
    """Step ids of every scenario played on the placement (the export's step columns)."""
    step_ids: list[str] = []
    for scenario_id in reports.scenario_ids_in(session, [link.id]) or [
            content.placement_scenario_id(link)]:
        try:
            scenario = content.load_scenario(scenario_id, None)
        except NotFound:
            continue
        step_ids.extend(s.id for s in scenario.steps if s.id not in step_ids)
    return step_ids


@bp.get("/instructor/placement/<int:placement_id>/export.csv")
def export_csv(placement_id: int) -> ResponseReturnValue:
    """Every attempt with per-step scores, streamed as CSV."""
    ref, _ = staff_launch()
    session = get_session()
    link = course_placement(session, ref, placement_id)
    step_ids = _export_steps(session, link)
    link_id = link.id

    def rows() -> Iterator[str]:
        # The request's session is closed when the view returns, before the body streams: the
        # generator owns a session (and its server-side cursor) and closes it when done.
        with database().sessions() as own:
            yield from reports.export_rows(own, [link_id], step_ids)

    return Response(
        stream_with_context(rows()), mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="coachlab-placement-{link.id}.csv"',
                 "Cache-Control": "no-store"},
    )


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.get("/instructor/placement/<int:placement_id>/export.xlsx")
def export_xlsx(placement_id: int) -> ResponseReturnValue:
    """The same export as an Excel workbook: built row by row in a temporary file (write-only
    mode), then streamed from it in chunks."""
    ref, _ = staff_launch()
    session = get_session()
    link = course_placement(session, ref, placement_id)
    step_ids = _export_steps(session, link)
    link_id = link.id

    sessions = database().sessions  # the generator runs after the request's context is gone

    def chunks() -> Iterator[bytes]:
        with tempfile.TemporaryFile() as spool:
            with sessions() as own:
                reports.export_xlsx(reports.export_records(own, [link_id], step_ids), spool)
            spool.seek(0)
            while block := spool.read(64 * 1024):
                yield block

    return Response(
        chunks(), mimetype=XLSX,
        headers={"Content-Disposition":
                 f'attachment; filename="coachlab-placement-{link.id}.xlsx"',
                 "Cache-Control": "no-store"},
    )


@bp.post("/instructor/placement/<int:placement_id>/regrade")
def regrade_placement(placement_id: int) -> ResponseReturnValue:
    """Re-score this placement's graded attempts against the current versions."""
    ref, token = staff_launch()
    check_csrf(ref, request.form.get("csrf_token"))
    session = get_session()
    link = course_placement(session, ref, placement_id)
    ids = regrade.regrade_candidates(session, link_ids=[link.id])
    outcomes = regrade.regrade(session, ids)
    return render_template(
        "instructor/regraded.html", **_common(ref, token, link), outcomes=outcomes,
        changed=sum(1 for o in outcomes if o.changed),
        failed=[o for o in outcomes if o.error],
    )


def _platform_product(launch_id: str) -> str | None:
    """The LMS product (tool_platform.product_family_code) of this launch, when still cached."""
    from lti_tool.lti.launch import launch_storage

    body = launch_storage().get_value(launch_id)
    platform = body.get(CLAIM + "tool_platform") if isinstance(body, dict) else None
    code = platform.get("product_family_code") if isinstance(platform, dict) else None
    return str(code) if code else None
