"""LTI endpoints: login initiation, launch, the tool's JWKS and its Canvas configuration."""

from __future__ import annotations

import hmac
import secrets
from typing import Any
from urllib.parse import urlencode, urlsplit

from flask import (
    Blueprint,
    current_app,
    g,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
)
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import IntegrityError

from lti_tool import learner
from lti_tool.cache import get_cache
from lti_tool.db import get_session
from lti_tool.errors import LaunchRejected
from lti_tool.keys import KeyRing
from lti_tool.launches import Launched, record_launch
from lti_tool.lti import deep_linking, submission_review
from lti_tool.lti.claims import MESSAGE_TYPE, read_claims
from lti_tool.lti.launch import (
    registration_cache,
    start_login,
    storage_key,
    tool_conf,
    validate_launch,
)
from lti_tool.lti.references import sign_launch
from lti_tool.security import check_launch_size
from lti_tool.urls import tool_url

bp = Blueprint("lti", __name__, url_prefix="/lti")

AGS_SCOPES = (
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
)
NRPS_SCOPES = ("https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",)


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    """OIDC third-party initiated login (GET or POST), answered with a redirect to the LMS."""
    response: ResponseReturnValue = start_login(tool_url("lti.launch"))
    return response


PENDING_LIFETIME = 120
"""Seconds the launch page has to confirm the launch from the platform's storage."""


@bp.post("/launch")
def launch() -> ResponseReturnValue:
    """Validate the id_token, check it comes back to the browser that started the login,
    record who launched what, then open the player or the overview."""
    check_launch_size()
    body, launch_id, binding = validate_launch()
    if binding.kind == "storage":
        pending = secrets.token_urlsafe(24)
        get_cache().set(f"coachlab-pending-{pending}", {
            "body": body, "launch_id": launch_id, "binding": binding.record.get("binding"),
            "login": binding.record.get("login") or {},
        }, PENDING_LIFETIME)
        return render_template(
            "lti/client_storage.html", mode="get", key=storage_key(binding.state),
            target=binding.record.get("storage_target", ""),
            origin=binding.record.get("platform_origin", ""), pending=pending,
            next_url=tool_url("lti.confirm_launch"),
        )
    if binding.kind != "cookie":
        return new_window_page(binding.record.get("login") or {})
    return complete_launch(body, launch_id)


def new_window_page(login: dict[str, str]) -> ResponseReturnValue:
    """Neither a state cookie nor the platform's storage can tie the launch to this browser:
    refuse it, and offer to start the same login in a new window, where cookies work."""
    return render_template(
        "lti/new_window.html", login_url=tool_url("lti.login") + "?" + urlencode(login),
    ), 401


@bp.post("/launch/confirm")
def confirm_launch() -> ResponseReturnValue:
    """The launch page read the state's secret back from the platform's storage: finish the
    launch when it matches the one the login stored there."""
    pending = request.form.get("pending", "")
    cache = get_cache()
    record = cache.get(f"coachlab-pending-{pending}") if pending else None
    if not isinstance(record, dict) or not cache.delete(f"coachlab-pending-{pending}"):
        raise LaunchRejected(
            "This launch check is unknown, already used or older than two minutes. Start the "
            "activity again from your course."
        )
    value = request.form.get("value", "")
    if not value:
        return new_window_page(record["login"])
    if not hmac.compare_digest(value.encode(), str(record["binding"]).encode()):
        raise LaunchRejected(
            "State mismatch: the state your LMS page stored for this tool does not belong to "
            "this launch (it was started in another browser). Start the activity again."
        )
    return complete_launch(record["body"], record["launch_id"])


def complete_launch(body: dict[str, Any], launch_id: str) -> ResponseReturnValue:
    """Record a validated, browser-bound launch and open the player or the overview."""
    claims = read_claims(body)
    session = get_session()
    registration = tool_conf().find_registration_row(claims["issuer"], claims["client_id"])
    message_type = body.get(MESSAGE_TYPE)
    if message_type == "LtiDeepLinkingRequest":
        # The launch's deployment may be new (trusted registration): keep what validation added.
        session.commit()
        request = deep_linking.request_from_claims(registration.id, body)
        return redirect(tool_url("deep_linking.picker", dl=deep_linking.sign_request(request)))
    try:
        launched = record_launch(
            session, registration, claims, launch_id,
            default_points=float(current_app.config["POINTS"]),
            admin_subjects=current_app.config["ADMIN_SUBJECTS"])
    except IntegrityError:
        # The cached registration was removed by another process since this worker read
        # it: forget it, and refuse the launch the way an unknown platform is refused.
        session.rollback()
        registration_cache().clear()
        g.pop("coachlab_registrations", None)
        tool_conf().find_registration_row(claims["issuer"], claims["client_id"])
        raise
    ref = launched.ref
    token = sign_launch(ref)
    if message_type == "LtiSubmissionReviewRequest":
        attempt = submission_review.review_attempt(
            session, ref, submission_review.reviewed_subject(body))
        return redirect(tool_url("learner.result", launch=token, attempt=attempt.id))
    if ref.staff:
        return redirect(tool_url("instructor.overview", launch=token))
    return learner_landing(token, launched)


def learner_landing(token: str, launched: Launched) -> ResponseReturnValue:
    """Answer the launch with the player page itself, not a redirect to it: the learner's
    browser saves a round trip (and the tool a request). The page names its own address
    (/play, which shows the same page) in Content-Location, and player.js puts it in the
    browser's history, so reloading the frame asks for that page instead of posting the
    spent id_token again."""
    page_url = tool_url("learner.play", launch=token)
    g.coachlab_page_url = page_url
    response = make_response(learner.landing(launched.ref, token, launched))
    if response.status_code == 200:
        response.headers["Content-Location"] = page_url
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/jwks.json")
def jwks() -> ResponseReturnValue:
    """The tool's public keys: the signing key and the previous ones not retired yet."""
    ring: KeyRing = current_app.extensions["coachlab_key_ring"]
    return jsonify(ring.jwks())


def canvas_config() -> dict[str, Any]:
    """The tool's configuration in Canvas's LTI 1.3 developer-key JSON format."""
    launch_url = tool_url("lti.launch")
    title = current_app.config["TOOL_TITLE"]
    deep_link = {"message_type": "LtiDeepLinkingRequest", "target_link_uri": launch_url}
    return {
        "title": title,
        "description": (
            "Scenario exercises that teach sales managers to coach: read the seller's situation, "
            "derive the critical tasks, find the largest gap, and coach that."
        ),
        "oidc_initiation_url": tool_url("lti.login"),
        "target_link_uri": launch_url,
        "public_jwk_url": tool_url("lti.jwks"),
        "scopes": [*AGS_SCOPES, *NRPS_SCOPES],
        "extensions": [
            {
                "domain": urlsplit(launch_url).hostname,
                "tool_id": "coachlab",
                "platform": "canvas.instructure.com",
                "privacy_level": "public",
                "settings": {
                    "text": title,
                    "placements": [
                        {"placement": "link_selection", "text": title, **deep_link},
                        {"placement": "assignment_selection", "text": title, **deep_link},
                    ],
                },
            }
        ],
        "custom_fields": {"canvas_course_id": "$Canvas.course.id"},
    }


@bp.get("/config.json")
def config_json() -> ResponseReturnValue:
    """Paste this URL into Canvas (Developer Keys > LTI Key > Enter URL)."""
    return jsonify(canvas_config())


@bp.get("/")
def about() -> ResponseReturnValue:
    """A page for admins: the URLs and values to register the tool with an LMS."""
    return render_template("lti/about.html", config=canvas_config(),
                           config_url=tool_url("lti.config_json"),
                           register_url=tool_url("registration.register"))
