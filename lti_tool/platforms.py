"""Registering LMS platforms with the tool (the CLI and the demo LMS call these)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.errors import LtiToolError, NotFound
from lti_tool.models import Deployment, PlatformRegistration


@dataclass(frozen=True)
class PlatformSpec:
    """What an admin supplies to register a platform."""

    issuer: str
    client_id: str
    deployment_ids: tuple[str, ...]
    auth_login_url: str
    auth_token_url: str
    key_set_url: str | None
    audience: str | None = None
    key_set: dict[str, Any] | None = None
    """Inline public key set; when set, the tool never fetches key_set_url."""
    allow_any_deployment: bool = False
    """Accept every deployment id of this (trusted) registration, recording each on first use."""


def _check(spec: PlatformSpec) -> None:
    if not spec.deployment_ids and not spec.allow_any_deployment:
        raise LtiToolError("give at least one --deployment-id (or --any-deployment)")
    if not spec.key_set_url and not spec.key_set:
        raise LtiToolError("give --key-set-url (the platform's public JWKS URL)")
    for name in ("issuer", "auth_login_url", "auth_token_url"):
        value = getattr(spec, name)
        if not value.startswith(("https://", "http://")):
            raise LtiToolError(f"--{name.replace('_', '-')} {value!r} must be an http(s) URL")


def add_platform(session: Session, spec: PlatformSpec) -> PlatformRegistration:
    """Create or update the registration (issuer, client id); add missing deployment ids."""
    _check(spec)
    row = session.scalar(
        select(PlatformRegistration).where(
            PlatformRegistration.issuer == spec.issuer,
            PlatformRegistration.client_id == spec.client_id,
        )
    )
    if row is None:
        row = PlatformRegistration(issuer=spec.issuer, client_id=spec.client_id)
        session.add(row)
    row.auth_login_url = spec.auth_login_url
    row.auth_token_url = spec.auth_token_url
    row.key_set_url = spec.key_set_url
    row.key_set = spec.key_set
    row.audience = spec.audience
    row.allow_any_deployment = spec.allow_any_deployment
    known = {d.deployment_id for d in row.deployments}
    for deployment_id in spec.deployment_ids:
        if deployment_id not in known:
            row.deployments.append(Deployment(deployment_id=deployment_id))
            known.add(deployment_id)
    session.flush()
    return row


def list_platforms(session: Session) -> Sequence[PlatformRegistration]:
    """Every registration, oldest first."""
    return session.scalars(select(PlatformRegistration).order_by(PlatformRegistration.id)).all()


def remove_platform(session: Session, issuer: str, client_id: str | None) -> int:
    """Delete the registrations of `issuer` (only `client_id`'s when given); return how many."""
    query = select(PlatformRegistration).where(PlatformRegistration.issuer == issuer)
    if client_id is not None:
        query = query.where(PlatformRegistration.client_id == client_id)
    rows = session.scalars(query).all()
    if not rows:
        raise NotFound(
            f"no platform registered with issuer {issuer!r}"
            + (f" and client id {client_id!r}" if client_id else "")
            + "; see `coachlab platform list`"
        )
    for row in rows:
        session.delete(row)
    session.flush()
    return len(rows)


def find_platform(session: Session, issuer: str, client_id: str | None) -> PlatformRegistration:
    """The one registration of `issuer` (and `client_id` when given); NotFound otherwise."""
    query = select(PlatformRegistration).where(PlatformRegistration.issuer == issuer)
    if client_id is not None:
        query = query.where(PlatformRegistration.client_id == client_id)
    rows = session.scalars(query).all()
    if not rows:
        raise NotFound(f"no platform registered with issuer {issuer!r}"
                       + (f" and client id {client_id!r}" if client_id else "")
                       + "; see `coachlab platform list`")
    if len(rows) > 1:
        raise LtiToolError(f"issuer {issuer!r} has {len(rows)} client ids registered; "
                           "name one with --client-id")
    return rows[0]


def add_deployment(session: Session, row: PlatformRegistration, deployment_id: str) -> bool:
    """List `deployment_id` under the registration; False when it was listed already."""
    if not deployment_id.strip():
        raise LtiToolError("the deployment id is empty; give the id the LMS shows for the tool")
    if any(d.deployment_id == deployment_id for d in row.deployments):
        return False
    row.deployments.append(Deployment(deployment_id=deployment_id))
    session.flush()
    return True


def remove_deployment(session: Session, row: PlatformRegistration, deployment_id: str) -> None:
    """Stop accepting `deployment_id` (with --any-deployment set it comes back on next launch)."""
    for deployment in row.deployments:
        if deployment.deployment_id == deployment_id:
            row.deployments.remove(deployment)
            session.flush()
            return
    known = ", ".join(d.deployment_id for d in row.deployments) or "none"
    raise NotFound(f"deployment {deployment_id!r} is not listed for {row.issuer} client "
                   f"{row.client_id}; listed: {known}")
