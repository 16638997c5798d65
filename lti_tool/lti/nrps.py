"""Names and Role Provisioning (NRPS): the course roster, for "who has not started yet".

Pages are followed through `Link: <...>; rel="next"`, the resource-link filter (`rlid`) is used
when the platform speaks NRPS 2.0, and a roster is cached for a few minutes. The LMS failing,
slowing down or refusing never raises: the Roster carries the error and callers show attempts
only, with a notice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
from flask import Flask

from lti_tool.cache import get_cache
from lti_tool.db import get_session
from lti_tool.lti.ags import AgsError, access_token, drop_token
from lti_tool.lti.launch import http_session, tool_keys
from lti_tool.lti.tool_config import DbToolConf
from lti_tool.models import PlatformRegistration, ResourceLink

SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
MEMBERSHIP_TYPE = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
CACHE_SECONDS = 300
"""A roster changes rarely within minutes; an instructor refreshing the page must not hammer
the LMS."""
MAX_PAGES = 200
"""Stop following `next` links after this many pages (a platform looping on itself)."""
TIMEOUT = 10.0


@dataclass(frozen=True)
class Member:
    """One person of the course as the platform lists them."""

    user_id: str
    name: str
    email: str
    roles: tuple[str, ...]
    status: str = "Active"
    """Active, Inactive or Deleted."""

    @property
    def is_learner(self) -> bool:
        """True when one of the roles is Learner (any LIS vocabulary)."""
        return any(role.rsplit("#", 1)[-1] == "Learner" for role in self.roles)


@dataclass(frozen=True)
class Roster:
    """The members of a course (or of one resource link), or why they could not be had."""

    members: tuple[Member, ...] = ()
    error: str | None = None

    @property
    def ok(self) -> bool:
        """True when the roster call succeeded."""
        return self.error is None

    def active_learners(self) -> tuple[Member, ...]:
        """Members with a Learner role whose membership is active."""
        return tuple(m for m in self.members if m.is_learner and m.status == "Active")


def members_url(nrps_claim: dict[str, Any], resource_link_id: str | None) -> str:
    """The memberships URL, with `rlid` when the platform offers NRPS 2.0 and a link is given."""
    url = str(nrps_claim.get("context_memberships_url") or "")
    versions = [str(v) for v in nrps_claim.get("service_versions") or []]
    if not resource_link_id or "2.0" not in versions:
        return url
    parts = urlsplit(url)
    query = [*parse_qsl(parts.query, keep_blank_values=True), ("rlid", resource_link_id)]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


def _member(raw: Any) -> Member | None:
    if not isinstance(raw, dict) or not raw.get("user_id"):
        return None
    name = raw.get("name") or " ".join(
        str(raw[part]) for part in ("given_name", "family_name") if raw.get(part))
    roles: list[Any] = raw["roles"] if isinstance(raw.get("roles"), list) else []
    return Member(user_id=str(raw["user_id"]), name=str(name or ""),
                  email=str(raw.get("email") or ""), roles=tuple(str(r) for r in roles),
                  status=str(raw.get("status") or "Active"))


def _fetch(row: PlatformRegistration, url: str) -> Roster:
    registration = DbToolConf(get_session(), tool_keys()).to_registration(row)
    http = http_session()
    members: list[Member] = []
    next_url: str | None = url
    pages = 0
    refreshed = False
    while next_url and pages < MAX_PAGES:
        token = access_token(registration, [SCOPE], http, timeout=TIMEOUT)
        response = http.get(next_url, timeout=TIMEOUT, headers={
            "Authorization": f"Bearer {token}", "Accept": MEMBERSHIP_TYPE})
        if response.status_code == 401 and not refreshed:
            # The cached token was revoked or expired early: one more try with a fresh one.
            drop_token(registration, [SCOPE])
            refreshed = True
            continue
        if response.status_code != 200:
            return Roster(error=f"the LMS answered HTTP {response.status_code} to the roster "
                                f"request ({response.text[:200].strip()})")
        body = response.json()
        raw_members = body.get("members") if isinstance(body, dict) else None
        if not isinstance(raw_members, list):
            return Roster(error="the LMS's roster answer has no members list")
        members.extend(m for m in map(_member, raw_members) if m is not None)
        # requests parses the Link header (several links, any case, quoted rel) properly.
        next_url = response.links.get("next", {}).get("url")
        pages += 1
    return Roster(members=tuple(members))


def fetch_roster(app: Flask, registration: PlatformRegistration, nrps_claim: dict[str, Any],
                 resource_link_id: str | None) -> Roster:
    """The course roster from the platform (cached ~5 minutes); never raises for LMS failures."""
    url = members_url(nrps_claim or {}, resource_link_id)
    if not url.startswith(("https://", "http://")):
        return Roster(error="the launch offered no roster service (Names and Role "
                            "Provisioning is off for this tool in the LMS)")
    with app.app_context():
        cache = get_cache(app)
        key = "nrps-roster-" + hashlib.sha256(
            f"{registration.issuer}|{registration.client_id}|{url}".encode()).hexdigest()
        cached = cache.get(key)
        if isinstance(cached, Roster):
            return cached
        try:
            roster = _fetch(registration, url)
        except (requests.RequestException, AgsError, ValueError) as error:
            roster = Roster(error=f"the roster request failed ({type(error).__name__}: "
                                  f"{str(error)[:200]})")
        if roster.ok:
            cache.set(key, roster, CACHE_SECONDS)
        else:
            app.logger.warning("NRPS roster for %s failed: %s", registration.issuer,
                               roster.error)
        return roster



def link_roster(app: Flask, link: ResourceLink) -> Roster:
    """The roster of a placement's course, filtered to the link when the platform can."""
    context = link.context
    registration = get_session().get(PlatformRegistration, link.registration_id) if (
        context is not None and context.nrps_endpoint) else None
    if context is None or registration is None or not context.nrps_endpoint:
        return Roster(error="the LMS offered no roster service for this course (Names and Role "
                            "Provisioning is off for the tool, or the course sent no context)")
    return fetch_roster(app, registration, context.nrps_endpoint, link.resource_link_id)


def not_started(roster: Roster, started_subjects: Iterable[str]) -> tuple[Member, ...]:
    """Active learners of the roster without any attempt, by name."""
    started = set(started_subjects)
    return tuple(sorted((m for m in roster.active_learners() if m.user_id not in started),
                        key=lambda m: (m.name.lower() or m.user_id)))
