"""The deep-linking content picker's pages: browse, search, choose, send back to the LMS."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from flask.typing import ResponseReturnValue

from lti_tool.db import get_session
from lti_tool.lti import deep_linking
from lti_tool.lti.launch import tool_keys
from lti_tool.placements import ATTEMPT_POLICIES
from lti_tool.urls import tool_url

bp = Blueprint("deep_linking", __name__, url_prefix="/lti/deep-link")


def _picker(token: str, dl: deep_linking.DeepLinkRequest, problem: str = "",
            status: int = 200) -> ResponseReturnValue:
    args = request.args if request.method == "GET" else request.form
    entries = deep_linking.catalogue_entries()
    query = args.get("q", "").strip()
    kind = args.get("kind", "")
    situation = args.get("situation", "")
    situations = sorted({s for entry in entries for s in entry.situations})
    return render_template(
        "deep_linking/picker.html",
        entries=deep_linking.search(entries, query, kind, situation),
        total=len(entries),
        query=query,
        kind=kind,
        situation=situation,
        situations=situations,
        chosen=set(request.form.getlist("item")) if request.method == "POST" else set(),
        form=request.form if request.method == "POST" else {},
        policies=ATTEMPT_POLICIES,
        default_points=current_app.config["POINTS"],
        dl=dl,
        token=token,
        csrf=deep_linking.csrf_for(dl),
        problem=problem,
    ), status


@bp.get("")
def picker() -> ResponseReturnValue:
    """The catalogue with search and filters (plain GET parameters: works without JS)."""
    token = request.args.get("dl", "")
    return _picker(token, deep_linking.load_request(token))


@bp.post("/return")
def send_back() -> ResponseReturnValue:
    """Build the signed LtiDeepLinkingResponse and auto-post it to the LMS."""
    token = request.form.get("dl", "")
    dl = deep_linking.load_request(token)
    deep_linking.check_csrf(dl, request.form.get("csrf_token"))
    try:
        chosen = deep_linking.chosen_entries(
            deep_linking.catalogue_entries(), request.form.getlist("item"), dl)
        settings = deep_linking.settings_from_form(
            request.form, float(current_app.config["POINTS"]))
    except deep_linking.DeepLinkingError as error:
        return _picker(token, dl, problem=error.message, status=400)
    items = deep_linking.content_items(chosen, settings, tool_url("lti.launch"),
                                       dl.accept_lineitem)
    jwt_value = deep_linking.response_jwt(get_session(), tool_keys(), dl, items)
    return render_template("deep_linking/return.html", return_url=dl.return_url,
                           jwt=jwt_value, chosen=chosen)
