"""Persistent data: platform registrations and what launches and attempts leave behind.

Every user, context and resource link belongs to one registration, so nothing crosses from one
LMS to another even when two platforms send the same ids. Models own data, not behaviour.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

URL = String(2048)


def utcnow() -> datetime:
    """Timezone-aware now (stored as UTC)."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Declarative base of every coachlab table."""

    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class PlatformRegistration(Base):
    """One LMS (issuer + client id) registered with this tool."""

    __tablename__ = "platform_registrations"
    __table_args__ = (UniqueConstraint("issuer", "client_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer: Mapped[str] = mapped_column(String(255))
    client_id: Mapped[str] = mapped_column(String(255))
    auth_login_url: Mapped[str] = mapped_column(URL)
    auth_token_url: Mapped[str] = mapped_column(URL)
    key_set_url: Mapped[str | None] = mapped_column(URL)
    key_set: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """Inline public key set (used instead of fetching key_set_url when present)."""
    audience: Mapped[str | None] = mapped_column(String(2048))
    """Audience of the tool's token requests when it differs from the token URL."""
    allow_any_deployment: Mapped[bool] = mapped_column(default=False, server_default=false())
    """Trusted registration: accept (and record) deployment ids not listed yet."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    deployments: Mapped[list[Deployment]] = relationship(
        back_populates="registration", cascade="all, delete-orphan", order_by="Deployment.id"
    )


class Deployment(Base):
    """A deployment id of a registration (one per LMS install or course placement of the tool)."""

    __tablename__ = "deployments"
    __table_args__ = (UniqueConstraint("registration_id", "deployment_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("platform_registrations.id", ondelete="CASCADE"), index=True
    )
    deployment_id: Mapped[str] = mapped_column(String(255))

    registration: Mapped[PlatformRegistration] = relationship(back_populates="deployments")


class User(Base):
    """A person as one platform knows them (the id_token's `sub`)."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("registration_id", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("platform_registrations.id", ondelete="CASCADE"), index=True
    )
    subject: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255), default="")
    email: Mapped[str] = mapped_column(String(255), default="")
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class Context(Base):
    """A course (LTI context) on one platform."""

    __tablename__ = "contexts"
    __table_args__ = (UniqueConstraint("registration_id", "context_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("platform_registrations.id", ondelete="CASCADE"), index=True
    )
    context_id: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(255), default="")
    label: Mapped[str] = mapped_column(String(255), default="")
    nrps_endpoint: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """The Names and Role Provisioning claim of the latest launch (context_memberships_url)."""


class ResourceLink(Base):
    """A placement: an LMS resource link bound to a scenario or module, with its settings."""

    __tablename__ = "resource_links"
    __table_args__ = (UniqueConstraint("registration_id", "resource_link_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("platform_registrations.id", ondelete="CASCADE"), index=True
    )
    context_pk: Mapped[int | None] = mapped_column(
        ForeignKey("contexts.id", ondelete="SET NULL"), index=True
    )
    deployment_id: Mapped[str] = mapped_column(String(255))
    resource_link_id: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(255), default="")
    scenario_id: Mapped[str | None] = mapped_column(String(255))
    """Custom parameter `scenario` of the latest launch."""
    module_id: Mapped[str | None] = mapped_column(String(255))
    """Custom parameter `module` of the latest launch."""
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """Attempts allowed, which attempt counts, points (later issues fill these in)."""
    ags_endpoint: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """The AGS endpoint claim of the latest launch (scopes, lineitem, lineitems)."""
    ags_lineitem: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """The line item the outbox found or created when launches offer only the lineitems URL."""

    context: Mapped[Context | None] = relationship()


class Attempt(Base):
    """One learner's work on a placement, with what it was graded against."""

    __tablename__ = "attempts"
    __table_args__ = (
        Index("ix_attempts_link_scenario_status", "resource_link_pk", "scenario_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_link_pk: Mapped[int] = mapped_column(
        ForeignKey("resource_links.id", ondelete="CASCADE"), index=True
    )
    user_pk: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    scenario_id: Mapped[str] = mapped_column(String(255))
    scenario_version: Mapped[str] = mapped_column(String(64), default="")
    content_hash: Mapped[str] = mapped_column(String(128))
    variant_seed: Mapped[int | None] = mapped_column()
    status: Mapped[str] = mapped_column(String(32), default="in_progress")
    """in_progress, submitted, graded, needs_review, overridden."""
    score: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    graded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    grade_sync_status: Mapped[str | None] = mapped_column(String(32))
    """None (not sent), sent, failed, not_available (no AGS claim)."""
    grade_sync_error: Mapped[str | None] = mapped_column(Text)
    resume_at: Mapped[str | None] = mapped_column(String(32))
    """The player page the learner last saw ('lesson', 'seller', 'step-2', 'review')."""

    user: Mapped[User] = relationship()
    resource_link: Mapped[ResourceLink] = relationship()
    responses: Mapped[list[StepResponse]] = relationship(
        back_populates="attempt", cascade="all, delete-orphan", order_by="StepResponse.id"
    )
    results: Mapped[list[StepResultRecord]] = relationship(
        back_populates="attempt", cascade="all, delete-orphan", order_by="StepResultRecord.id"
    )


class StepResponse(Base):
    """A learner's answer to one step: a draft until the attempt is submitted."""

    __tablename__ = "step_responses"
    __table_args__ = (UniqueConstraint("attempt_id", "step_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id", ondelete="CASCADE"))
    step_id: Mapped[str] = mapped_column(String(255))
    value: Mapped[Any] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16), default="draft")
    """draft or submitted."""
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    attempt: Mapped[Attempt] = relationship(back_populates="responses")


class StepResultRecord(Base):
    """A grader's verdict on one step of an attempt, with the grader that gave it."""

    __tablename__ = "step_results"
    __table_args__ = (UniqueConstraint("attempt_id", "step_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id", ondelete="CASCADE"))
    step_id: Mapped[str] = mapped_column(String(255))
    score: Mapped[float] = mapped_column(Float)
    weight: Mapped[float] = mapped_column(Float, default=0.0)
    criteria: Mapped[list[Any]] = mapped_column(JSON, default=list)
    feedback: Mapped[list[Any]] = mapped_column(JSON, default=list)
    confidence: Mapped[float] = mapped_column(Float, default=1.0)
    needs_review: Mapped[bool] = mapped_column(default=False)
    grader: Mapped[str] = mapped_column(String(64))
    grader_version: Mapped[str] = mapped_column(String(32))
    graded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    machine_score: Mapped[float | None] = mapped_column(Float)
    """The grader's score, kept when an instructor overrides `score`."""

    attempt: Mapped[Attempt] = relationship(back_populates="results")


class DemoScore(Base):
    """A score the built-in demo LMS received over AGS (the demo's own gradebook)."""

    __tablename__ = "demo_lms_scores"

    id: Mapped[int] = mapped_column(primary_key=True)
    lineitem: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[str] = mapped_column(String(255))
    score_given: Mapped[float | None] = mapped_column(Float)
    score_maximum: Mapped[float | None] = mapped_column(Float)
    activity_progress: Mapped[str] = mapped_column(String(32), default="")
    grading_progress: Mapped[str] = mapped_column(String(32), default="")
    comment: Mapped[str] = mapped_column(Text, default="")
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


# --- Grade passback: the transactional outbox (lti_tool/outbox.py) ---


class OutboxItem(Base):
    """One score for the LMS gradebook, written in the same transaction as the result.

    The worker delivers it over AGS; `tries` records every try. Status: pending, delivered,
    superseded (a newer score of the same user and line item exists, or the LMS already has a
    newer one), failed (gave up after the retry limit) or rejected (the LMS refused it).
    """

    __tablename__ = "grade_outbox"
    __table_args__ = (
        Index("ix_grade_outbox_due", "status", "next_try_at"),
        Index("ix_grade_outbox_series", "resource_link_pk", "user_pk", "score_timestamp"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(
        ForeignKey("attempts.id", ondelete="CASCADE"), index=True
    )
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("platform_registrations.id", ondelete="CASCADE")
    )
    resource_link_pk: Mapped[int] = mapped_column(
        ForeignKey("resource_links.id", ondelete="CASCADE")
    )
    user_pk: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    lineitem_url: Mapped[str | None] = mapped_column(URL)
    """The launch's line item; None until found or created through the lineitems URL."""
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    """The AGS score exactly as it is sent (built once, at enqueue)."""
    score_timestamp: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    """The payload's timestamp: strictly increasing per user and placement."""
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    """Number of tries so far."""
    next_try_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """Lease of the worker delivering it now (a crashed worker's lease simply runs out)."""
    claim_token: Mapped[str | None] = mapped_column(String(64))
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    tries: Mapped[list[Any]] = mapped_column(JSON, default=list)
    """Every try: {"at": ISO time, "status_code": int | None, "error": str | None, "outcome"}."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    attempt: Mapped[Attempt] = relationship()


# --- instructor views (issue 7): indexed results, result history, the grade audit trail ---


class CriterionResultRow(Base):
    """One criterion's verdict of a stored step result, as a row (item analysis reads these)."""

    __tablename__ = "step_criterion_results"

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(
        ForeignKey("attempts.id", ondelete="CASCADE"), index=True
    )
    step_id: Mapped[str] = mapped_column(String(255))
    criterion_id: Mapped[str] = mapped_column(String(255))
    label: Mapped[str] = mapped_column(String(255), default="")
    status: Mapped[str] = mapped_column(String(16))
    """met, partial or missed."""
    points: Mapped[float] = mapped_column(Float)
    max_points: Mapped[float] = mapped_column(Float)


class OptionChoiceRow(Base):
    """An option the learner chose in a choice, ranking or focus step (distractor analysis)."""

    __tablename__ = "step_option_choices"

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(
        ForeignKey("attempts.id", ondelete="CASCADE"), index=True
    )
    step_id: Mapped[str] = mapped_column(String(255))
    option_id: Mapped[str] = mapped_column(String(255))
    position: Mapped[int] = mapped_column(default=1)
    """1 for choices; the rank given for ranking steps."""
    correct: Mapped[bool] = mapped_column(default=False)
    """The option is in the key (for ranking: at its key position)."""


class ResultHistory(Base):
    """A step result as it was before a regrade or an override replaced it (never deleted)."""

    __tablename__ = "step_result_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(
        ForeignKey("attempts.id", ondelete="CASCADE"), index=True
    )
    step_id: Mapped[str] = mapped_column(String(255))
    score: Mapped[float] = mapped_column(Float)
    criteria: Mapped[list[Any]] = mapped_column(JSON, default=list)
    feedback: Mapped[list[Any]] = mapped_column(JSON, default=list)
    grader: Mapped[str] = mapped_column(String(64))
    grader_version: Mapped[str] = mapped_column(String(32))
    content_hash: Mapped[str] = mapped_column(String(128), default="")
    graded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    replaced_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    reason: Mapped[str] = mapped_column(String(32))
    """regrade or override."""


class GradeAudit(Base):
    """One instructor decision on a grade: who, when, old -> new, why. Append-only, kept forever.

    No foreign key on purpose: the trail outlives the rows it talks about.
    """

    __tablename__ = "grade_audit"

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(index=True)
    attempt_id: Mapped[int] = mapped_column(index=True)
    scenario_id: Mapped[str] = mapped_column(String(255), index=True)
    step_id: Mapped[str | None] = mapped_column(String(255))
    """None when the decision is about the attempt's total."""
    action: Mapped[str] = mapped_column(String(16))
    """confirm or override."""
    old_score: Mapped[float | None] = mapped_column(Float)
    new_score: Mapped[float | None] = mapped_column(Float)
    machine_score: Mapped[float | None] = mapped_column(Float)
    """The grader's own score for the step (the other rater of the agreement report)."""
    machine_criteria: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """Criterion id -> status the grader gave."""
    human_criteria: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """Criterion id -> status the instructor gave."""
    comment: Mapped[str] = mapped_column(Text, default="")
    actor_user_pk: Mapped[int] = mapped_column()
    actor_name: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

class LearnerProgress(Base):
    """One learner on one placement, summarised for the dashboard (lti_tool/progress.py).

    Derived data: recomputed from the learner's attempts in the transaction that changes them,
    and a row per roster member who has not started (status not_started, attempts 0).
    """

    __tablename__ = "learner_progress"
    __table_args__ = (
        UniqueConstraint("resource_link_pk", "user_pk"),
        Index("ix_learner_progress_link_status", "resource_link_pk", "status"),
        Index("ix_learner_progress_link_name", "resource_link_pk", "sort_name", "user_pk"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_link_pk: Mapped[int] = mapped_column(
        ForeignKey("resource_links.id", ondelete="CASCADE"))
    user_pk: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(32), default="not_started")
    """The latest attempt's status, or not_started."""
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    best_score: Mapped[float | None] = mapped_column(Float)
    last_score: Mapped[float | None] = mapped_column(Float)
    """Score of the latest attempt that has one."""
    mean_score: Mapped[float | None] = mapped_column(Float)
    seconds: Mapped[float | None] = mapped_column(Float)
    """Time spent: submitted minus started, summed over submitted attempts."""
    needs_review: Mapped[bool] = mapped_column(default=False)
    grade_sync: Mapped[str] = mapped_column(String(32), default="")
    latest_attempt_id: Mapped[int | None] = mapped_column(Integer)
    graded_attempt_id: Mapped[int | None] = mapped_column(Integer)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """Submission time of the latest attempt."""
    in_roster: Mapped[bool | None] = mapped_column()
    """True/False once the course roster (NRPS) was read; None when it never was."""
    sort_name: Mapped[str] = mapped_column(String(255), default="")
    """The learner's name in lower case (kept in step with users.name), for sorting."""


# --- security: anonymised aggregates kept after erasure and retention (issue 9) ---


class AnonymousStepScore(Base):
    """One graded step of an erased or expired attempt: the score, with no link to a person."""

    __tablename__ = "anonymous_step_scores"

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int | None] = mapped_column(
        ForeignKey("platform_registrations.id", ondelete="SET NULL"), index=True
    )
    resource_link_pk: Mapped[int | None] = mapped_column(
        ForeignKey("resource_links.id", ondelete="SET NULL"), index=True
    )
    scenario_id: Mapped[str] = mapped_column(String(255))
    scenario_version: Mapped[str] = mapped_column(String(64), default="")
    step_id: Mapped[str] = mapped_column(String(255))
    score: Mapped[float] = mapped_column(Float)
    weight: Mapped[float] = mapped_column(Float, default=0.0)
    grader: Mapped[str] = mapped_column(String(64), default="")
    grader_version: Mapped[str] = mapped_column(String(32), default="")
    # The month only: an exact timestamp could re-identify the learner from access logs.
    graded_month: Mapped[str] = mapped_column(String(7), default="")
    reason: Mapped[str] = mapped_column(String(16), default="")
