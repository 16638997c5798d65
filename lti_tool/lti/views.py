"""LTI endpoints: login initiation, launch, the tool's JWKS and its Canvas configuration."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, current_app, jsonify, redirect, render_template
from flask.typing import ResponseReturnValue

from lti_tool.db import get_session
from lti_tool.errors import LtiToolError
from lti_tool.launches import record_launch
from lti_tool.lti.claims import MESSAGE_TYPE, read_claims
from lti_tool.lti.launch import start_login, tool_conf, tool_keys, validate_launch
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


class DeepLinkingUnavailable(LtiToolError):
    """A Deep Linking request arrived; this version places content with custom parameters."""

    status = 501
    title = "Choosing content from the LMS is not available yet"


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    """OIDC third-party initiated login (GET or POST), answered with a redirect to the LMS."""
    response: ResponseReturnValue = start_login(tool_url("lti.launch"))
    return response


@bp.post("/launch")
def launch() -> ResponseReturnValue:
    """Validate the id_token, record who launched what, then open the player or the overview."""
    body, launch_id = validate_launch()
    if body.get(MESSAGE_TYPE) == "LtiDeepLinkingRequest":
        raise DeepLinkingUnavailable(
            "Your LMS asked coachlab to pick content (Deep Linking). Until that arrives, add the "
            "tool as an external tool link and set its custom parameter scenario=<scenario id> "
            "(for example scenario=territory-rep-300-accounts) or module=<module id>."
        )
    claims = read_claims(body)
    session = get_session()
    registration = tool_conf().find_registration_row(claims["issuer"], claims["client_id"])
    ref = record_launch(session, registration, claims, launch_id,
                        admin_subjects=current_app.config["ADMIN_SUBJECTS"])
    token = sign_launch(ref)
    if ref.staff:
        return redirect(tool_url("instructor.overview", launch=token))
    return redirect(tool_url("learner.play", launch=token))


@bp.get("/jwks.json")
def jwks() -> ResponseReturnValue:
    """The tool's public keys. pylti1p3 2.0 returns {"keys": [...]} already: never wrap it."""
    return jsonify(tool_keys().jwks())


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
                           config_url=tool_url("lti.config_json"))
