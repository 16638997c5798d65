"""LTI endpoints: login initiation, launch, the tool's JWKS and its Canvas configuration."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, current_app, jsonify, redirect, render_template
from flask.typing import ResponseReturnValue

from lti_tool.db import get_session
from lti_tool.keys import KeyRing
from lti_tool.launches import record_launch
from lti_tool.lti import deep_linking, submission_review
from lti_tool.lti.claims import MESSAGE_TYPE, read_claims
from lti_tool.lti.launch import start_login, tool_conf, validate_launch
from lti_tool.lti.references import sign_launch
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


@bp.post("/launch")
def launch() -> ResponseReturnValue:
    """Validate the id_token, record who launched what, then open the player or the overview."""
    body, launch_id = validate_launch()
    claims = read_claims(body)
    session = get_session()
    registration = tool_conf().find_registration_row(claims["issuer"], claims["client_id"])
    message_type = body.get(MESSAGE_TYPE)
    if message_type == "LtiDeepLinkingRequest":
        # The launch's deployment may be new (trusted registration): keep what validation added.
        session.commit()
        request = deep_linking.request_from_claims(registration.id, body)
        return redirect(tool_url("deep_linking.picker", dl=deep_linking.sign_request(request)))
    ref = record_launch(session, registration, claims, launch_id,
                        default_points=float(current_app.config["POINTS"]),
                        admin_subjects=current_app.config["ADMIN_SUBJECTS"])
    token = sign_launch(ref)
    if message_type == "LtiSubmissionReviewRequest":
        attempt = submission_review.review_attempt(
            session, ref, submission_review.reviewed_subject(body))
        return redirect(tool_url("learner.result", launch=token, attempt=attempt.id))
    if ref.staff:
        return redirect(tool_url("instructor.overview", launch=token))
    return redirect(tool_url("learner.play", launch=token))


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
