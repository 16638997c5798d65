"""What a validated launch leaves behind: upserted user, context and placement."""

from __future__ import annotations

from sqlalchemy import and_, bindparam, literal, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lti_tool.errors import LaunchRejected
from lti_tool.lti.claims import LaunchClaims, is_admin, is_staff
from lti_tool.lti.references import LaunchRef
from lti_tool.lti.tool_config import RegistrationInfo
from lti_tool.models import Context, PlatformRegistration, ResourceLink, User
from lti_tool.placements import DEFAULT_POINTS, settings_from_custom

UPSERT_TRIES = 3
"""Times a launch's upserts are tried when a concurrent first launch inserted the same row."""


_EXISTING = (
    select(User, Context, ResourceLink)
    .select_from(select(literal(1).label("one")).subquery())
    .outerjoin(User, and_(User.registration_id == bindparam("registration_id"),
                          User.subject == bindparam("subject")))
    .outerjoin(Context, and_(Context.registration_id == bindparam("registration_id"),
                             Context.context_id == bindparam("context_id")))
    .outerjoin(ResourceLink, and_(ResourceLink.registration_id == bindparam("registration_id"),
                                  ResourceLink.resource_link_id == bindparam("link_id")))
)
"""A launch's user, context and link as stored, each or None, in one row (outer joins off a
one-row select). Built once: composing ORM expressions costs more than running them."""


def _existing(
    session: Session, registration_id: int, claims: LaunchClaims
) -> tuple[User | None, Context | None, ResourceLink | None]:
    """The launch's user, context and link as stored, in one round trip (a relaunch, the
    common case, then writes nothing unless a claim changed). A launch without a context
    compares context_id with NULL, which matches no row."""
    row = session.execute(_EXISTING, {
        "registration_id": registration_id, "subject": claims["subject"],
        "context_id": claims["context_id"], "link_id": claims["resource_link_id"],
    }).one()
    return row[0], row[1], row[2]


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
) -> tuple[LaunchRef, ResourceLink, User]:
    """Upsert the user, context and placement of a validated launch, commit them when
    anything changed, and return the launch reference with the placement's link and user as
    loaded (the session keeps only weak references to unchanged rows: a caller reading them
    again would pay another query)."""
    if not claims["resource_link_id"]:
        raise LaunchRejected("The launch names no resource link; the LMS must send one.")
    if not claims["subject"]:
        raise LaunchRejected("The launch names no user (sub); anonymous launches cannot play.")
    for attempt in range(UPSERT_TRIES):
        try:
            found_user, found_context, found_link = _existing(session, registration.id, claims)
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
            if attempt == UPSERT_TRIES - 1:
                raise
    return LaunchRef(
        launch_id=launch_id,
        registration_id=registration.id,
        user_id=user.id,
        link_id=link.id,
        staff=is_staff(claims["roles"]),
        admin=is_admin(claims["roles"], claims["issuer"], claims["subject"], admin_subjects),
    ), link, user
