"""What a validated launch leaves behind: upserted user, context and placement."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, bindparam, func, literal, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased, joinedload

from lti_tool.errors import LaunchRejected
from lti_tool.lti.claims import LaunchClaims, is_admin, is_staff
from lti_tool.lti.references import LaunchRef
from lti_tool.lti.tool_config import RegistrationInfo
from lti_tool.models import Attempt, Context, PlatformRegistration, ResourceLink, User
from lti_tool.placements import DEFAULT_POINTS, settings_from_custom

UPSERT_TRIES = 3
"""Times a launch's upserts are tried when a concurrent first launch inserted the same row."""


_Earlier = aliased(Attempt)
_LATEST_ID = (
    select(func.max(_Earlier.id))
    .where(_Earlier.resource_link_pk == ResourceLink.id, _Earlier.user_pk == User.id)
    .correlate(ResourceLink, User).scalar_subquery()
)
_ATTEMPTS = (
    select(func.count(_Earlier.id))
    .where(_Earlier.resource_link_pk == ResourceLink.id, _Earlier.user_pk == User.id)
    .correlate(ResourceLink, User).scalar_subquery()
)
_EXISTING = (
    select(User, Context, ResourceLink, Attempt, _ATTEMPTS.label("attempts"))
    .select_from(select(literal(1).label("one")).subquery())
    .outerjoin(User, and_(User.registration_id == bindparam("registration_id"),
                          User.subject == bindparam("subject")))
    .outerjoin(Context, and_(Context.registration_id == bindparam("registration_id"),
                             Context.context_id == bindparam("context_id")))
    .outerjoin(ResourceLink, and_(ResourceLink.registration_id == bindparam("registration_id"),
                                  ResourceLink.resource_link_id == bindparam("link_id")))
    .outerjoin(Attempt, Attempt.id == _LATEST_ID)
    .options(joinedload(Attempt.responses))
)
"""A launch's user, context and link as stored, each or None, in one row (outer joins off a
one-row select), with the user's latest attempt on the link (its answers joined) and how many
attempts they have there: the page a learner's launch answers with needs exactly those, so the
launch reads them in the same round trip. Built once: composing ORM expressions costs more
than running them."""


@dataclass(frozen=True)
class Launched:
    """What record_launch leaves for the page the launch opens."""

    ref: LaunchRef
    link: ResourceLink
    user: User
    latest: Attempt | None
    """The user's latest attempt on the link, its answers loaded (None before the first)."""
    attempts: int
    """How many attempts the user has on the link."""


def _existing(
    session: Session, registration_id: int, claims: LaunchClaims
) -> tuple[User | None, Context | None, ResourceLink | None, Attempt | None, int]:
    """The launch's user, context, link, latest attempt and attempt count as stored, in one
    round trip (a relaunch, the common case, then writes nothing unless a claim changed). A
    launch without a context compares context_id with NULL, which matches no row."""
    row = session.execute(_EXISTING, {
        "registration_id": registration_id, "subject": claims["subject"],
        "context_id": claims["context_id"], "link_id": claims["resource_link_id"],
    }).unique().one()
    return row[0], row[1], row[2], row[3], int(row[4] or 0)


def _update(row: object, **values: object) -> None:
    """Set the attributes that differ: an unchanged relaunch (the common case) then leaves
    nothing dirty, and the session neither flushes nor writes."""
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)


def _user(session: Session, registration_id: int, claims: LaunchClaims,
          user: User | None) -> User:
    if user is None:
        user = User(registration_id=registration_id, subject=claims["subject"])
        session.add(user)
    # An anonymous launch (privacy settings) keeps the name we already had.
    _update(user, name=claims["name"] or user.name or "",
            email=claims["email"] or user.email or "")
    return user


def _context(session: Session, registration_id: int, claims: LaunchClaims,
             context: Context | None) -> Context | None:
    if claims["context_id"] is None:
        return None
    if context is None:
        context = Context(registration_id=registration_id, context_id=claims["context_id"])
        session.add(context)
    _update(context, title=claims["context_title"] or context.title or "",
            label=claims["context_label"] or context.label or "")
    if claims["nrps_endpoint"]:
        _update(context, nrps_endpoint=dict(claims["nrps_endpoint"]))
    return context


def _link(
    session: Session, registration_id: int, claims: LaunchClaims, context: Context | None,
    default_points: float, link: ResourceLink | None,
) -> ResourceLink:
    if link is None:
        link = ResourceLink(
            registration_id=registration_id,
            resource_link_id=claims["resource_link_id"],
            deployment_id=claims["deployment_id"],
            settings={},
        )
        session.add(link)
    if context is None:
        if link.context_pk is not None:
            link.context = None
    elif context.id is None or link.context_pk != context.id:
        link.context = context  # a new context has no id until the flush
    _update(
        link,
        deployment_id=claims["deployment_id"],
        title=claims["resource_link_title"] or link.title or "",
        scenario_id=claims["custom"].get("scenario") or None,
        module_id=claims["custom"].get("module") or None,
        # The link's custom parameters carry its settings on every launch; the latest win.
        settings=settings_from_custom(claims["custom"], default_points).as_json(),
    )
    if claims["ags_endpoint"] is not None:
        _update(link, ags_endpoint=dict(claims["ags_endpoint"]))
    return link


def record_launch(
    session: Session, registration: RegistrationInfo | PlatformRegistration,
    claims: LaunchClaims, launch_id: str,
    admin_subjects: str = "",
    default_points: float = DEFAULT_POINTS,
) -> Launched:
    """Upsert the user, context and placement of a validated launch, commit them when
    anything changed, and return the launch reference with the placement's link, user and
    latest attempt as loaded (the session keeps only weak references to unchanged rows: a
    caller reading them again would pay another query)."""
    if not claims["resource_link_id"]:
        raise LaunchRejected("The launch names no resource link; the LMS must send one.")
    if not claims["subject"]:
        raise LaunchRejected("The launch names no user (sub); anonymous launches cannot play.")
    for tried in range(1, UPSERT_TRIES + 1):
        try:
            found_user, found_context, found_link, latest, attempts = _existing(
                session, registration.id, claims)
            user = _user(session, registration.id, claims, found_user)
            context = _context(session, registration.id, claims, found_context)
            link = _link(session, registration.id, claims, context, default_points,
                         found_link)
            if session.new or session.dirty:
                session.commit()
            break
        except IntegrityError:
            # Two first launches into a new course (or by a new user) both inserted the same
            # row; the other one committed first. Start over: the selects now find its rows.
            session.rollback()
            if tried == UPSERT_TRIES:
                raise
    ref = LaunchRef(
        launch_id=launch_id,
        registration_id=registration.id,
        user_id=user.id,
        link_id=link.id,
        staff=is_staff(claims["roles"]),
        admin=is_admin(claims["roles"], claims["issuer"], claims["subject"], admin_subjects),
    )
    return Launched(ref, link, user, latest, attempts)
