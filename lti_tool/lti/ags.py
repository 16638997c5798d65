"""The HTTP side of LTI Assignment and Grade Services (AGS): access tokens, line items, scores.

Only this module and lti_tool/outbox.py talk to AGS. Nothing here decides about retries: calls
return the platform's reply (status, headers, body) or raise the transport error, and the
outbox turns that into a delivery state. Access tokens live in the shared cache until shortly
before they expire (pylti1p3 keeps them for one request only); a 401 drops the cached token and
the call is retried once with a fresh one.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import jwt
import requests
from pylti1p3.exception import LtiException
from pylti1p3.registration import Registration
from pylti1p3.service_connector import ServiceConnector
from sqlalchemy.orm import Session

from lti_tool.cache import get_cache
from lti_tool.errors import LtiToolError
from lti_tool.lti.launch import tool_keys
from lti_tool.lti.tool_config import DbToolConf
from lti_tool.models import PlatformRegistration, utcnow

SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
LINEITEM_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
LINEITEM_READ_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"
SCORE_TYPE = "application/vnd.ims.lis.v1.score+json"
LINEITEM_TYPE = "application/vnd.ims.lis.v2.lineitem+json"
LINEITEMS_TYPE = "application/vnd.ims.lis.v2.lineitemcontainer+json"

TOKEN_MARGIN_SECONDS = 60
"""A cached token is dropped this long before the platform says it expires."""
DEFAULT_TOKEN_LIFETIME = 3600
"""Lifetime assumed when a token response has no expires_in (the LTI security spec's hour)."""


class AgsError(LtiToolError):
    """An AGS call could not be completed (the platform's or the network's fault)."""

    status = 502
    title = "The LMS gradebook could not be reached"


class AgsTokenError(AgsError):
    """The platform's token endpoint refused the tool's access token request."""

    def __init__(self, message: str, status_code: int | None) -> None:
        super().__init__(message)
        self.status_code = status_code


class AgsHttpError(AgsError):
    """A line item call answered with an error status."""

    def __init__(self, message: str, reply: AgsReply) -> None:
        super().__init__(message)
        self.reply = reply


@dataclass(frozen=True)
class AgsReply:
    """What the platform answered to one AGS request."""

    status_code: int
    text: str
    headers: Mapping[str, str] = field(default_factory=dict)
    token_refreshed: bool = False
    """True when a 401 made the call fetch a new token and try again."""

    @property
    def ok(self) -> bool:
        """A 2xx status."""
        return 200 <= self.status_code < 300

    def json(self) -> Any:
        """The body parsed as JSON (None when empty or not JSON)."""
        try:
            return json.loads(self.text) if self.text else None
        except ValueError:
            return None


def registration_for(session: Session, registration_id: int) -> Registration:
    """The pylti1p3 registration (with the tool's keys) of a stored platform registration."""
    row = session.get(PlatformRegistration, registration_id)
    if row is None:
        raise AgsError(f"platform registration {registration_id} was removed; its grades "
                       "cannot be sent")
    return DbToolConf(session, tool_keys()).to_registration(row)


def _token_key(registration: Registration, scopes: Sequence[str]) -> str:
    parts = [str(registration.get_issuer()), str(registration.get_client_id()), *sorted(scopes)]
    return "ags-token-" + hashlib.sha256("|".join(parts).encode()).hexdigest()


def _client_assertion(registration: Registration) -> str:
    """The signed JWT the tool exchanges for an access token (as pylti1p3 builds it)."""
    client_id = str(registration.get_client_id())
    token_url = str(registration.get_auth_token_url())
    now = int(time.time())
    claims = {"iss": client_id, "sub": client_id,
              "aud": str(registration.get_auth_audience() or token_url),
              "iat": now - 5, "exp": now + 60, "jti": f"lti-service-token-{uuid.uuid4()}"}
    kid = registration.get_kid()
    return jwt.encode(claims, str(registration.get_tool_private_key()), algorithm="RS256",
                      headers={"kid": kid} if kid else None)


def drop_token(registration: Registration, scopes: Sequence[str]) -> None:
    """Forget the cached token for these scopes (the platform answered 401 to it)."""
    get_cache().delete(_token_key(registration, scopes))


def access_token(
    registration: Registration, scopes: Sequence[str], http: requests.Session, *,
    now: datetime | None = None, timeout: float = 10.0,
) -> str:
    """A cached access token for these scopes, else a new one from the platform's token URL."""
    now = now or utcnow()
    cache = get_cache()
    key = _token_key(registration, scopes)
    cached = cache.get(key)
    if isinstance(cached, dict) and float(cached.get("expires_at", 0)) > now.timestamp():
        return str(cached["token"])
    token_url = str(registration.get_auth_token_url())
    try:
        response = http.post(token_url, timeout=timeout, data={
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": _client_assertion(registration),
            "scope": " ".join(scopes),
        })
    except requests.Timeout as error:
        raise AgsTokenError(f"the LMS did not answer the access token request to {token_url} "
                            f"in time: {error}", None) from error
    except requests.RequestException as error:
        raise AgsTokenError(f"the LMS could not be reached for an access token ({token_url}): "
                            f"{type(error).__name__}: {error}", None) from error
    body: Any = None
    try:
        body = response.json()
    except ValueError:
        body = None
    if not response.ok or not isinstance(body, dict) or not body.get("access_token"):
        raise AgsTokenError(
            f"the platform's token endpoint {token_url} refused the tool's access token request "
            f"({response.status_code}): {response.text[:500]} - check the client id, the token "
            "URL and that the LMS has the tool's public key set URL", response.status_code)
    try:
        lifetime = int(body.get("expires_in") or DEFAULT_TOKEN_LIFETIME)
    except (TypeError, ValueError):
        lifetime = DEFAULT_TOKEN_LIFETIME
    usable = max(1, lifetime - TOKEN_MARGIN_SECONDS)
    expires_at = now + timedelta(seconds=usable)
    cache.set(key, {"token": body["access_token"], "expires_at": expires_at.timestamp()}, usable)
    return str(body["access_token"])


def with_path_suffix(url: str, suffix: str) -> str:
    """`url` with `/suffix` appended to its path, keeping its query (Moodle's ?type_id=)."""
    parts = urlsplit(url)
    path = parts.path.rstrip("/") + "/" + suffix
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, parts.fragment))


@dataclass
class AgsClient:
    """AGS calls for one platform registration and one endpoint claim's scopes."""

    registration: Registration
    scopes: Sequence[str]
    http: requests.Session
    timeout: float = 10.0
    now: datetime | None = None

    def request(
        self, method: str, url: str, *, body: Mapping[str, Any] | None = None,
        content_type: str | None = None, accept: str = "application/json",
    ) -> AgsReply:
        """Send one request; on 401 drop the cached token and try once more with a new one.

        Raises requests.RequestException on transport errors and AgsTokenError when no token
        can be had.
        """
        refreshed = False
        while True:
            token = access_token(self.registration, self.scopes, self.http, now=self.now,
                                 timeout=self.timeout)
            headers = {"Authorization": f"Bearer {token}", "Accept": accept}
            data = None
            if body is not None:
                headers["Content-Type"] = content_type or "application/json"
                data = json.dumps(body)
            response = self.http.request(method, url, data=data, headers=headers,
                                         timeout=self.timeout)
            if response.status_code == 401 and not refreshed:
                # The platform forgot or revoked the token before it expired: fetch a new one.
                drop_token(self.registration, self.scopes)
                refreshed = True
                continue
            return AgsReply(status_code=response.status_code, text=response.text,
                            headers=dict(response.headers), token_refreshed=refreshed)

    def post_score(self, lineitem_url: str, score: Mapping[str, Any]) -> AgsReply:
        """POST a score to the line item's scores endpoint."""
        return self.request("POST", with_path_suffix(lineitem_url, "scores"), body=score,
                            content_type=SCORE_TYPE)

    def find_lineitem(self, lineitems_url: str, resource_link_id: str) -> dict[str, Any] | None:
        """The line item of a resource link among the container's items (None when absent)."""
        separator = "&" if urlsplit(lineitems_url).query else "?"
        url = lineitems_url + separator + urlencode({"resource_link_id": resource_link_id})
        reply = self.request("GET", url, accept=LINEITEMS_TYPE)
        if not reply.ok:
            raise AgsHttpError(f"listing line items at {lineitems_url} failed "
                               f"({reply.status_code}): {reply.text[:500]}", reply)
        items = reply.json()
        if not isinstance(items, list):
            raise AgsHttpError(f"the line items at {lineitems_url} are not a JSON list", reply)
        for item in items:
            if isinstance(item, dict) and item.get("id") and (
                item.get("resourceLinkId") == resource_link_id
            ):
                return dict(item)
        return None

    def create_lineitem(self, lineitems_url: str, lineitem: Mapping[str, Any]) -> dict[str, Any]:
        """Create a line item; the platform's answer carries its id (URL)."""
        reply = self.request("POST", lineitems_url, body=lineitem, content_type=LINEITEM_TYPE,
                             accept=LINEITEM_TYPE)
        created = reply.json()
        if not reply.ok or not isinstance(created, dict) or not created.get("id"):
            raise AgsHttpError(f"creating a line item at {lineitems_url} failed "
                               f"({reply.status_code}): {reply.text[:500]}", reply)
        return dict(created)


class CachedTokenServiceConnector(ServiceConnector):
    """pylti1p3's connector (for NRPS and friends) with tokens from the shared token cache."""

    def get_access_token(self, scopes: Sequence[str]) -> str:
        """A cached token for these scopes, else a new one from the platform."""
        try:
            return access_token(self._registration, scopes, self._requests_session)
        except AgsTokenError as error:
            raise LtiException(str(error)) from error
