"""The placement overview for instructors, teaching assistants and administrators."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue

from lti_tool import attempts, content
from lti_tool.db import get_session
from lti_tool.errors import Forbidden
from lti_tool.lti.references import load_launch

bp = Blueprint("instructor", __name__)


@bp.get("/overview")
def overview() -> ResponseReturnValue:
    """Learners' attempts and scores on this placement."""
    token = request.args.get("launch", "")
    ref = load_launch(token)
    if not ref.staff:
        raise Forbidden("The overview is for instructors; your launch has a learner role.")
    session = get_session()
    link, user = attempts.placement(session, ref)
    return render_template(
        "instructor/overview.html",
        link=link,
        user=user,
        scenario_id=content.placement_scenario_id(link),
        attempts=attempts.placement_attempts(session, link),
        launch=token,
    )
