"""Admin views (LMS administrators, or `issuer|subject` on COACHLAB_ADMIN_SUBJECTS): platform
registrations and deployments, placements across courses, content problems, failing deliveries.
"""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue

from lti_tool import content, reports
from lti_tool.db import get_session
from lti_tool.errors import Forbidden
from lti_tool.lti.references import LaunchRef, load_launch
from lti_tool.platforms import list_platforms

bp = Blueprint("admin", __name__, url_prefix="/admin")


def admin_launch() -> tuple[LaunchRef, str]:
    """The launch of this request; Forbidden unless it is an administrator's."""
    token = request.args.get("launch", "")
    ref = load_launch(token)
    if not ref.admin:
        raise Forbidden("These pages are for LMS administrators (or people on the tool's admin "
                        "allow-list, COACHLAB_ADMIN_SUBJECTS).")
    return ref, token


@bp.get("/")
def home() -> ResponseReturnValue:
    """Registrations and deployments."""
    _, token = admin_launch()
    return render_template("admin/home.html", launch=token,
                           platforms=list_platforms(get_session()))


@bp.get("/placements")
def placements() -> ResponseReturnValue:
    """Every placement across courses, and completion and mean score per module."""
    _, token = admin_launch()
    rows = reports.placement_summaries(get_session())
    return render_template("admin/placements.html", launch=token, rows=rows,
                           modules=reports.module_summaries(rows))


@bp.get("/content")
def content_problems() -> ResponseReturnValue:
    """Problems the scenario library loader reported (files skipped, fields wrong)."""
    _, token = admin_launch()
    return render_template("admin/content.html", launch=token,
                           problems=content.library().problems)


@bp.get("/deliveries")
def deliveries() -> ResponseReturnValue:
    """Grades that did not reach the LMS."""
    _, token = admin_launch()
    return render_template("admin/deliveries.html", launch=token,
                           failed=reports.failing_deliveries(get_session()))
