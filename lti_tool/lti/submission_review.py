"""LtiSubmissionReviewRequest: the gradebook opens one learner's attempt on a placement.

An instructor sees the learner named in the for_user claim; a learner sees only their own
attempt. Everything is looked up under the launch's registration and resource link, so a
review launch can never reach another platform's or another link's attempts.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.errors import Forbidden, NotFound
from lti_tool.lti.references import LaunchRef
from lti_tool.models import Attempt, User
from lti_tool.placements import placement_settings

FOR_USER = "https://purl.imsglobal.org/spec/lti/claim/for_user"
REVIEWABLE = ("graded", "needs_review", "overridden", "submitted")


def reviewed_subject(body: dict[str, Any]) -> str:
    """The user id of the learner whose submission the gradebook asked for."""
    for_user = body.get(FOR_USER) or {}
    subject = str(for_user.get("user_id") or "")
    if not subject:
        raise NotFound("The LMS asked to review a submission but named no learner (for_user).")
    return subject


def review_attempt(session: Session, ref: LaunchRef, subject: str) -> Attempt:
    """The attempt that counts for `subject` on the launch's placement (scoped to it)."""
    viewer = session.get(User, ref.user_id)
    if viewer is None or viewer.registration_id != ref.registration_id:
        raise NotFound("This launch's user no longer exists; open the review again.")
    if subject != viewer.subject and not ref.staff:
        raise Forbidden("You can review only your own submission.")
    learner = session.scalar(select(User).where(User.registration_id == ref.registration_id,
                                                User.subject == subject))
    rows = [] if learner is None else list(session.scalars(
        select(Attempt)
        .where(Attempt.resource_link_pk == ref.link_id, Attempt.user_pk == learner.id,
               Attempt.status.in_(REVIEWABLE))
        .order_by(Attempt.id)
    ))
    if not rows:
        who = "You have" if subject == viewer.subject else "This learner has"
        raise NotFound(f"{who} no submitted attempt on this activity yet.")
    link = rows[0].resource_link
    if placement_settings(link).attempt_policy == "best":
        scored = [a for a in rows if a.score is not None]
        if scored:
            return max(scored, key=lambda a: (a.score or 0.0, a.id))
    return rows[-1]
