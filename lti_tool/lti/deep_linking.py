"""Deep Linking 2.0: instructors pick modules or scenarios; the LMS gets signed content items.

The request's settings (return URL, accept_multiple, data) travel between the picker's pages in
a signed, expiring token, so the picker needs no cookie inside the LMS iframe.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from pylti1p3.deep_link import DeepLink
from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.lineitem import LineItem
from sqlalchemy.orm import Session

from lti_tool import content
from lti_tool.errors import CsrfError, Forbidden, LaunchExpired, LtiToolError
from lti_tool.keys import KeyPair
from lti_tool.lti.claims import DEPLOYMENT_ID, ROLES
from lti_tool.lti.tool_config import DbToolConf
from lti_tool.models import PlatformRegistration
from lti_tool.placements import (
    PlacementSettings,
    parse_attempt_policy,
    parse_attempts_allowed,
    parse_points,
)

SETTINGS_CLAIM = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
PICKER_ROLES = frozenset({"Instructor", "Administrator", "ContentDeveloper"})
"""Role names (after '#') that may choose content; teaching assistants and learners may not."""
LINE_ITEM_TAG = "coachlab"
_SALT = "coachlab.deep-link"
_CSRF_SALT = "coachlab.deep-link.csrf"
REQUEST_MAX_AGE = 2 * 3600
"""Seconds an instructor may spend in the picker before the LMS must be asked again."""


class DeepLinkingError(LtiToolError):
    """The picker's form or the deep-linking request cannot be used."""

    status = 400
    title = "The content could not be chosen"


@dataclass(frozen=True)
class DeepLinkRequest:
    """What the picker keeps of a validated LtiDeepLinkingRequest."""

    registration_id: int
    deployment_id: str
    return_url: str
    accept_multiple: bool
    accept_lineitem: bool
    data: Any
    nonce: str


@dataclass(frozen=True)
class CatalogueEntry:
    """One choosable item: a module (lesson and its scenarios) or a single scenario."""

    kind: str
    """module or scenario"""
    id: str
    title: str
    summary: str
    situations: tuple[str, ...]
    minutes: int

    @property
    def key(self) -> str:
        """The form value naming this entry."""
        return f"{self.kind}:{self.id}"


def may_pick(roles: Iterable[str]) -> bool:
    """Instructors, administrators and content developers (any LIS vocabulary)."""
    return any(role.rsplit("#", 1)[-1] in PICKER_ROLES for role in roles)


def _flag(value: Any, default: bool) -> bool:
    if value is None:
        return default
    return value is True or str(value).lower() == "true"


def request_from_claims(registration_id: int, body: Mapping[str, Any]) -> DeepLinkRequest:
    """Read a validated deep-linking id_token; Forbidden for roles that may not pick."""
    if not may_pick(str(r) for r in body.get(ROLES) or []):
        raise Forbidden(
            "Choosing content for the course is for instructors, administrators and content "
            "developers; your launch has none of these roles."
        )
    settings = body.get(SETTINGS_CLAIM) or {}
    return_url = str(settings.get("deep_link_return_url") or "")
    if not return_url.startswith(("https://", "http://")):
        raise DeepLinkingError("The LMS sent no deep_link_return_url; it cannot take content back.")
    return DeepLinkRequest(
        registration_id=registration_id,
        deployment_id=str(body.get(DEPLOYMENT_ID, "")),
        return_url=return_url,
        # Absent means the platform did not say it takes several: send one.
        accept_multiple=_flag(settings.get("accept_multiple"), False),
        accept_lineitem=_flag(settings.get("accept_lineitem"), True),
        data=settings.get("data"),
        nonce=secrets.token_urlsafe(16),
    )


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def sign_request(request: DeepLinkRequest) -> str:
    """The opaque token the picker's pages carry."""
    return str(_serializer(_SALT).dumps(request.__dict__))


def load_request(token: str | None) -> DeepLinkRequest:
    """Verify a picker token; LaunchExpired says what to do."""
    try:
        data = _serializer(_SALT).loads(token or "", max_age=REQUEST_MAX_AGE)
    except SignatureExpired:
        raise LaunchExpired("This content picker was open too long; choose the tool again in "
                            "your course to start over.") from None
    except BadSignature:
        raise LaunchExpired("This content picker needs a deep-linking launch from your LMS; "
                            "choose the tool again in your course.") from None
    return DeepLinkRequest(**data)


def csrf_for(request: DeepLinkRequest) -> str:
    """A form token bound to this picker session."""
    return str(_serializer(_CSRF_SALT).dumps(request.nonce))


def check_csrf(request: DeepLinkRequest, token: str | None) -> None:
    """CsrfError unless the form came from this picker session's page."""
    try:
        nonce = _serializer(_CSRF_SALT).loads(token or "", max_age=REQUEST_MAX_AGE)
    except BadSignature:
        nonce = None
    if nonce != request.nonce:
        raise CsrfError("This form was not sent from the content picker page (the CSRF check "
                        "failed). Choose the tool again in your course.")


def catalogue_entries() -> tuple[CatalogueEntry, ...]:
    """Modules in course order, then every scenario of the library."""
    from course.catalogue import load_catalogue

    library = content.library()
    summaries = {s.id: s for s in library.summaries()}
    catalogue = load_catalogue(content.content_dir(), library)
    entries: list[CatalogueEntry] = []
    for module in catalogue.modules:
        situations = tuple(dict.fromkeys(
            summaries[s].situation_label for s in module.scenarios if s in summaries))
        entries.append(CatalogueEntry(
            kind="module", id=module.id, title=module.title, summary=module.summary,
            situations=situations, minutes=module.duration_minutes))
    for summary in summaries.values():
        entries.append(CatalogueEntry(
            kind="scenario", id=summary.id, title=summary.title, summary=summary.summary,
            situations=(summary.situation_label,), minutes=summary.estimated_minutes))
    return tuple(entries)


def search(entries: Sequence[CatalogueEntry], query: str = "", kind: str = "",
           situation: str = "") -> tuple[CatalogueEntry, ...]:
    """Entries matching every word of `query` (title, summary, situation), kind and situation."""
    words = query.lower().split()
    found = []
    for entry in entries:
        text = " ".join((entry.title, entry.summary, entry.id, *entry.situations)).lower()
        if kind in ("module", "scenario") and entry.kind != kind:
            continue
        if situation and situation not in entry.situations:
            continue
        if all(word in text for word in words):
            found.append(entry)
    return tuple(found)


def settings_from_form(form: Mapping[str, str], default_points: float) -> PlacementSettings:
    """The settings the instructor chose, checked (DeepLinkingError names the field)."""
    try:
        return PlacementSettings(
            attempts_allowed=parse_attempts_allowed(
                form.get("attempts_allowed", ""), "Attempts allowed"),
            attempt_policy=parse_attempt_policy(
                form.get("attempt_policy", ""), "Which attempt counts"),
            points=parse_points(form.get("points", ""), default_points, "Points"),
        )
    except LtiToolError as error:
        raise DeepLinkingError(error.message) from None


def chosen_entries(entries: Sequence[CatalogueEntry], keys: Sequence[str],
                   request: DeepLinkRequest) -> tuple[CatalogueEntry, ...]:
    """The entries the form names, in catalogue order; DeepLinkingError when none or too many."""
    by_key = {entry.key: entry for entry in entries}
    unknown = [key for key in keys if key not in by_key]
    if unknown:
        raise DeepLinkingError(f"Not in the catalogue: {', '.join(unknown)}. Reload the picker.")
    chosen = tuple(entry for entry in entries if entry.key in set(keys))
    if not chosen:
        raise DeepLinkingError("Tick at least one module or scenario to add.")
    if len(chosen) > 1 and not request.accept_multiple:
        raise DeepLinkingError("Your LMS takes one item at a time here; tick just one.")
    return chosen


class _ContentItem(DeepLinkResource):
    """pylti1p3's resource plus the `text` field Deep Linking 2.0 defines."""

    _text: str = ""

    def set_text(self, value: str) -> _ContentItem:
        self._text = value
        return self

    def to_dict(self) -> dict[str, object]:
        item: dict[str, object] = super().to_dict()
        if self._text:
            item["text"] = self._text
        return item


class _Response(DeepLink):
    """pylti1p3's response without a `data` claim when the request sent none (spec: echo it)."""

    def get_message_jwt(self, resources: Sequence[DeepLinkResource]) -> dict[str, object]:
        message: dict[str, object] = super().get_message_jwt(resources)
        if self._deep_link_settings.get("data") is None:
            message.pop("https://purl.imsglobal.org/spec/lti-dl/claim/data", None)
        return message


def content_items(chosen: Sequence[CatalogueEntry], settings: PlacementSettings,
                  launch_url: str, with_line_item: bool) -> list[DeepLinkResource]:
    """LtiResourceLink content items carrying the entry and settings as custom parameters."""
    items: list[DeepLinkResource] = []
    for entry in chosen:
        item = (
            _ContentItem()
            .set_text(entry.summary)
            .set_title(entry.title)
            .set_url(launch_url)
            .set_custom_params({entry.kind: entry.id, **settings.as_custom()})
        )
        if with_line_item:
            line_item = (
                LineItem()
                .set_score_maximum(settings.points)
                .set_label(entry.title)
                .set_resource_id(entry.key)
                .set_tag(LINE_ITEM_TAG)
            )
            item.set_lineitem(line_item)
        items.append(item)
    return items


def response_jwt(session: Session, keys: KeyPair, request: DeepLinkRequest,
                 items: Sequence[DeepLinkResource]) -> str:
    """The LtiDeepLinkingResponse, signed with the tool's current key."""
    row = session.get(PlatformRegistration, request.registration_id)
    if row is None:
        raise DeepLinkingError("This LMS registration was removed meanwhile; ask the tool's "
                               "administrator to register it again.")
    registration = DbToolConf(session, keys).to_registration(row)
    settings: dict[str, Any] = {"deep_link_return_url": request.return_url,
                                "accept_types": ["ltiResourceLink"],
                                "accept_presentation_document_targets": ["iframe", "window"]}
    if request.data is not None:
        settings["data"] = request.data
    deep_link = _Response(registration, request.deployment_id, settings)  # type: ignore[arg-type]
    return str(deep_link.get_response_jwt(items))
