"""The demo LMS's pages and protocol endpoints."""

from __future__ import annotations

import json
import secrets
from typing import Any
from urllib.parse import urlencode, urlsplit

import jwt
from flask import Blueprint, current_app, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select

from lti_tool import content
from lti_tool.cache import get_cache
from lti_tool.db import get_session
from lti_tool.demo_lms.platform import (
    CLIENT_ID,
    CONTEXT,
    DEPLOYMENT_ID,
    PEOPLE,
    demo_keys,
    demo_url,
    id_token,
    issuer,
)
from lti_tool.errors import LtiToolError
from lti_tool.lti.launch import http_session
from lti_tool.models import DemoScore
from lti_tool.urls import tool_url

bp = Blueprint("demo_lms", __name__, url_prefix="/demo")

TOKEN_LIFETIME = 3600
SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
NRPS_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"


class DemoLmsError(LtiToolError):
    """The demo LMS refuses a protocol request (what a real LMS would refuse)."""

    title = "The demo LMS refused the request"


def _hints() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="coachlab.demo-lms")


def _scenario_choices() -> list[tuple[str, str]]:
    return [(s.id, s.title) for s in content.library().summaries()]


@bp.get("/")
def home() -> ResponseReturnValue:
    """Pick a person and a scenario, then launch."""
    return render_template("demo_lms/home.html", people=PEOPLE.values(),
                           scenarios=_scenario_choices())


@bp.get("/launch")
def launch() -> ResponseReturnValue:
    """The course page: the tool in an iframe, started by an OIDC login initiation."""
    person = PEOPLE.get(request.args.get("person", ""))
    scenario_id = request.args.get("scenario", "")
    if person is None or scenario_id not in dict(_scenario_choices()):
        raise DemoLmsError("Pick one of the listed people and scenarios on the demo LMS home page.")
    hints = _hints()
    params = {
        "iss": issuer(),
        "login_hint": hints.dumps({"person": person.id}),
        "lti_message_hint": hints.dumps({"scenario": scenario_id}),
        "target_link_uri": tool_url("lti.launch"),
        "client_id": CLIENT_ID,
        "lti_deployment_id": DEPLOYMENT_ID,
        # LTI Client Side postMessage storage: the tool stores its login state in this page.
        "lti_storage_target": "_parent",
    }
    login_url = tool_url("lti.login") + "?" + urlencode(params)
    parts = urlsplit(login_url)
    return render_template("demo_lms/launch.html", person=person, scenario_id=scenario_id,
                           login_url=login_url, tool_origin=f"{parts.scheme}://{parts.netloc}")


def _auth_param(name: str) -> str:
    return str(request.values.get(name) or "")


@bp.route("/auth", methods=["GET", "POST"])
def auth() -> ResponseReturnValue:
    """OIDC authentication: check the request, then form-post a signed id_token to the tool."""
    if _auth_param("response_type") != "id_token" or "openid" not in _auth_param("scope").split():
        raise DemoLmsError("The auth request must ask for response_type=id_token, scope=openid.")
    if _auth_param("client_id") != CLIENT_ID:
        raise DemoLmsError(f"Unknown client_id {_auth_param('client_id')!r}.")
    redirect_uri = _auth_param("redirect_uri")
    if redirect_uri != tool_url("lti.launch"):
        raise DemoLmsError(f"redirect_uri {redirect_uri!r} is not registered for this tool.")
    state, nonce = _auth_param("state"), _auth_param("nonce")
    if not state or not nonce:
        raise DemoLmsError("The auth request must carry state and nonce.")
    hints = _hints()
    try:
        person_id = hints.loads(_auth_param("login_hint"), max_age=600)["person"]
        scenario_id = hints.loads(_auth_param("lti_message_hint"), max_age=600)["scenario"]
    except (BadSignature, KeyError, TypeError):
        raise DemoLmsError("The login hint is not one this demo LMS issued.") from None
    person = PEOPLE[person_id]
    token = id_token(person, scenario_id, nonce, CLIENT_ID)
    return render_template("demo_lms/form_post.html", action=redirect_uri, id_token=token,
                           state=state)


@bp.get("/jwks.json")
def jwks() -> ResponseReturnValue:
    """The demo platform's public key set."""
    return jsonify(demo_keys().jwks())


def _tool_public_key(kid: str) -> Any:
    """Fetch the tool's JWKS from its public_jwk_url and pick the key with this kid."""
    response = http_session().get(tool_url("lti.jwks"), timeout=10)
    for key in response.json().get("keys", []):
        if key.get("kid") == kid:
            return jwt.PyJWK(key).key
    raise DemoLmsError(f"The tool's key set has no key with kid {kid!r}.")


@bp.post("/token")
def token() -> ResponseReturnValue:
    """OAuth2 client_credentials with a JWT assertion signed by the tool's key."""
    if request.form.get("grant_type") != "client_credentials":
        return jsonify(error="unsupported_grant_type"), 400
    assertion = request.form.get("client_assertion", "")
    try:
        kid = jwt.get_unverified_header(assertion).get("kid", "")
        claims = jwt.decode(
            assertion, _tool_public_key(kid), algorithms=["RS256"],
            audience=demo_url("/token"), issuer=CLIENT_ID,
        )
    except (jwt.PyJWTError, DemoLmsError) as error:
        return jsonify(error="invalid_client", error_description=str(error)), 401
    if claims.get("sub") != CLIENT_ID:
        return jsonify(error="invalid_client", error_description="sub must be the client id"), 401
    scope = request.form.get("scope", "")
    access_token = secrets.token_urlsafe(32)
    get_cache().set(f"demo-lms-token-{access_token}", scope.split(), TOKEN_LIFETIME)
    return jsonify(access_token=access_token, token_type="Bearer", expires_in=TOKEN_LIFETIME,
                   scope=scope)


def _require_scope(scope: str) -> None:
    header = request.headers.get("Authorization", "")
    scopes = get_cache().get(f"demo-lms-token-{header.removeprefix('Bearer ')}") or []
    if not header.startswith("Bearer ") or scope not in scopes:
        raise DemoLmsError(f"A bearer token with scope {scope} is required.")


@bp.post("/ags/<context_id>/lineitems/<lineitem_id>/scores")
def scores(context_id: str, lineitem_id: str) -> ResponseReturnValue:
    """AGS score publish: record the score in the demo gradebook."""
    _require_scope(SCORE_SCOPE)
    data = json.loads(request.get_data(as_text=True) or "{}")
    if not isinstance(data, dict) or not data.get("userId"):
        raise DemoLmsError("A score needs a userId.")
    session = get_session()
    session.add(DemoScore(
        lineitem=f"{context_id}/{lineitem_id}",
        user_id=str(data["userId"]),
        score_given=data.get("scoreGiven"),
        score_maximum=data.get("scoreMaximum"),
        activity_progress=str(data.get("activityProgress", "")),
        grading_progress=str(data.get("gradingProgress", "")),
        comment=str(data.get("comment", "")),
    ))
    session.commit()
    return "", 204


@bp.get("/nrps/<context_id>/memberships")
def memberships(context_id: str) -> ResponseReturnValue:
    """NRPS: the demo course's members."""
    _require_scope(NRPS_SCOPE)
    members = [{"status": "Active", "user_id": p.id, "name": p.name, "given_name": p.given_name,
                "family_name": p.family_name, "roles": [p.role]} for p in PEOPLE.values()]
    return jsonify(id=request.url, context={"id": context_id, "title": CONTEXT["title"]},
                   members=members)


@bp.get("/gradebook")
def gradebook() -> ResponseReturnValue:
    """Every score the demo LMS received, newest first."""
    rows = get_session().scalars(select(DemoScore).order_by(DemoScore.id.desc())).all()
    return render_template("demo_lms/gradebook.html", rows=rows, people=PEOPLE)
