"""Grade passback against lti1p3platform, a platform implementation coachlab did not write:
its launch carries the AGS claim, its token endpoint issues the access token, and its AGS
service authenticates, parses and stores the score the outbox sends."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask, Response, request
from flask.testing import FlaskClient
from lti1p3platform.lineitem import TLineItem
from lti1p3platform.request import Request, TRequest
from lti1p3platform.response import Response as PlatformResponse
from lti1p3platform.score import ActivityProgress, GradeProgress, TScore, UpdateScoreStatus
from lti1p3platform.service_connector import AssignmentsGradesService, TPage
from sqlalchemy import select, update

from lti_tool import db
from lti_tool.models import Attempt, OutboxItem, ResourceLink, utcnow
from lti_tool.outbox import deliver_due, enqueue_score
from tests.conftest import wsgi_session
from tests.lti_tool.flows import attempt_scenario, correct_answers, submit
from tests.lti_tool.lti1p3platform_peer import (
    ISSUER,
    LEARNER,
    GetRequest,
    Launch,
    Login,
    PlatformConf,
    register,
)

LINEITEMS = f"{ISSUER}/lineitems"


class FlaskPlatformRequest(Request):
    """A Flask request as lti1p3platform reads requests (its Django adapter, for Flask)."""

    def build_metadata(self, request: Any) -> TRequest:
        is_json = "json" in (request.content_type or "")
        json_data = request.get_json(silent=True) if is_json else None
        return {"method": request.method, "form_data": request.form.to_dict(),
                "get_data": request.args.to_dict(), "headers": dict(request.headers),
                "content_type": request.content_type, "path": request.path, "json": json_data}


def as_flask(resp: PlatformResponse) -> Response:
    """lti1p3platform's response as Flask's (its Django wrap_json_resp, for Flask)."""
    if 200 <= resp.code < 300:
        data = resp.result["content"] if resp.result and "content" in resp.result else resp.result
        return Response(json.dumps(data), resp.code, content_type=resp.media_type)
    return Response(json.dumps({"error": resp.message}), resp.code, content_type=resp.media_type)


@dataclass
class Gradebook:
    """What the platform's AGS service stored: line items and parsed scores."""

    lineitems: list[TLineItem] = field(default_factory=list)
    scores: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    answers: list[str] = field(default_factory=list)


def ags_service(platform: PlatformConf, book: Gradebook, lineitem: str | None) -> type:
    """lti1p3platform's AssignmentsGradesService with an in-memory gradebook."""

    class PlatformAgs(AssignmentsGradesService):
        def find_lineitems(self, page: int = 1, limit: int | None = None,
                           line_item_id: str | None = None,
                           resource_link_id: str | None = None,
                           resource_id: str | None = None, tag: str | None = None) -> TPage:
            items = [i for i in book.lineitems
                     if resource_link_id is None or i.get("resourceLinkId") == resource_link_id]
            return {"content": list(items), "has_next": False}

        def find_lineitem(self, line_item_id: str) -> TLineItem:
            return next(i for i in book.lineitems if i["id"].endswith(line_item_id))

        def create_lineitem(self, creation_data: TLineItem) -> TLineItem:
            item: TLineItem = {**creation_data, "id": f"{LINEITEMS}/created-{len(book.lineitems)}"}
            book.lineitems.append(item)
            return item

        def update_lineitem(self, update_data: TLineItem) -> TLineItem:
            return update_data

        def delete_lineitem(self, line_item_id: str) -> None:
            book.lineitems[:] = [i for i in book.lineitems if not i["id"].endswith(line_item_id)]

        def update_score(self, line_item_id: str, score: TScore) -> UpdateScoreStatus:
            # The score must be a TScore (no other keys) with values of its declared kinds.
            assert set(score) <= set(TScore.__annotations__), set(score)
            parsed = {
                "userId": str(score["userId"]),
                "scoreGiven": float(score["scoreGiven"]),
                "scoreMaximum": float(score["scoreMaximum"]),
                "activityProgress": ActivityProgress(score["activityProgress"]),
                "gradingProgress": GradeProgress(score["gradingProgress"]),
                "timestamp": datetime.fromisoformat(str(score["timestamp"])),
                "comment": score.get("comment"),
            }
            assert parsed["timestamp"].utcoffset() is not None
            key = (line_item_id, parsed["userId"])
            held = book.scores.get(key)
            if held is not None and parsed["timestamp"] <= held["timestamp"]:
                return UpdateScoreStatus.OLD_TIMESTAMP
            book.scores[key] = parsed
            return UpdateScoreStatus.SUCCESS

        def get_results(self, line_item_id: str, page: int = 1, limit: int | None = None,
                        user_id: str | None = None) -> TPage:
            return {"content": [], "has_next": False}

    return PlatformAgs


def platform_app(platform: PlatformConf, book: Gradebook, lineitem: str | None) -> Flask:
    """The platform's token and AGS endpoints, served by lti1p3platform's own handling."""
    app = Flask("lti1p3platform_lms")
    service = ags_service(platform, book, lineitem)

    def ags() -> Any:
        return service(FlaskPlatformRequest(request), platform, LINEITEMS, lineitem)

    @app.post("/token")
    def token() -> Any:
        return platform.get_access_token(request.form.to_dict())

    @app.route("/lineitems", methods=["GET", "POST"])
    def lineitems() -> Any:
        agent = ags()
        handler = agent.handle_get_lineitems if request.method == "GET" else (
            agent.handle_create_lineitem)
        return as_flask(agent.handle_resp(handler))

    @app.post("/lineitems/<line_item_id>/scores")
    def scores(line_item_id: str) -> Any:
        agent = ags()
        answer = agent.handle_resp(agent.handle_update_score, line_item_id=line_item_id)
        book.answers.append(f"{answer.code} {answer.message}")
        return as_flask(answer)

    return app


@dataclass
class Setup:
    platform: PlatformConf
    book: Gradebook
    lineitem: str | None


def setup(app: Flask, client: FlaskClient, *, lineitem: str | None) -> Setup:
    """Register an lti1p3platform platform with coachlab (and coachlab with it)."""
    platform = register(app, client, tool_keys="inline")
    book = Gradebook()
    lms = platform_app(platform, book, lineitem)
    app.config["HTTP_SESSION_FACTORY"] = lambda: wsgi_session(lms)
    return Setup(platform, book, lineitem)


def launch_and_submit(app: Flask, client: FlaskClient, env: Setup, user: str) -> None:
    """lti1p3platform launches a learner with the AGS claim; the learner submits."""
    login = Login(None, env.platform)
    login.set_lti_message_hint(hint="link-17")
    to_platform = client.get(login.initiate_login(user))
    assert to_platform.status_code == 302, to_platform.get_data(as_text=True)
    launch = Launch(GetRequest(to_platform.location), env.platform)
    launch.set_user_data(user, [LEARNER], full_name="Lin Platform")
    launch.set_resource_link_claim("link-17", title="Territory rep")
    launch.set_launch_context_claim("course-17", context_title="Course 17")
    launch.set_custom_parameters_claim({"scenario": "territory-rep-300-accounts"})
    launch.set_ags(LINEITEMS, env.lineitem, allow_creating_lineitems=True)
    form = launch.lti_launch()
    launched = client.post(urlsplit(form["launch_url"]).path,
                           data={"id_token": form["id_token"], "state": form["state"]})
    assert launched.status_code == 200, launched.get_data(as_text=True)
    page = launched.get_data(as_text=True)
    assert submit(client, page, correct_answers(attempt_scenario(app))).status_code == 302


def test_lti1p3platform_accepts_and_parses_the_score(app: Flask, client: FlaskClient) -> None:
    env = setup(app, client, lineitem=f"{LINEITEMS}/li-17")
    launch_and_submit(app, client, env, "user-17")
    with db.database(app).sessions() as session:
        link = session.scalars(select(ResourceLink)).one()
        assert link.ags_endpoint is not None and link.ags_endpoint["lineitem"] == (
            f"{LINEITEMS}/li-17")
    assert deliver_due(app).delivered == 1
    assert env.book.answers == ["200 success"]
    stored = env.book.scores[("li-17", "user-17")]
    with db.database(app).sessions() as session:
        attempt = session.scalars(select(Attempt)).one()
        assert stored["scoreGiven"] == round((attempt.score or 0) * 100, 2)
        assert stored["scoreMaximum"] == 100.0
        assert stored["gradingProgress"] in (GradeProgress.FULLYGRADED,
                                             GradeProgress.PENDINGMANUAL)
        assert stored["activityProgress"] in (ActivityProgress.COMPLETED,
                                              ActivityProgress.SUBMITTED)
        assert attempt.grade_sync_status == "sent"


def test_lti1p3platform_keeps_the_newer_score_and_refuses_a_replayed_older_one(
    app: Flask, client: FlaskClient
) -> None:
    env = setup(app, client, lineitem=f"{LINEITEMS}/li-17")
    launch_and_submit(app, client, env, "user-17")
    deliver_due(app)
    with app.app_context(), db.database(app).sessions() as session:
        attempt = session.scalars(select(Attempt)).one()
        session.execute(update(Attempt).values(status="overridden", score=0.95))
        session.refresh(attempt)
        enqueue_score(session, attempt, comment="Overridden after review")
        session.commit()
    assert deliver_due(app).delivered == 1
    stored = env.book.scores[("li-17", "user-17")]
    assert stored["scoreGiven"] == 95.0 and stored["comment"] == "Overridden after review"
    assert stored["gradingProgress"] is GradeProgress.FULLYGRADED
    with db.database(app).sessions() as session:  # replay the first, older score
        first = session.scalars(select(OutboxItem).order_by(OutboxItem.id)).first()
        assert first is not None
        session.execute(update(OutboxItem).where(OutboxItem.id != first.id).values(
            score_timestamp=datetime(2000, 1, 1)))
        session.execute(update(OutboxItem).where(OutboxItem.id == first.id).values(
            status="pending", next_try_at=utcnow()))
        session.commit()
    assert deliver_due(app, now=utcnow() + timedelta(seconds=1)).superseded == 1
    assert env.book.answers[-1] == "409 oldtimestamp"
    assert env.book.scores[("li-17", "user-17")]["scoreGiven"] == 95.0


@pytest.mark.parametrize("existing", [False, True])
def test_lti1p3platform_line_item_found_or_created_from_the_lineitems_url(
    app: Flask, client: FlaskClient, existing: bool
) -> None:
    env = setup(app, client, lineitem=None)
    if existing:
        env.book.lineitems.append({"id": f"{LINEITEMS}/li-5", "resourceLinkId": "link-17",
                                   "label": "Territory rep", "scoreMaximum": 100})
    launch_and_submit(app, client, env, "user-17")
    assert deliver_due(app).delivered == 1
    assert len(env.book.lineitems) == 1
    item = env.book.lineitems[0]
    assert item["resourceLinkId"] == "link-17"
    if not existing:
        assert (item["tag"], item["resourceId"]) == ("coachlab", "territory-rep-300-accounts")
    name = item["id"].rsplit("/", 1)[-1]
    assert (name, "user-17") in env.book.scores
    with db.database(app).sessions() as session:
        link = session.scalars(select(ResourceLink)).one()
        assert (link.ags_lineitem or {}).get("id") == item["id"]
