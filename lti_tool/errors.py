"""The one place that turns errors into pages: every LtiException, ScenarioError, ResponseError
and LtiToolError becomes a 4xx page naming the reason in plain words; anything else is a 500
page after the database session is rolled back. No page ever shows a traceback."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from flask import render_template, request
from werkzeug.exceptions import HTTPException

if TYPE_CHECKING:
    from flask import Flask
    from flask.typing import ResponseReturnValue

log = logging.getLogger(__name__)


class LtiToolError(Exception):
    """Base error of the web tool; `status` is the HTTP status the page is served with."""

    status = 400
    title = "This request cannot be served"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigError(LtiToolError):
    """The configuration is invalid (raised at startup, names the variable to fix)."""

    status = 500
    title = "The tool is misconfigured"


class LaunchRejected(LtiToolError):
    """An LTI login or launch failed validation (the platform's or the request's fault)."""

    status = 400
    title = "The launch was rejected"


class LaunchExpired(LtiToolError):
    """The launch reference in the page is missing, forged or too old."""

    status = 401
    title = "Your session has ended"


class CsrfError(LtiToolError):
    """A state-changing form did not carry the token of its launch."""

    status = 400
    title = "The form could not be accepted"


class NotFound(LtiToolError):
    """Something the request names does not exist."""

    status = 404
    title = "Not found"


class Forbidden(LtiToolError):
    """The launch's role may not do this."""

    status = 403
    title = "Not allowed"


class InvalidAnswer(LtiToolError):
    """A submitted answer is incomplete or malformed (the learner can fix and resend it)."""

    status = 400
    title = "Some answers need another look"


class GradingFailed(LtiToolError):
    """Grading raised after the answers were safely stored (our fault, not the learner's)."""

    status = 500
    title = "Your answers are saved, but grading failed"


# pylti1p3 reports failures with terse messages; these say what they mean and what to do.
# Matched by substring, first match wins.
_LTI_REASONS: tuple[tuple[str, str], ...] = (
    ("Missing state param", "Missing state: the launch did not carry the state of an OIDC login. "
     "Start the activity again from your course."),
    ("State not found", "Replayed or unknown launch: the launch's state was already used by "
     "an earlier launch, or it is not one this tool's login issued in the last five minutes. "
     "Start the activity again from your course."),
    ("Nonce does not match state", "State mismatch: the launch token was issued for a different "
     "login than the one its state belongs to. Start the activity again."),
    ('"nonce" is empty', "The launch token has no nonce; the platform must send one."),
    ("Signature has expired", "Expired token: the launch token has expired. Start the activity "
     "again; if it keeps happening, check the clocks of the LMS and the tool."),
    ("Signature verification failed", "Bad signature: the launch token's signature does not match "
     "the platform's public key. Check the key set URL registered for this platform."),
    ("Unable to find public key", "Bad signature: the launch token was signed with a key (kid) "
     "that is not in the platform's key set registered with this tool."),
    ("Unable to find deployment", "Unknown deployment: the platform sent a deployment id this "
     "tool does not know. An administrator adds it with `coachlab platform deployment add` (or "
     "trusts every deployment of the registration with `coachlab platform add --any-deployment`)."),
    ("Can't decode id_token", "The launch token could not be verified"),
    ("Missing id_token", "The launch carried no id_token; it must be posted by the LMS."),
    ("JWT must contain 3 parts", "The id_token is not a JWT."),
    ("Invalid JWT format", "The id_token is not a readable JWT."),
    ("Could not find issuer", "The login request names no issuer (iss)."),
    ("Could not find login hint", "The login request has no login_hint."),
    ("Could not find registration", "Unknown issuer: the platform is not registered here."),
    ("Registration not found", "Unknown issuer: the platform is not registered with this tool."),
    ("Unrecognized message type", "The LMS sent an LTI message type this tool does not handle."),
    ("Message validation failed", "The launch message lacks required LTI claims."),
    ("Launch data not found", "This launch is no longer known; start the activity again."),
)


def explain_lti_error(message: str) -> str:
    """Translate a pylti1p3 exception message to a plain sentence (the original is appended)."""
    for needle, reason in _LTI_REASONS:
        if needle in message:
            return f"{reason} (LTI library said: {message})"
    return f"The LTI message could not be validated: {message}"


def _page(title: str, message: str, status: int) -> ResponseReturnValue:
    return render_template("errors/error.html", title=title, message=message), status


def _is_outage(error: Exception) -> bool:
    """A database error that means "unreachable" (connection lost or refused), not a bug."""
    from sqlalchemy.exc import DBAPIError, OperationalError

    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, OperationalError)


def register_error_handlers(app: Flask) -> None:
    """Install the handlers; called once by the app factory."""
    from pylti1p3.exception import LtiException, OIDCException

    from graders.base import ResponseError
    from lti_tool.db import rollback_request_session
    from lti_tool.security import redact
    from scenarios.errors import ScenarioError

    @app.errorhandler(LtiToolError)
    def tool_error(error: LtiToolError) -> ResponseReturnValue:
        rollback_request_session()
        if error.status >= 500:
            log.error("%s: %s", error.title, error.message, exc_info=error.__cause__)
        else:
            log.warning("%s %s refused (%s): %s", request.method, request.path, error.status,
                        redact(error.message))
        return _page(error.title, error.message, error.status)

    @app.errorhandler(LtiException)
    @app.errorhandler(OIDCException)
    def lti_error(error: Exception) -> ResponseReturnValue:
        rollback_request_session()
        reason = explain_lti_error(str(error))
        # The reason, never the token or a key: redact drops anything JWT- or PEM-shaped.
        log.warning("%s %s rejected: %s", request.method, request.path, redact(reason))
        return _page("The launch was rejected", reason, 400)

    @app.errorhandler(ScenarioError)
    def scenario_error(error: ScenarioError) -> ResponseReturnValue:
        rollback_request_session()
        return _page(
            "This activity's scenario cannot be used",
            f"{error} - ask the course administrator to fix the scenario or the placement.",
            422,
        )

    @app.errorhandler(ResponseError)
    def response_error(error: ResponseError) -> ResponseReturnValue:
        rollback_request_session()
        return _page("Some answers need another look", str(error), 400)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> ResponseReturnValue:
        rollback_request_session()
        return _page(error.name, error.description or error.name, error.code or 500)

    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError
    from sqlalchemy.exc import DBAPIError

    @app.errorhandler(RedisConnectionError)
    @app.errorhandler(RedisTimeoutError)
    @app.errorhandler(DBAPIError)
    def backend_error(error: Exception) -> ResponseReturnValue:
        if isinstance(error, DBAPIError) and not _is_outage(error):
            return internal_error(error)
        rollback_request_session()
        log.error("%s %s: a backend is unreachable: %s", request.method, request.path,
                  type(error).__name__)
        page = render_template(
            "errors/error.html", title="The tool is briefly unavailable",
            message="The tool cannot reach its database or cache just now; nothing you entered "
                    "after your last save was stored. Please try again in a minute.")
        return page, 503, {"Retry-After": "30"}

    @app.errorhandler(Exception)
    def internal_error(error: Exception) -> ResponseReturnValue:
        rollback_request_session()
        log.exception("unhandled error")
        return _page(
            "Something went wrong on our side",
            "The tool hit an internal error; nothing you entered after your last save was "
            "stored. Please try again; if it persists, tell your course administrator.",
            500,
        )
