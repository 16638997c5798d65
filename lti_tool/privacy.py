"""Personal data: pseudonyms for learners without a name, erasure on request, retention.

Erasing a learner or purging an expired attempt keeps only anonymised aggregates: one
AnonymousStepScore per graded step (scenario, step, score, grader, month), with no user, no
attempt and no answer. SECURITY.md documents what is kept and why.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.errors import NotFound
from lti_tool.models import (
    AnonymousStepScore,
    Attempt,
    PlatformRegistration,
    ResourceLink,
    User,
    utcnow,
)

if TYPE_CHECKING:
    from flask import Flask


@dataclass(frozen=True)
class Erased:
    """What an erasure or a purge removed (and what it kept, anonymised)."""

    users: int
    attempts: int
    answers: int
    step_scores_kept: int


def pseudonym_of(registration_id: int | None, subject: str) -> str:
    """A stable label for a learner the platform sent no name for (no personal data in it)."""
    digest = hashlib.sha256(f"{registration_id}:{subject}".encode()).hexdigest()
    return f"Learner {digest[:6].upper()}"


def pseudonym(user: User) -> str:
    """The pseudonym of a stored user."""
    return pseudonym_of(user.registration_id, user.subject)


def learner_label(person: Any, registration_id: int | None = None) -> str:
    """The name the platform sent, else the pseudonym (never the raw LMS user id). `person`
    is a User or any row with `name` and `subject` (then pass the registration id)."""
    if person is None:
        return "Erased learner"
    name = getattr(person, "name", "") or ""
    if name:
        return str(name)
    registration = getattr(person, "registration_id", registration_id)
    return pseudonym_of(registration, str(getattr(person, "subject", "")))


def _anonymise(session: Session, attempt: Attempt, reason: str) -> tuple[int, int]:
    """Keep the attempt's step scores without a person, then delete the attempt."""
    link = session.get(ResourceLink, attempt.resource_link_pk)
    kept = 0
    for row in attempt.results:
        session.add(AnonymousStepScore(
            registration_id=link.registration_id if link else None,
            resource_link_pk=attempt.resource_link_pk,
            scenario_id=attempt.scenario_id,
            scenario_version=attempt.scenario_version,
            step_id=row.step_id,
            score=row.score,
            weight=row.weight,
            grader=row.grader,
            grader_version=row.grader_version,
            graded_month=row.graded_at.strftime("%Y-%m") if row.graded_at else "",
            reason=reason,
        ))
        kept += 1
    answers = len(attempt.responses)
    session.delete(attempt)
    return kept, answers


def erase_learner(session: Session, issuer: str, subject: str) -> Erased:
    """Remove one learner (every registration of `issuer`): name, email, answers, attempts;
    keep their step scores anonymised. Commits. NotFound when no such learner exists."""
    users = list(session.scalars(
        select(User).join(PlatformRegistration, PlatformRegistration.id == User.registration_id)
        .where(PlatformRegistration.issuer == issuer, User.subject == subject)
    ))
    if not users:
        raise NotFound(
            f"No learner with subject {subject!r} from issuer {issuer!r}; check both values "
            "(`coachlab platform list` shows the issuers)."
        )
    attempts = kept = answers = 0
    for user in users:
        for attempt in session.scalars(select(Attempt).where(Attempt.user_pk == user.id)):
            step_scores, answer_count = _anonymise(session, attempt, "erased")
            attempts += 1
            kept += step_scores
            answers += answer_count
        session.delete(user)
    session.commit()
    return Erased(users=len(users), attempts=attempts, answers=answers, step_scores_kept=kept)


def purge_expired(session: Session, days: int, now: datetime | None = None) -> Erased:
    """Delete attempts created more than `days` days ago (keeping anonymised step scores).
    `days` <= 0 keeps everything. Commits."""
    if days <= 0:
        return Erased(users=0, attempts=0, answers=0, step_scores_kept=0)
    cutoff = (now or utcnow()) - timedelta(days=days)
    attempts = kept = answers = 0
    for attempt in session.scalars(select(Attempt).where(Attempt.created_at < cutoff)):
        step_scores, answer_count = _anonymise(session, attempt, "retention")
        attempts += 1
        kept += step_scores
        answers += answer_count
    session.commit()
    return Erased(users=0, attempts=attempts, answers=answers, step_scores_kept=kept)


def purge_configured(app: Flask) -> Erased:
    """Run the retention purge with COACHLAB_RETENTION_DAYS (for the CLI and the worker)."""
    from lti_tool.db import database

    with database(app).sessions() as session:
        return purge_expired(session, int(app.config["RETENTION_DAYS"]))


def init_app(app: Flask) -> None:
    """Make `learner_label` available to every template."""
    app.jinja_env.globals["learner_label"] = learner_label
