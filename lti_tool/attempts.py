"""Attempts: drafts, submission (committed before grading), grading and stored results."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from lti_tool import content, outbox, progress
from lti_tool.errors import Forbidden, GradingFailed, InvalidAnswer, NotFound
from lti_tool.lti.references import LaunchRef
from lti_tool.models import Attempt, ResourceLink, StepResponse, StepResultRecord, User, utcnow
from lti_tool.placements import placement_settings

if TYPE_CHECKING:
    from graders.scoring import AttemptResult
    from scenarios.model import Scenario

OPEN = "in_progress"
DONE = ("graded", "needs_review", "overridden")


_PLACEMENT = (select(ResourceLink, User).join(User, User.id == bindparam("user_id"))
              .where(ResourceLink.id == bindparam("link_id")))
"""A launch's link and user in one round trip (built once, like the launch's statements)."""


def placement(session: Session, ref: LaunchRef) -> tuple[ResourceLink, User]:
    """The link and user of a launch (both scoped to the launch's registration)."""
    row = session.execute(_PLACEMENT, {"link_id": ref.link_id, "user_id": ref.user_id}).first()
    link, user = (row[0], row[1]) if row is not None else (None, None)
    if link is None or user is None or link.registration_id != ref.registration_id:
        raise NotFound("This launch's placement no longer exists; launch again from your course.")
    return link, user


_LATEST_COUNTED = (
    select(Attempt, func.count().over().label("attempts_total"))
    .where(Attempt.resource_link_pk == bindparam("link_id"),
           Attempt.user_pk == bindparam("user_id"))
    .order_by(Attempt.id.desc())
    .limit(1)
    .options(joinedload(Attempt.responses))
)
"""The latest attempt with its answers, and how many attempts there are, in one statement
(the window count runs before the LIMIT)."""


def latest_attempt_counted(session: Session, link: ResourceLink,
                           user: User) -> tuple[Attempt | None, int]:
    """latest_attempt, and how many attempts the user has on this placement: the page a
    launch opens needs both (a first attempt starts on the lesson, which lists the others)."""
    row = session.execute(_LATEST_COUNTED, {"link_id": link.id, "user_id": user.id}
                          ).unique().first()
    return (row[0], int(row[1])) if row is not None else (None, 0)


def latest_attempt(session: Session, link: ResourceLink, user: User) -> Attempt | None:
    """The user's most recent attempt on this placement, its answers loaded with it (every
    page that shows the attempt reads them)."""
    return latest_attempt_counted(session, link, user)[0]


class NoAttemptsLeft(Forbidden):
    """The placement's attempt limit is used up."""

    title = "No attempts left"


def attempts_used(session: Session, link: ResourceLink, user: User) -> int:
    """How many attempts the user has started on this placement."""
    return int(session.scalar(
        select(func.count(Attempt.id))
        .where(Attempt.resource_link_pk == link.id, Attempt.user_pk == user.id)
    ) or 0)


def attempts_left(session: Session, link: ResourceLink, user: User) -> int | None:
    """Attempts the user may still start here; None when the placement allows unlimited."""
    allowed = placement_settings(link).attempts_allowed
    if allowed is None:
        return None
    return max(0, allowed - attempts_used(session, link, user))


def start_attempt(session: Session, link: ResourceLink, user: User) -> Attempt:
    """A new in-progress attempt on the placement's scenario (variant fixed per learner)."""
    allowed = placement_settings(link).attempts_allowed
    if allowed is not None and attempts_used(session, link, user) >= allowed:
        raise NoAttemptsLeft(
            f"You have used all {allowed} attempt{'s' if allowed != 1 else ''} this activity "
            "allows. Your results stay available; ask your instructor if you need another try."
        )
    scenario_id = content.placement_scenario_id(link)
    learner_key = f"{link.registration_id}:{user.subject}:{link.id}"
    used = attempts_used(session, link, user)
    # A new attempt gets a new variant (when the scenario has them); the first keeps the
    # learner's own variant, so a relaunch before any submission shows the same seller.
    seed = content.variant_seed(scenario_id, learner_key if used == 0 else f"{learner_key}:{used}")
    scenario = content.load_scenario(scenario_id, seed)
    attempt = Attempt(
        resource_link_pk=link.id,
        user_pk=user.id,
        scenario_id=scenario.id,
        scenario_version=str(scenario.version),
        content_hash=scenario.content_hash,
        variant_seed=seed,
        status=OPEN,
    )
    session.add(attempt)
    session.commit()
    return attempt


def current_attempt(
    session: Session, link: ResourceLink, user: User,
    latest: tuple[Attempt | None, int] | None = None,
) -> tuple[Attempt, int]:
    """The attempt the player shows (the latest one, or a new one when there is none) and
    how many attempts the user now has on this placement. `latest` is latest_attempt_counted's
    answer when the caller read it already (the launch reads it with the user and link)."""
    attempt, total = latest if latest is not None else latest_attempt_counted(session, link, user)
    if attempt is None:
        return start_attempt(session, link, user), 1
    return attempt, total


_OWNED_OPTIONS = (joinedload(Attempt.responses), joinedload(Attempt.resource_link),
                  joinedload(Attempt.user))


def owned_attempt(session: Session, ref: LaunchRef, attempt_id: int) -> Attempt:
    """An attempt of this launch's placement that the launching user may see (its answers,
    link and user loaded in the same round trip: submit and the result page use them)."""
    attempt = session.get(Attempt, attempt_id, options=_OWNED_OPTIONS)
    if attempt is None or attempt.resource_link_pk != ref.link_id:
        raise NotFound(f"There is no attempt {attempt_id} on this activity.")
    if attempt.user_pk != ref.user_id and not ref.staff:
        raise Forbidden("This attempt belongs to another learner.")
    return attempt


def scenario_of(attempt: Attempt) -> Scenario:
    """The scenario (variant) the attempt is played and graded against."""
    return content.load_scenario(attempt.scenario_id, attempt.variant_seed)


def drafts(attempt: Attempt) -> dict[str, Any]:
    """Step id -> the stored answer (draft or submitted)."""
    return {response.step_id: response.value for response in attempt.responses}


def _store(attempt: Attempt, values: Mapping[str, object], state: str) -> None:
    existing = {response.step_id: response for response in attempt.responses}
    for step_id, value in values.items():
        row = existing.get(step_id)
        if row is None:
            attempt.responses.append(StepResponse(step_id=step_id, value=value, state=state))
        else:
            row.value = value
            row.state = state


def save_drafts(session: Session, attempt: Attempt, values: Mapping[str, object]) -> None:
    """Keep what the learner entered so far (an incomplete form is not lost)."""
    if attempt.status != OPEN:
        raise Forbidden("This attempt is already submitted; its answers cannot change.")
    _store(attempt, values, "draft")
    session.commit()


def save_step_draft(session: Session, attempt: Attempt, step_id: str, value: object) -> None:
    """Keep one step's draft (autosave); None removes it (the learner cleared the answer)."""
    for last_try in (False, True):
        if attempt.status != OPEN:
            raise Forbidden("This attempt is already submitted; its answers cannot change.")
        if value is None:
            for row in [r for r in attempt.responses if r.step_id == step_id]:
                attempt.responses.remove(row)
        else:
            _store(attempt, {step_id: value}, "draft")
        try:
            session.commit()
            return
        except IntegrityError:
            # An autosave and a button press of the same step raced and the other inserted
            # the row first: reload the attempt and update that row instead.
            session.rollback()
            if last_try:
                raise
            session.refresh(attempt)


def set_resume_point(session: Session, attempt: Attempt, position: str) -> None:
    """Remember the page the learner is on, so a relaunch (any device) comes back to it."""
    if attempt.status == OPEN and attempt.resume_at != position:
        attempt.resume_at = position
        session.commit()


def history(session: Session, link: ResourceLink, user: User) -> list[Attempt]:
    """The user's attempts on this placement, oldest first (the learner's attempt history)."""
    return list(session.scalars(
        select(Attempt)
        .where(Attempt.resource_link_pk == link.id, Attempt.user_pk == user.id)
        .order_by(Attempt.id)
    ))


def submit(session: Session, attempt: Attempt, responses: Mapping[str, object]) -> None:
    """Store the answers as submitted and COMMIT, before any grading starts."""
    # One atomic transition, so two submits racing (a double click) cannot both go through.
    moved = session.execute(
        update(Attempt)
        .where(Attempt.id == attempt.id, Attempt.status == OPEN)
        .values(status="submitted", submitted_at=utcnow())
    )
    if getattr(moved, "rowcount", 0) != 1:
        session.rollback()
        raise Forbidden("This attempt is already submitted; start a new attempt to answer again.")
    _store(attempt, responses, "submitted")
    progress.touch(session, attempt)  # the bulk UPDATE above bypassed the session's hooks
    session.commit()


def _reopen(session: Session, attempt: Attempt) -> None:
    """Back to in progress, answers back to drafts: the learner can correct and resend."""
    attempt.status = OPEN
    attempt.submitted_at = None
    for response in attempt.responses:
        response.state = "draft"
    session.commit()


def _grade(session: Session, attempt: Attempt, scenario: Scenario) -> AttemptResult:
    from graders.base import ResponseError
    from graders.scoring import grade_attempt

    lib = content.library()
    try:
        return grade_attempt(scenario, drafts(attempt), lib.catalogue)
    except ResponseError as error:
        _reopen(session, attempt)
        raise InvalidAnswer(
            f"{error} Your answers are kept; correct them and submit again."
        ) from error
    except Exception as error:
        # The answers are committed already; say so, and keep the cause for the log.
        raise GradingFailed(
            "Your answers were saved, but grading them failed on our side. Your instructor can "
            "see your submission; please tell them. You do not need to answer again."
        ) from error


def grade(session: Session, attempt: Attempt) -> AttemptResult:
    """Grade a submitted attempt and store the result of every step with its grader version."""
    scenario = scenario_of(attempt)
    result = _grade(session, attempt, scenario)
    store_result(session, attempt, scenario, result)
    # The score for the LMS commits with the result, or neither does (transactional outbox).
    outbox.enqueue_score(session, attempt)
    session.commit()
    return result


def store_result(
    session: Session, attempt: Attempt, scenario: Scenario, result: AttemptResult
) -> None:
    """Write a grading result onto the attempt's step rows and their indexed rows (no commit)."""
    from lti_tool.reports import index_result

    weights = {step.id: step.weight for step in scenario.steps}
    existing = {row.step_id: row for row in attempt.results}
    for step_id, step_result in result.steps.items():
        row = existing.get(step_id)
        if row is None:
            row = StepResultRecord(step_id=step_id)
            attempt.results.append(row)
        row.score = step_result.score
        row.weight = weights.get(step_id, 0.0)
        row.criteria = [asdict(criterion) for criterion in step_result.criteria]
        row.feedback = list(step_result.feedback)
        row.confidence = step_result.confidence
        row.needs_review = step_result.needs_review
        row.grader = step_result.grader
        row.grader_version = step_result.grader_version
        row.graded_at = utcnow()
        row.machine_score = step_result.score
    attempt.score = result.score
    attempt.status = "needs_review" if result.needs_review else "graded"
    attempt.graded_at = utcnow()
    index_result(session, attempt, scenario)


def placement_attempts(session: Session, link: ResourceLink) -> list[Attempt]:
    """Every attempt on a placement, newest first (the instructor overview)."""
    return list(
        session.scalars(
            select(Attempt).where(Attempt.resource_link_pk == link.id).order_by(Attempt.id.desc())
        )
    )
