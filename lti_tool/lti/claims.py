"""The LTI claims coachlab reads from a validated id_token, and what the roles mean here."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypedDict

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS_CLAIM = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
MESSAGE_TYPE = CLAIM + "message_type"
DEPLOYMENT_ID = CLAIM + "deployment_id"
RESOURCE_LINK = CLAIM + "resource_link"
CONTEXT = CLAIM + "context"
ROLES = CLAIM + "roles"
CUSTOM = CLAIM + "custom"

STAFF_ROLES = frozenset({"Instructor", "TeachingAssistant", "Administrator"})
"""Role names (the part after '#') that open the placement overview instead of the player."""


class LaunchClaims(TypedDict):
    """The part of a launch coachlab stores, read out of the raw claims."""

    issuer: str
    client_id: str
    deployment_id: str
    subject: str
    name: str
    email: str
    roles: list[str]
    context_id: str | None
    context_title: str
    context_label: str
    resource_link_id: str
    resource_link_title: str
    custom: dict[str, str]
    ags_endpoint: dict[str, Any] | None
    nrps_endpoint: dict[str, Any] | None


def is_staff(roles: Iterable[str]) -> bool:
    """True for instructors, teaching assistants and administrators (any LIS role vocabulary)."""
    return any(role.rsplit("#", 1)[-1] in STAFF_ROLES for role in roles)


ADMIN_ROLES = frozenset({
    "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator",
    "http://purl.imsglobal.org/vocab/lis/v2/system/person#Administrator",
    "http://purl.imsglobal.org/vocab/lis/v2/system/person#SysAdmin",
})
"""LMS-wide administrator roles (a course's own Administrator role is staff, not admin)."""


def is_admin(roles: Iterable[str], issuer: str, subject: str, allow_list: str = "") -> bool:
    """True for an LMS administrator role, or `issuer|subject` on the comma-separated allow-list."""
    if any(role in ADMIN_ROLES for role in roles):
        return True
    allowed = {entry.strip() for entry in allow_list.split(",") if entry.strip()}
    return f"{issuer}|{subject}" in allowed


def read_claims(body: dict[str, Any]) -> LaunchClaims:
    """Pick the claims coachlab needs out of a validated id_token body."""
    aud = body.get("aud")
    client_id = aud[0] if isinstance(aud, list) else str(aud)
    context = body.get(CONTEXT) or {}
    link = body.get(RESOURCE_LINK) or {}
    name = body.get("name") or " ".join(
        part for part in (body.get("given_name"), body.get("family_name")) if part
    )
    return LaunchClaims(
        issuer=str(body["iss"]),
        client_id=client_id,
        deployment_id=str(body.get(DEPLOYMENT_ID, "")),
        subject=str(body.get("sub", "")),
        name=str(name or ""),
        email=str(body.get("email") or ""),
        roles=[str(r) for r in body.get(ROLES) or []],
        context_id=str(context["id"]) if context.get("id") else None,
        context_title=str(context.get("title") or ""),
        context_label=str(context.get("label") or ""),
        resource_link_id=str(link.get("id", "")),
        resource_link_title=str(link.get("title") or ""),
        custom={str(k): str(v) for k, v in (body.get(CUSTOM) or {}).items()},
        ags_endpoint=body.get(AGS_CLAIM),
        nrps_endpoint=body.get(NRPS_CLAIM),
    )
