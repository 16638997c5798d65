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
    DL_CLAIM,
    PEOPLE,
    Activity,
    Person,
    add_activities,
    added_activities,
    deep_linking_token,
    demo_keys,
    demo_url,
    id_token,
    issuer,
    scenario_activity,
)
from lti_tool.errors import LtiToolError
from lti_tool.lti.launch import http_session
from lti_tool.models import DemoScore
from lti_tool.urls import tool_url

bp = Blueprint("demo_lms", __name__, url_prefix="/demo")

TOKEN_LIFETIME = 3600
CLAIM_MESSAGE_TYPE = "https://purl.imsglobal.org/spec/lti/claim/message_type"
CLAIM_DEPLOYMENT = "https://purl.imsglobal.org/spec/lti/claim/deployment_id"
SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
NRPS_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"


class DemoLmsError(LtiToolError):
    """The demo LMS refuses a protocol request (what a real LMS would refuse)."""

    title = "The demo LMS refused the request"


def _hints() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="coachlab.demo-lms")


def _scenario_choices() -> list[tuple[str, str]]:
    return [(s.id, s.title) for s in content.library().summaries()]


def _activities() -> dict[str, Activity]:
    """Every link in the demo course: the library's scenarios, then what Deep Linking added."""
    builtin = [scenario_activity(id_, title) for id_, title in _scenario_choices()]
    return {a.id: a for a in [*builtin, *added_activities()]}


@bp.get("/")
def home() -> ResponseReturnValue:
    """Pick a person and a course link, then launch; or add links through Deep Linking."""
    activities = _activities()
    return render_template("demo_lms/home.html", people=PEOPLE.values(),
                           scenarios=_scenario_choices(),
                           added=[a for a in activities.values() if a.added],
                           instructors=[p for p in PEOPLE.values() if p.is_instructor])


def _frame(person: Person, message: dict[str, str], heading: str) -> ResponseReturnValue:
    """The course page: the tool in an iframe, started by an OIDC login initiation."""
    hints = _hints()
    params = {
        "iss": issuer(),
        "login_hint": hints.dumps({"person": person.id}),
        "lti_message_hint": hints.dumps(message),
        "target_link_uri": tool_url("lti.launch"),
        "client_id": CLIENT_ID,
        "lti_deployment_id": DEPLOYMENT_ID,
        # LTI Client Side postMessage storage: the tool stores its login state in this page.
        "lti_storage_target": "_parent",
    }
    login_url = tool_url("lti.login") + "?" + urlencode(params)
    parts = urlsplit(login_url)
    return render_template("demo_lms/launch.html", person=person, heading=heading,
                           login_url=login_url, tool_origin=f"{parts.scheme}://{parts.netloc}")


@bp.get("/launch")
def launch() -> ResponseReturnValue:
    """Open one course link (`scenario=` a library scenario, or `activity=` any link)."""
    person = PEOPLE.get(request.args.get("person", ""))
    activity_id = request.args.get("activity") or request.args.get("scenario", "")
    activity = _activities().get(activity_id)
    if person is None or activity is None:
        raise DemoLmsError("Pick one of the listed people and course links on the demo LMS "
                           "home page.")
    return _frame(person, {"activity": activity.id}, activity.title)


@bp.get("/deep-link")
def deep_link() -> ResponseReturnValue:
    """An instructor adds coachlab content to the course: an LtiDeepLinkingRequest launch."""
    person = PEOPLE.get(request.args.get("person", ""))
    if person is None or not person.is_instructor:
        raise DemoLmsError("Only the course's instructor can add activities; pick Ivo Instructor.")
    return _frame(person, {"deep_link": person.id}, "Add coachlab activities")


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
        person = PEOPLE[hints.loads(_auth_param("login_hint"), max_age=600)["person"]]
        message = hints.loads(_auth_param("lti_message_hint"), max_age=600)
        if not isinstance(message, dict):
            raise TypeError
    except (BadSignature, KeyError, TypeError):
        raise DemoLmsError("The login hint is not one this demo LMS issued.") from None
    if "deep_link" in message:
        # The data claim comes back in the tool's response: it ties the answer to this request.
        data = hints.dumps({"deep_link": person.id, "nonce": nonce})
        token = deep_linking_token(person, nonce, CLIENT_ID, data)
    else:
        activity = _activities().get(str(message.get("activity", "")))
        if activity is None:
            raise DemoLmsError("That course link was removed; go back to the demo LMS home page.")
        token = id_token(person, activity, nonce, CLIENT_ID)
    return render_template("demo_lms/form_post.html", action=redirect_uri, id_token=token,
                           state=state)


def _response_claims(token: str) -> dict[str, Any]:
    """Verify the tool's LtiDeepLinkingResponse as an LMS must: signature, issuer, audience."""
    try:
        kid = jwt.get_unverified_header(token).get("kid", "")
        claims: dict[str, Any] = jwt.decode(
            token, _tool_public_key(kid), algorithms=["RS256"], audience=issuer(),
            issuer=CLIENT_ID, options={"require": ["exp", "iat", "nonce"]},
        )
    except jwt.PyJWTError as error:
        raise DemoLmsError(f"The tool's deep-linking response did not verify: {error}.") from None
    if claims.get(CLAIM_MESSAGE_TYPE) != "LtiDeepLinkingResponse":
        raise DemoLmsError("The JWT is not an LtiDeepLinkingResponse.")
    if claims.get(CLAIM_DEPLOYMENT) != DEPLOYMENT_ID:
        raise DemoLmsError("The response names another deployment.")
    try:
        data = _hints().loads(str(claims.get(DL_CLAIM + "data", "")), max_age=2 * 3600)
    except BadSignature:
        raise DemoLmsError("The response does not answer a request this demo LMS made (its "
                           "data claim is missing or changed).") from None
    if not isinstance(data, dict) or data.get("deep_link") not in PEOPLE:
        raise DemoLmsError("The response does not answer a request this demo LMS made.")
    return claims


@bp.post("/deep-linking/return")
def deep_linking_return() -> ResponseReturnValue:
    """The tool posts the chosen content items here; each becomes a link in the course."""
    claims = _response_claims(request.form.get("JWT", ""))
    items = claims.get(DL_CLAIM + "content_items") or []
    if not isinstance(items, list):
        raise DemoLmsError("content_items must be a list.")
    chosen: list[tuple[str, dict[str, str]]] = []
    for item in items:
        if not isinstance(item, dict) or item.get("type") != "ltiResourceLink":
            raise DemoLmsError("The demo course accepts only ltiResourceLink content items.")
        custom = item.get("custom") or {}
        if not isinstance(custom, dict):
            raise DemoLmsError("A content item's custom parameters must be an object.")
        title = str(item.get("title") or "coachlab activity")
        chosen.append((title, {str(k): str(v) for k, v in custom.items()}))
    added = add_activities(chosen)
    return render_template("demo_lms/added.html", added=added,
                           message=str(claims.get(DL_CLAIM + "msg") or ""))


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
