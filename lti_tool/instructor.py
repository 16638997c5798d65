"""The placement overview for instructors, teaching assistants and administrators."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from flask.typing import ResponseReturnValue

from lti_tool import attempts, content, outbox
from lti_tool.db import get_session
from lti_tool.errors import Forbidden
from lti_tool.lti import nrps
from lti_tool.lti.claims import CLAIM
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
    rows = attempts.placement_attempts(session, link)
    awaiting_review = any(a.status == "needs_review" for a in rows)
    roster = nrps.link_roster(current_app._get_current_object(), link)  # type: ignore[attr-defined]
    return render_template(
        "instructor/overview.html",
        link=link,
        user=user,
        scenario_id=content.placement_scenario_id(link),
        attempts=rows,
        launch=token,
        deliveries=outbox.latest_deliveries(session, link),
        pending_manual_notice=outbox.pending_manual_notice(_platform_product(ref.launch_id))
        if awaiting_review else None,
        roster=roster,
        not_started=nrps.not_started(roster, (a.user.subject for a in rows)),
    )


def _platform_product(launch_id: str) -> str | None:
    """The LMS product (tool_platform.product_family_code) of this launch, when still cached."""
    from lti_tool.lti.launch import launch_storage

    body = launch_storage().get_value(launch_id)
    platform = body.get(CLAIM + "tool_platform") if isinstance(body, dict) else None
    code = platform.get("product_family_code") if isinstance(platform, dict) else None
    return str(code) if code else None
