"""Changing grades after the fact: instructor confirmations and overrides (with the audit
trail), and regrading attempts against the current scenario and grader versions.

Every replaced step result is copied to the result history first; every instructor decision
is one append-only GradeAudit row. A grade that changed goes back to the LMS.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from flask import has_app_context
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from lti_tool.errors import Forbidden, InvalidAnswer
from lti_tool.models import (
    Attempt,
    GradeAudit,
    ResultHistory,
    StepResultRecord,
    User,
    utcnow,
)

REVIEWABLE = ("graded", "needs_review", "overridden")
STATUSES = ("met", "partial", "missed")


class AuditTrailIsAppendOnly(Forbidden):
    """Someone tried to change or delete a grade audit row."""


@event.listens_for(GradeAudit, "before_update")
@event.listens_for(GradeAudit, "before_delete")
def _refuse_change(_mapper: Any, _connection: Any, target: GradeAudit) -> None:
    raise AuditTrailIsAppendOnly(
        f"Grade audit row {target.id} cannot be changed or deleted: the trail is append-only. "
        "Record a new decision instead."
    )


def _archive(session: Session, attempt: Attempt, row: StepResultRecord, reason: str) -> None:
    session.add(ResultHistory(
        attempt_id=attempt.id, step_id=row.step_id, score=row.score,
        criteria=list(row.criteria), feedback=list(row.feedback), grader=row.grader,
        grader_version=row.grader_version, content_hash=attempt.content_hash,
        graded_at=row.graded_at, replaced_at=utcnow(), reason=reason,
    ))


def _total(attempt: Attempt) -> float:
    weight = sum(row.weight for row in attempt.results)
    if weight <= 0:
        return sum(row.score for row in attempt.results) / max(1, len(attempt.results))
    return sum(row.score * row.weight for row in attempt.results) / weight


def queue_grade(session: Session, attempt: Attempt, comment: str | None = None) -> None:
    """Queue the attempt's (changed) grade for the LMS in this transaction, commit, wake the
    delivery worker. FullyGraded unless a step still awaits review."""
    from lti_tool import outbox

    progress = "PendingManual" if attempt.status == "needs_review" else "FullyGraded"
    outbox.enqueue_score(session, attempt, comment=comment, grading_progress=progress)
    session.commit()
    if has_app_context():
        outbox.wake_worker()


@dataclass(frozen=True)
class Decision:
    """An instructor's decision on one step (step_id) or on the total (step_id None)."""

    action: str
    """confirm or override."""
    step_id: str | None
    score: float | None = None
    """The new score in [0, 1] (override only)."""
    criteria: tuple[tuple[str, str], ...] = ()
    """Criterion id -> status the instructor gives (override of a step)."""
    comment: str = ""


def parse_decision(form: Any) -> Decision:
    """Read a review form; InvalidAnswer says what is missing."""
    action = form.get("action", "")
    if action not in ("confirm", "override"):
        raise InvalidAnswer("Choose confirm or override.")
    step_id = form.get("step") or None
    comment = (form.get("comment") or "").strip()[:4000]
    score: float | None = None
    if action == "override":
        raw = (form.get("score") or "").strip().rstrip("%")
        try:
            score = float(raw) / 100.0
        except ValueError:
            raise InvalidAnswer(
                f"The new score {raw!r} is not a number; give a percentage from 0 to 100."
            ) from None
        if not 0.0 <= score <= 1.0:
            raise InvalidAnswer("The new score must be a percentage from 0 to 100.")
        if not comment:
            raise InvalidAnswer("An override needs a comment saying why (it goes in the audit "
                                "trail and to the learner's gradebook).")
    criteria = tuple(
        (key.split(".", 1)[1], value) for key, value in form.items()
        if key.startswith("criterion.") and value in STATUSES
    )
    return Decision(action, step_id, score, criteria, comment)


def decide(session: Session, attempt: Attempt, actor: User, decision: Decision) -> GradeAudit:
    """Apply a confirm or override, append its audit row, and send the grade to the LMS."""
    if attempt.status not in REVIEWABLE:
        raise InvalidAnswer(f"Attempt {attempt.id} is {attempt.status.replace('_', ' ')}; only "
                            "graded attempts can be reviewed.")
    audit = GradeAudit(
        registration_id=actor.registration_id, attempt_id=attempt.id,
        scenario_id=attempt.scenario_id, step_id=decision.step_id, action=decision.action,
        comment=decision.comment, actor_user_pk=actor.id,
        actor_name=actor.name or actor.subject, created_at=utcnow(),
    )
    if decision.step_id is None:
        audit.old_score = attempt.score
        audit.new_score = decision.score if decision.action == "override" else attempt.score
        if decision.action == "override":
            attempt.score = decision.score
            attempt.status = "overridden"
        for result in attempt.results:
            result.needs_review = False
        if decision.action == "confirm" and attempt.status == "needs_review":
            attempt.status = "graded"
    else:
        rows = {row.step_id: row for row in attempt.results}
        row = rows.get(decision.step_id)
        if row is None:
            raise InvalidAnswer(f"Attempt {attempt.id} has no graded step {decision.step_id!r}.")
        machine = {str(c.get("id")): str(c.get("status")) for c in row.criteria}
        audit.old_score = row.score
        audit.machine_score = row.machine_score if row.machine_score is not None else row.score
        audit.machine_criteria = machine
        if decision.action == "override":
            assert decision.score is not None
            _archive(session, attempt, row, "override")
            row.score = decision.score
            given = dict(decision.criteria)
            audit.human_criteria = {cid: given.get(cid, status) for cid, status in machine.items()}
        else:
            audit.human_criteria = dict(machine)
        audit.new_score = row.score
        row.needs_review = False
        attempt.score = _total(attempt)
        overridden = decision.action == "override" or session.scalar(
            select(GradeAudit.id).where(GradeAudit.attempt_id == attempt.id,
                                        GradeAudit.action == "override").limit(1)
        ) is not None
        if any(r.needs_review for r in attempt.results):
            attempt.status = "needs_review"
        else:
            attempt.status = "overridden" if overridden else "graded"
    session.add(audit)
    queue_grade(session, attempt, comment=decision.comment or None)
    return audit


def audit_trail(session: Session, attempt_id: int) -> list[GradeAudit]:
    """Every decision on an attempt, oldest first."""
    return list(session.scalars(
        select(GradeAudit).where(GradeAudit.attempt_id == attempt_id).order_by(GradeAudit.id)
    ))


def history(session: Session, attempt_id: int) -> list[ResultHistory]:
    """Every replaced step result of an attempt, oldest first."""
    return list(session.scalars(
        select(ResultHistory).where(ResultHistory.attempt_id == attempt_id)
        .order_by(ResultHistory.id)
    ))


# --- regrading ---


@dataclass(frozen=True)
class RegradeOutcome:
    """What regrading one attempt did."""

    attempt_id: int
    old_score: float | None
    new_score: float | None
    changed: bool
    error: str = ""


def regrade_candidates(
    session: Session, scenario_id: str | None = None, link_ids: Sequence[int] | None = None,
) -> list[int]:
    """Ids of graded attempts to regrade (attempts an instructor overrode are left alone)."""
    stmt = select(Attempt.id).where(Attempt.status.in_(("graded", "needs_review")))
    if scenario_id:
        stmt = stmt.where(Attempt.scenario_id == scenario_id)
    if link_ids is not None:
        stmt = stmt.where(Attempt.resource_link_pk.in_(link_ids))
    return list(session.scalars(stmt.order_by(Attempt.id)))


def regrade_attempt(session: Session, attempt: Attempt) -> RegradeOutcome:
    """Re-score against the current scenario and graders; history keeps the old result."""
    from graders.scoring import grade_attempt
    from lti_tool import attempts, content

    old = attempt.score
    old_status = attempt.status
    try:
        scenario = content.load_scenario(attempt.scenario_id, attempt.variant_seed)
        result = grade_attempt(scenario, attempts.drafts(attempt), content.library().catalogue)
    except Exception as error:  # a broken scenario or answer must not stop the whole run
        session.rollback()
        return RegradeOutcome(attempt.id, old, old, False, f"{type(error).__name__}: {error}")
    for row in attempt.results:
        _archive(session, attempt, row, "regrade")
    attempt.content_hash = scenario.content_hash
    attempt.scenario_version = str(scenario.version)
    attempts.store_result(session, attempt, scenario, result)
    changed = (old is None or abs(old - result.score) > 1e-9) or old_status != attempt.status
    if changed:
        queue_grade(session, attempt, comment="Regraded against the current scenario version.")
    else:
        session.commit()
    return RegradeOutcome(attempt.id, old, attempt.score, changed)


def regrade(
    session: Session, attempt_ids: Iterable[int],
    on_done: Callable[[RegradeOutcome], None] | None = None,
) -> list[RegradeOutcome]:
    """Regrade each attempt in turn (one transaction each), reporting progress."""
    outcomes = []
    for attempt_id in attempt_ids:
        attempt = session.get(Attempt, attempt_id)
        if attempt is None:
            continue
        outcome = regrade_attempt(session, attempt)
        outcomes.append(outcome)
        if on_done is not None:
            on_done(outcome)
    return outcomes

