"""Security headers, request limits, rate limits and production guards (SECURITY.md explains).

One after_request sets the Content-Security-Policy (no inline script; frame-ancestors limited
to the registered platforms' origins), X-Content-Type-Options and Referrer-Policy. Flask-Limiter
limits login and launch per client address. The production configuration refuses debug mode
and the demo LMS. `redact` keeps tokens and keys out of log lines.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from flask import current_app, g, render_template, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from sqlalchemy import select
from werkzeug.middleware.proxy_fix import ProxyFix

from lti_tool.errors import ConfigError, LtiToolError

if TYPE_CHECKING:
    from flask import Flask, Response
    from flask.typing import ResponseReturnValue

log = logging.getLogger(__name__)

ID_TOKEN_LIMIT = 64 * 1024
"""Characters of a posted id_token; real ones are a few KB (a bigger one is an attack)."""

RATE_LIMITED = ("lti.login", "lti.launch", "lti.confirm_launch")
"""Endpoints a client can hit without a launch: limited per address."""

FRAME_ANCESTOR_TTL = 60.0
"""Seconds the registered platforms' origins are cached (platform add runs in another process)."""

CANVAS_CLOUD_ISSUERS = {
    "https://canvas.instructure.com": "https://*.instructure.com",
    "https://canvas.beta.instructure.com": "https://*.instructure.com",
    "https://canvas.test.instructure.com": "https://*.instructure.com",
}
"""Canvas cloud frames tools from each school's own instructure.com host, not its issuer."""


class PayloadTooLarge(LtiToolError):
    """The request body or the id_token is larger than the tool accepts."""

    status = 413
    title = "The request is too large"


def origin_of(url: str) -> str | None:
    """scheme://host[:port] of an absolute http(s) URL; None for anything else."""
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def platform_origins(app: Flask) -> tuple[str, ...]:
    """The origins allowed to frame the tool: every registration's issuer and login URL
    origins, plus COACHLAB_FRAME_ANCESTORS; cached for FRAME_ANCESTOR_TTL seconds."""
    cached = app.extensions.get("coachlab_frame_ancestors")
    now = time.monotonic()
    if cached is not None and now - cached[0] < FRAME_ANCESTOR_TTL:
        origins: tuple[str, ...] = cached[1]
        return origins
    from lti_tool.db import database
    from lti_tool.models import PlatformRegistration

    found: set[str] = set()
    try:
        with database(app).sessions() as session:
            rows = session.execute(
                select(PlatformRegistration.issuer, PlatformRegistration.auth_login_url)
            ).all()
    except Exception:  # an unmigrated database: frame nothing but ourselves
        log.warning("frame-ancestors: platform registrations unreadable", exc_info=True)
        rows = []
    for issuer, login_url in rows:
        for url in (issuer, login_url):
            origin = origin_of(url)
            if origin:
                found.add(origin)
        if issuer in CANVAS_CLOUD_ISSUERS:
            found.add(CANVAS_CLOUD_ISSUERS[issuer])
    found.update(str(app.config["FRAME_ANCESTORS"]).split())
    origins = tuple(sorted(found))
    app.extensions["coachlab_frame_ancestors"] = (now, origins)
    return origins


def _registration_origins(rows: Iterable[Any]) -> set[str]:
    """The origins that frame the tool for these registrations (issuer and login URL)."""
    found: set[str] = set()
    for row in rows:
        for url in (row.issuer, row.auth_login_url):
            origin = origin_of(url)
            if origin:
                found.add(origin)
        if row.issuer in CANVAS_CLOUD_ISSUERS:
            found.add(CANVAS_CLOUD_ISSUERS[row.issuer])
    return found


def forget_platform_origins(app: Flask) -> None:
    """Drop the cached frame-ancestors (after a registration changed in this process)."""
    app.extensions.pop("coachlab_frame_ancestors", None)


def content_security_policy(app: Flask) -> str:
    """The policy of every response: own scripts and styles only, framed by platforms only."""
    return _policy(platform_origins(app), app.config["BASE_URL"])


@lru_cache(maxsize=64)
def _policy(platforms: tuple[str, ...], base_url: str) -> str:
    # Built once per set of origins: every response carries it.
    framers = " ".join(platforms)
    tool = origin_of(base_url) or ""
    # Forms go to the tool (the demo LMS's form_post crosses to the tool's origin) or, with a
    # Deep Linking response, back to a registered platform.
    own = " ".join(part for part in ("'self'", tool) if part)
    form_action = f"{own} {framers}".rstrip()
    return "; ".join((
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        f"form-action {form_action}",
        # Only the demo LMS frames anything: the tool, on its own origin.
        f"frame-src {own}",
        f"frame-ancestors 'self' {framers}".rstrip(),
    ))


FRESH_ORIGIN_ENDPOINTS = ("lti.login", "lti.launch", "lti.confirm_launch",
                          "registration.register")
"""Requests right after a registration changes: they always read the registrations afresh."""


def set_headers(response: Response) -> Response:
    """after_request: the security headers. A view that needs another policy sets its own."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    headers = response.headers
    seen = g.get("coachlab_registrations")
    if request.endpoint in FRESH_ORIGIN_ENDPOINTS and seen is None:
        forget_platform_origins(app)
    policy = content_security_policy(app)
    if request.endpoint in FRESH_ORIGIN_ENDPOINTS and seen:
        # The registrations this request read are fresh (tool_config read them from the
        # database): frame their platforms even when the cached list predates them, without
        # reading every registration again on every login and launch.
        try:
            fresh = _registration_origins(row for rows in seen.values() for row in rows)
        except Exception:  # rows expired by a rollback and the database is gone: skip them
            log.warning("frame-ancestors: this request's registrations unreadable")
            fresh = set()
        missing = sorted(fresh - set(platform_origins(app)))
        if missing:
            policy = policy.replace("frame-ancestors 'self'",
                                    "frame-ancestors 'self' " + " ".join(missing))
            policy = policy.replace("form-action ", "form-action " + " ".join(missing) + " ", 1)
    if request.endpoint == "registration.register":
        # Dynamic registration: the platform that opens this page is not registered yet.
        opener = origin_of(request.args.get("openid_configuration", ""))
        if opener:
            extra = CANVAS_CLOUD_ISSUERS.get(opener, "")
            policy = policy.replace("frame-ancestors 'self'",
                                    f"frame-ancestors 'self' {opener} {extra}".rstrip())
    headers.setdefault("Content-Security-Policy", policy)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    # Launch references travel in URLs; keep them out of Referer headers.
    headers.setdefault("Referrer-Policy", "no-referrer")
    return response


def check_launch_size() -> None:
    """Refuse an oversized id_token before pylti1p3 parses it."""
    token = request.form.get("id_token") or ""
    if len(token) > ID_TOKEN_LIMIT:
        raise PayloadTooLarge(
            f"The launch token is {len(token)} characters long; this tool accepts at most "
            f"{ID_TOKEN_LIMIT}. A real LMS never sends one this large: check the platform."
        )


def rate_limit_storage(config: dict[str, Any] | Any) -> str:
    """Where counters live: RATELIMIT_STORAGE_URL, else REDIS_URL, else a Redis CACHE_URL,
    else this process's memory (fine for one process; not for several workers)."""
    for name in ("RATELIMIT_STORAGE_URL", "REDIS_URL"):
        if config.get(name):
            return str(config[name])
    cache_url = str(config.get("CACHE_URL") or "")
    if cache_url.startswith(("redis://", "rediss://")):
        return cache_url
    return "memory://"


def check_production(app: Flask) -> None:
    """Refuse to start a production app with debug mode or the demo LMS, saying why."""
    if app.config["ENV"] != "production":
        return
    if app.debug or app.config.get("DEBUG"):
        raise ConfigError(
            "Debug mode refuses to start with COACHLAB_ENV=production: its debugger runs any "
            "code a visitor sends and its pages show secrets. Unset FLASK_DEBUG and "
            "COACHLAB_DEBUG."
        )
    if app.config["DEMO"]:
        raise ConfigError(
            "The demo LMS refuses to start with COACHLAB_ENV=production: it would let anyone "
            "launch as any user. Unset COACHLAB_DEMO (or drop --demo)."
        )


_SECRET_PATTERNS = (
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.S),
    re.compile(r"eyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]*"),
)


def redact(text: str) -> str:
    """`text` with private keys and JWTs replaced, for log lines."""
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub("[redacted]", text)
    return text


def _too_large(error: Exception) -> ResponseReturnValue:
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    log.warning("%s %s refused: body larger than %s bytes", request.method, request.path, limit)
    message = (f"The request is larger than the {limit} bytes this tool accepts. Shorten what "
               "you sent (an answer, or the LMS's launch) and try again.")
    return render_template("errors/error.html", title="The request is too large",
                           message=message), 413


def _too_many(error: Any) -> ResponseReturnValue:
    log.warning("%s %s refused: rate limit %s", request.method, request.path,
                getattr(error, "description", ""))
    message = ("Too many launches from your network in a short time "
               f"(the limit is {getattr(error, 'description', '')}). Wait a minute, then open "
               "the activity again from your course.")
    return render_template("errors/error.html", title="Too many requests", message=message), 429


def init_app(app: Flask) -> None:
    """Install the guards, limits and headers; called once by the app factory."""
    check_production(app)
    proxies = int(app.config["PROXIES"] or (1 if app.config["PROXY_FIX"] else 0))
    if proxies and not app.config["PROXIES"]:
        # Behind a TLS-terminating proxy, request.is_secure must see the original https.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies, x_port=proxies
        )
    app.config["MAX_CONTENT_LENGTH"] = int(app.config["MAX_REQUEST_BYTES"])
    secure = app.config["BASE_URL"].startswith("https://")
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    app.config["SESSION_COOKIE_SECURE"] = secure
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    storage = rate_limit_storage(app.config)
    if app.config["ENV"] == "production" and storage == "memory://":
        log.warning("rate limits are counted per process; set COACHLAB_REDIS_URL in production")
    limiter = Limiter(
        get_remote_address, app=app, storage_uri=storage, default_limits=[],
        enabled=bool(app.config["RATE_LIMIT"]), key_prefix="coachlab",
    )
    app.extensions["coachlab_limiter"] = limiter
    app.register_error_handler(413, _too_large)
    app.register_error_handler(429, _too_many)
    app.after_request(set_headers)


def limit_launch_endpoints(app: Flask) -> None:
    """Rate-limit login and launch (after their blueprint is registered)."""
    limiter: Limiter = app.extensions["coachlab_limiter"]
    rate = str(app.config["RATE_LIMIT"])
    if not rate:
        return
    for endpoint in RATE_LIMITED:
        view = app.view_functions.get(endpoint)
        if view is not None:
            app.view_functions[endpoint] = limiter.limit(rate)(view)  # type: ignore[assignment]


CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"

_OBJECT_CLAIMS = (
    CLAIM + "context", CLAIM + "resource_link", CLAIM + "custom", CLAIM + "launch_presentation",
    CLAIM + "tool_platform", "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint",
    "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice",
    "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings",
)
_STRING_CLAIMS = ("iss", "sub", "name", "given_name", "family_name", "email", "nonce",
                  CLAIM + "message_type", CLAIM + "version", CLAIM + "deployment_id",
                  CLAIM + "target_link_uri")


def _reject(message: str) -> LtiToolError:
    from lti_tool.errors import LaunchRejected

    return LaunchRejected(message)


def check_claims(body: dict[str, Any], login: dict[str, Any]) -> None:
    """Refuse a signed launch whose claims have the wrong shape or audience, or that answers
    a login started for another platform; names the claim (pylti1p3 checks neither)."""
    check_claim_shapes(body)
    check_audience(body, login)


def check_claim_shapes(body: dict[str, Any]) -> None:
    """Refuse claims of the wrong JSON type before anything (pylti1p3, the database) uses
    them; runs before the signature check too, so it must only reject, never trust."""
    for name in _STRING_CLAIMS:
        if name in body and not isinstance(body[name], str):
            raise _reject(f"Malformed claims: {name} must be a string, got "
                          f"{type(body[name]).__name__}.")
    for name in ("iss", "sub", CLAIM + "deployment_id", CLAIM + "message_type"):
        if not body.get(name):
            raise _reject(f"Malformed claims: the required claim {name} is missing or empty.")
    for name in _OBJECT_CLAIMS:
        if name in body and not isinstance(body[name], dict):
            raise _reject(f"Malformed claims: {name} must be a JSON object, got "
                          f"{type(body[name]).__name__}.")
    roles = body.get(CLAIM + "roles", [])
    if not isinstance(roles, list) or not all(isinstance(role, str) for role in roles):
        raise _reject(f"Malformed claims: {CLAIM}roles must be a list of strings.")
    custom = body.get(CLAIM + "custom") or {}
    if not all(isinstance(v, str | int | float | bool) for v in custom.values()):
        raise _reject(f"Malformed claims: the values of {CLAIM}custom must be strings.")
    for name in (CLAIM + "context", CLAIM + "resource_link"):
        if name in body and not isinstance(body[name].get("id", ""), str | int):
            raise _reject(f"Malformed claims: {name}.id must be a string.")
    aud = body.get("aud")
    audiences = aud if isinstance(aud, list) else [aud]
    if not audiences or not all(isinstance(a, str) and a for a in audiences):
        raise _reject("Malformed claims: aud must be a client id or a list of them.")
    if "azp" in body and not isinstance(body["azp"], str):
        raise _reject("Malformed claims: azp must be a string.")


def check_audience(body: dict[str, Any], login: dict[str, Any]) -> None:
    """azp must name this tool when there are several audiences; the token must answer a
    login started for its own platform (issuer and client id)."""
    aud = body.get("aud")
    audiences = aud if isinstance(aud, list) else [aud]
    azp = body.get("azp")
    client_id = audiences[0]
    if len(audiences) > 1 and azp is None:
        raise _reject("Wrong azp: the token names several audiences but no azp (authorized "
                      "party); it must name this tool's client id.")
    if azp is not None and azp != client_id:
        raise _reject(f"Wrong azp: the token is authorized for {azp!r}, not for this tool's "
                      f"client id {client_id!r}.")
    started_for = login.get("iss")
    if started_for and started_for != body.get("iss"):
        raise _reject(f"Platform mismatch: the login was started for {started_for!r} but the "
                      f"launch token comes from {body.get('iss')!r}. Start the activity again.")
    login_client = login.get("client_id")
    if login_client and login_client != client_id:
        raise _reject(f"Platform mismatch: the login was started for client {login_client!r} "
                      f"but the token is for {client_id!r}. Start the activity again.")
