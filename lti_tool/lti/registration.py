"""LTI Dynamic Registration (1EdTech LTI DR 1.0): the LMS opens one URL, the tool registers.

GET /lti/register?openid_configuration=...&registration_token=... reads the platform's OpenID
configuration, checks that its issuer is the configuration URL's origin, posts the tool's client
registration to the platform's registration endpoint, stores the registration with its
deployment, and ends with the postMessage that closes the LMS's registration window.
pylti1p3 has no support for this; the spec is small enough to follow directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from flask import Blueprint, current_app, render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from lti_tool.db import get_session
from lti_tool.errors import LtiToolError
from lti_tool.lti.launch import http_session
from lti_tool.models import PlatformRegistration
from lti_tool.platforms import PlatformSpec, add_platform
from lti_tool.urls import tool_url

bp = Blueprint("registration", __name__, url_prefix="/lti")

TIMEOUT = 10
"""Seconds to wait for the platform (it is waiting for us too, in the admin's browser)."""
PLATFORM_CONFIG = "https://purl.imsglobal.org/spec/lti-platform-configuration"
TOOL_CONFIG = "https://purl.imsglobal.org/spec/lti-tool-configuration"
SCOPES = (
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
    "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
)
REQUIRED = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri",
            "registration_endpoint")


class RegistrationFailed(LtiToolError):
    """Dynamic registration could not complete; the message says which step and why."""

    status = 400
    title = "The tool could not be registered"


class PlatformUnreachable(RegistrationFailed):
    """The platform did not answer (or not in time)."""

    status = 502


@dataclass(frozen=True)
class PlatformConfiguration:
    """The parts of the platform's openid-configuration the tool needs."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    registration_endpoint: str
    authorization_server: str | None
    product: str


def _origin(url: str) -> str:
    parts = urlsplit(url)
    default = {"https": 443, "http": 80}.get(parts.scheme)
    port = parts.port if parts.port not in (None, default) else None
    return f"{parts.scheme}://{(parts.hostname or '').lower()}" + (f":{port}" if port else "")


def _check_url(value: str, what: str) -> str:
    if not value.startswith(("https://", "http://")):
        raise RegistrationFailed(f"{what} {value!r} is not an http(s) URL.")
    if current_app.config["ENV"] == "production" and not value.startswith("https://"):
        raise RegistrationFailed(f"{what} {value!r} must use https in production.")
    return value


def _json(response: requests.Response, what: str) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        raise RegistrationFailed(
            f"The platform's {what} (HTTP {response.status_code}) is not JSON; check the URL "
            "the LMS gave and that its LTI registration service is on."
        ) from None
    if not isinstance(data, dict):
        raise RegistrationFailed(f"The platform's {what} is JSON but not an object.")
    return data


def host_allowed(host: str, allowed: str) -> bool:
    """Whether host is on the comma-separated allow-list ("lms.example.com, *.example.org").

    An empty list allows every host. "*.example.org" matches any subdomain, not the bare domain.
    """
    patterns = [p.strip().lower() for p in allowed.split(",") if p.strip()]
    if not patterns:
        return True
    host = host.lower().rstrip(".")
    return any(
        host.endswith(pattern[1:]) if pattern.startswith("*.") else host == pattern
        for pattern in patterns
    )


def fetch_configuration(session: requests.Session, url: str) -> PlatformConfiguration:
    """GET and check the platform's openid-configuration."""
    _check_url(url, "openid_configuration")
    # The tool fetches a URL the caller chose: the allow-list keeps it to known LMS hosts, so the
    # endpoint can neither register strangers nor probe the tool's own network.
    host = urlsplit(url).hostname or ""
    if not host_allowed(host, current_app.config["DYNAMIC_REGISTRATION_HOSTS"]):
        raise RegistrationFailed(
            f"This tool accepts Dynamic Registration only from the LMS hosts its administrator "
            f"listed, and {host!r} is not one of them. Ask the tool's administrator to add it to "
            "COACHLAB_DYNAMIC_REGISTRATION_HOSTS, or to register the LMS with "
            "`coachlab platform add`."
        )
    try:
        response = session.get(url, timeout=TIMEOUT, headers={"Accept": "application/json"})
    except requests.RequestException as error:
        raise PlatformUnreachable(
            f"The platform's configuration at {url} could not be read ({type(error).__name__}). "
            "Check that the tool's server can reach the LMS, then start the registration again."
        ) from None
    if response.status_code != 200:
        raise RegistrationFailed(
            f"The platform answered HTTP {response.status_code} for its configuration at {url}; "
            "start the registration again from the LMS (the link is single use)."
        )
    data = _json(response, "openid-configuration")
    missing = [name for name in REQUIRED if not isinstance(data.get(name), str)]
    if missing:
        raise RegistrationFailed(
            f"The platform's openid-configuration lacks {', '.join(missing)}; this LMS does not "
            "support LTI Dynamic Registration - register it manually (`coachlab platform add`)."
        )
    issuer = data["issuer"]
    # The spec: the issuer must match the configuration URL's origin, so a configuration
    # served from one site cannot claim to be another platform.
    if _origin(issuer) != _origin(url):
        raise RegistrationFailed(
            f"Issuer mismatch: the configuration at {url} names issuer {issuer!r}, which is not "
            "on the same site. Registration stopped; ask the LMS administrator to check the "
            "platform's issuer setting."
        )
    for name in REQUIRED[1:]:
        _check_url(data[name], name)
    platform = data.get(PLATFORM_CONFIG) or {}
    return PlatformConfiguration(
        issuer=issuer,
        authorization_endpoint=data["authorization_endpoint"],
        token_endpoint=data["token_endpoint"],
        jwks_uri=data["jwks_uri"],
        registration_endpoint=data["registration_endpoint"],
        authorization_server=data.get("authorization_server")
        if isinstance(data.get("authorization_server"), str) else None,
        product=str(platform.get("product_family_code") or "") if isinstance(platform, dict)
        else "",
    )


def client_registration() -> dict[str, Any]:
    """The tool's OpenID client registration with its LTI tool configuration."""
    launch_url = tool_url("lti.launch")
    title = current_app.config["TOOL_TITLE"]
    return {
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": tool_url("lti.login"),
        "redirect_uris": [launch_url],
        "client_name": title,
        "jwks_uri": tool_url("lti.jwks"),
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": " ".join(SCOPES),
        TOOL_CONFIG: {
            "domain": urlsplit(launch_url).netloc,
            "description": "Scenario exercises that teach sales managers to coach.",
            "target_link_uri": launch_url,
            "claims": ["iss", "sub", "name", "given_name", "family_name", "email"],
            "messages": [
                {"type": "LtiResourceLinkRequest", "target_link_uri": launch_url},
                {"type": "LtiDeepLinkingRequest", "target_link_uri": launch_url,
                 "label": title,
                 "placements": ["ContentArea", "link_selection", "assignment_selection"],
                 "supported_types": ["ltiResourceLink"]},
                {"type": "LtiSubmissionReviewRequest", "target_link_uri": launch_url},
            ],
        },
    }


def post_registration(session: requests.Session, config: PlatformConfiguration,
                      token: str) -> dict[str, Any]:
    """POST the client registration; the platform's answer (client_id, deployment)."""
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        response = session.post(config.registration_endpoint, json=client_registration(),
                                headers=headers, timeout=TIMEOUT)
    except requests.RequestException as error:
        raise PlatformUnreachable(
            f"The platform's registration endpoint {config.registration_endpoint} did not answer "
            f"({type(error).__name__}); start the registration again."
        ) from None
    if response.status_code not in (200, 201):
        detail = response.text[:300].strip()
        raise RegistrationFailed(
            f"The platform refused the registration (HTTP {response.status_code})"
            + (f": {detail}" if detail else "")
            + ". The registration link may have expired or been used; start again from the LMS."
        )
    answer = _json(response, "registration response")
    if not isinstance(answer.get("client_id"), str) or not answer["client_id"]:
        raise RegistrationFailed("The platform accepted the registration but sent no client_id.")
    return answer


def store(db: Session, config: PlatformConfiguration, answer: dict[str, Any]
          ) -> PlatformRegistration:
    """Save the registration and its deployment (trust any deployment when none is named)."""
    tool_config = answer.get(TOOL_CONFIG) or {}
    deployment_id = str(tool_config.get("deployment_id") or "") if isinstance(
        tool_config, dict) else ""
    spec = PlatformSpec(
        issuer=config.issuer,
        client_id=answer["client_id"],
        deployment_ids=(deployment_id,) if deployment_id else (),
        auth_login_url=config.authorization_endpoint,
        auth_token_url=config.token_endpoint,
        key_set_url=config.jwks_uri,
        audience=config.authorization_server,
        # No deployment id yet (Canvas creates one per install): the platform's admin just
        # registered us, so accept its deployments as they come and record each.
        allow_any_deployment=not deployment_id,
    )
    row = add_platform(db, spec)
    db.commit()
    return row


@bp.get("/register")
def register() -> ResponseReturnValue:
    """The Dynamic Registration URL an LMS administrator pastes into the LMS."""
    if not current_app.config["DYNAMIC_REGISTRATION"]:
        raise RegistrationFailed(
            "Dynamic registration is switched off on this tool (COACHLAB_DYNAMIC_REGISTRATION=0); "
            "the tool's administrator registers the LMS with `coachlab platform add`."
        )
    url = request.args.get("openid_configuration", "").strip()
    if not url:
        raise RegistrationFailed(
            "This is the tool's Dynamic Registration URL: paste it into the LMS (Moodle: Manage "
            "tools > Tool URL; Canvas: Developer keys > LTI key > Dynamic Registration). The LMS "
            "opens it with an openid_configuration parameter."
        )
    http = http_session()
    config = fetch_configuration(http, url)
    answer = post_registration(http, config, request.args.get("registration_token", ""))
    row = store(get_session(), config, answer)
    return render_template("lti/registered.html", registration=row, product=config.product)
