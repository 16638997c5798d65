"""The grade outbox: what is queued with a result, and how it reaches a (fake) LMS over real
HTTP when the LMS is slow, down, refusing or answering out of line."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
import requests
from flask import Flask
from sqlalchemy import select, update

from lti_tool import db
from lti_tool.models import Attempt, OutboxItem, ResourceLink, StepResultRecord, utcnow
from lti_tool.outbox import (
    OutboxError,
    as_utc,
    deliver_due,
    enqueue_score,
    latest_delivery,
    next_timestamp,
    pending_manual_notice,
    retry_after_seconds,
    retry_failed,
)
from tests.conftest import make_app
from tests.lti_tool.fake_lms import (
    FakeLms,
    Scripted,
    endpoint,
    enqueue,
    link_of,
    outbox_row,
    register,
    seed_attempt,
    serving,
)
from tests.lti_tool.test_backends import postgres_url  # noqa: F401 - the PostgreSQL fixture


@pytest.fixture
def lms() -> Iterator[FakeLms]:
    with serving() as fake:
        yield fake


@pytest.fixture
def tool(tmp_path: Path) -> Flask:
    """The tool reaching the fake LMS over real HTTP, with a short AGS timeout."""
    app = make_app(tmp_path, AGS_TIMEOUT=0.5)
    app.config["HTTP_SESSION_FACTORY"] = requests.Session
    return app


def later(seconds: float) -> datetime:
    """A moment `seconds` from now (the injected clock of deliver_due)."""
    return utcnow() + timedelta(seconds=seconds)


# --- enqueue: the payload, in the result's transaction ---------------------------------------


def test_the_outbox_row_commits_with_the_result_or_not_at_all(tool: Flask, lms: FakeLms) -> None:
    attempt_id = seed_attempt(tool, register(tool, lms), endpoint(lms))
    with tool.app_context(), db.database(tool).sessions() as session:
        attempt = session.get(Attempt, attempt_id)
        assert attempt is not None
        assert enqueue_score(session, attempt) is not None
        session.rollback()
        assert session.scalars(select(OutboxItem)).all() == []
        enqueue_score(session, attempt)
        session.commit()
        assert len(session.scalars(select(OutboxItem)).all()) == 1


def test_payload_is_built_once_at_enqueue(tool: Flask, lms: FakeLms) -> None:
    graded = datetime(2026, 11, 27, 0, 30, 12, 345678).astimezone()
    attempt_id = seed_attempt(tool, register(tool, lms), endpoint(lms), subject="sub-42",
                              score=0.75, graded_at=graded)
    row = outbox_row(tool, enqueue(tool, attempt_id, comment="Well argued.") or 0)
    assert row.payload == {
        "userId": "sub-42", "scoreGiven": 75.0, "scoreMaximum": 100.0,
        "activityProgress": "Completed", "gradingProgress": "FullyGraded",
        "timestamp": as_utc(graded).isoformat(timespec="milliseconds"),
        "comment": "Well argued.",
    }
    assert datetime.fromisoformat(row.payload["timestamp"]).utcoffset() == timedelta(0)
    assert row.lineitem_url == lms.lineitem_url("li-1") and row.status == "pending"


def test_placement_points_set_score_maximum(tool: Flask, lms: FakeLms) -> None:
    registration = register(tool, lms)
    attempt_id = seed_attempt(tool, registration, endpoint(lms), score=0.5)
    with db.database(tool).sessions() as session:
        session.execute(update(ResourceLink).values(settings={"points": 10}))
        session.commit()
    payload = outbox_row(tool, enqueue(tool, attempt_id) or 0).payload
    assert (payload["scoreGiven"], payload["scoreMaximum"]) == (5.0, 10.0)


@pytest.mark.parametrize(("policy", "expected"), [
    (None, 90.0), ("best", 90.0), ("last", 40.0), ("mean", 65.0)])
def test_score_given_follows_the_placements_attempt_policy(
    tool: Flask, lms: FakeLms, policy: str | None, expected: float
) -> None:
    registration = register(tool, lms)
    seed_attempt(tool, registration, endpoint(lms), score=0.9)
    seed_attempt(tool, registration, endpoint(lms), score=0.1, status="in_progress")
    latest = seed_attempt(tool, registration, endpoint(lms), score=0.4)
    if policy:
        with db.database(tool).sessions() as session:
            session.execute(update(ResourceLink).values(settings={"attempt_policy": policy}))
            session.commit()
    assert outbox_row(tool, enqueue(tool, latest) or 0).payload["scoreGiven"] == expected


def test_pending_manual_while_a_step_awaits_review(tool: Flask, lms: FakeLms) -> None:
    registration = register(tool, lms)
    attempt_id = seed_attempt(tool, registration, endpoint(lms), status="graded")
    with db.database(tool).sessions() as session:
        session.add(StepResultRecord(attempt_id=attempt_id, step_id="plan", score=0.5,
                                     needs_review=True, grader="coaching_plan",
                                     grader_version="1"))
        session.commit()
    pending = outbox_row(tool, enqueue(tool, attempt_id) or 0).payload
    assert (pending["gradingProgress"], pending["activityProgress"]) == (
        "PendingManual", "Submitted")
    chosen = outbox_row(tool, enqueue(tool, attempt_id, grading_progress="FullyGraded") or 0)
    assert chosen.payload["gradingProgress"] == "FullyGraded"
    with db.database(tool).sessions() as session:
        session.execute(update(Attempt).values(status="overridden"))
        session.commit()
    assert outbox_row(tool, enqueue(tool, attempt_id) or 0).payload["gradingProgress"] == (
        "FullyGraded")
    with pytest.raises(OutboxError, match="gradingProgress 'Done' is not one of"):
        enqueue(tool, attempt_id, grading_progress="Done")


def test_timestamps_strictly_increase_in_whole_seconds(tool: Flask, lms: FakeLms) -> None:
    attempt_id = seed_attempt(tool, register(tool, lms), endpoint(lms))
    stamps = [datetime.fromisoformat(outbox_row(tool, enqueue(tool, attempt_id) or 0)
                                     .payload["timestamp"]) for _ in range(3)]
    seconds = [int(stamp.timestamp()) for stamp in stamps]
    assert seconds[0] < seconds[1] < seconds[2]
    assert next_timestamp(stamps[2] + timedelta(minutes=5), stamps[2]) == (
        stamps[2] + timedelta(minutes=5))


def test_a_placement_without_ags_queues_nothing(tool: Flask, lms: FakeLms) -> None:
    registration = register(tool, lms)
    for claim in (None, endpoint(lms, scopes=[AGS_READ_ONLY]), endpoint(lms, lineitem=None,
                                                                          lineitems=False)):
        attempt_id = seed_attempt(tool, registration, claim)
        assert enqueue(tool, attempt_id) is None
        with db.database(tool).sessions() as session:
            attempt = session.get(Attempt, attempt_id)
            assert attempt is not None and attempt.grade_sync_status == "not_available"
            assert latest_delivery(session, attempt) is None


AGS_READ_ONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"


# --- delivery and tokens ------------------------------------------------------------------


def test_delivers_and_reuses_the_access_token_until_it_expires(tool: Flask, lms: FakeLms) -> None:
    registration = register(tool, lms)
    for subject in ("ada", "ben"):
        enqueue(tool, seed_attempt(tool, registration, endpoint(lms), subject=subject))
    report = deliver_due(tool, now=later(1))
    assert report.delivered == 2 and report.handled == 2
    assert lms.token_requests == 1
    assert {post["payload"]["userId"] for post in lms.score_posts} == {"ada", "ben"}
    assert {post["content_type"] for post in lms.score_posts} == {
        "application/vnd.ims.lis.v1.score+json"}
    enqueue(tool, seed_attempt(tool, registration, endpoint(lms), subject="cy"))
    assert deliver_due(tool, now=later(600)).delivered == 1
    assert lms.token_requests == 1  # still cached ten minutes on
    enqueue(tool, seed_attempt(tool, registration, endpoint(lms), subject="di"))
    assert deliver_due(tool, now=later(3600)).delivered == 1
    assert lms.token_requests == 2  # an hour on, past expiry minus the margin
    with db.database(tool).sessions() as session:
        attempts = session.scalars(select(Attempt)).all()
        assert {a.grade_sync_status for a in attempts} == {"sent"}


def test_401_drops_the_token_and_retries_once_with_a_new_one(tool: Flask, lms: FakeLms) -> None:
    registration = register(tool, lms)
    enqueue(tool, seed_attempt(tool, registration, endpoint(lms), subject="ada"))
    assert deliver_due(tool, now=later(1)).delivered == 1
    lms.revoke_tokens()  # the LMS forgot the token long before its expiry
    row_id = enqueue(tool, seed_attempt(tool, registration, endpoint(lms), subject="ben"))
    assert deliver_due(tool, now=later(2)).delivered == 1
    assert lms.token_requests == 2
    row = outbox_row(tool, row_id or 0)
    assert row.status == "delivered" and row.attempts == 1
    assert row.tries[0]["token_refreshed"] is True and row.tries[0]["status_code"] == 200
    assert lms.stored("ben") is not None


def test_429_waits_for_retry_after_in_seconds(tool: Flask, lms: FakeLms) -> None:
    row_id = enqueue(tool, seed_attempt(tool, register(tool, lms), endpoint(lms)))
    lms.script.append(Scripted(429, "slow down", {"Retry-After": "120"}))
    start = later(1)
    assert deliver_due(tool, now=start).retrying == 1
    row = outbox_row(tool, row_id or 0)
    assert as_utc(row.next_try_at) == start + timedelta(seconds=120)
    assert row.last_status_code == 429 and "slow down" in (row.last_error or "")
    assert deliver_due(tool, now=start + timedelta(seconds=60)).handled == 0
    assert deliver_due(tool, now=start + timedelta(seconds=121)).delivered == 1
    assert [t["status_code"] for t in outbox_row(tool, row_id or 0).tries] == [429, 200]


def test_503_with_retry_after_waits_as_asked(tool: Flask, lms: FakeLms) -> None:
    row_id = enqueue(tool, seed_attempt(tool, register(tool, lms), endpoint(lms)))
    lms.script.append(Scripted(503, "upgrading", {"Retry-After": "900"}))
    start = later(1)
    assert deliver_due(tool, now=start).retrying == 1
    assert as_utc(outbox_row(tool, row_id or 0).next_try_at) == start + timedelta(seconds=900)


def test_429_waits_for_retry_after_as_an_http_date(tool: Flask, lms: FakeLms) -> None:
    row_id = enqueue(tool, seed_attempt(tool, register(tool, lms), endpoint(lms)))
    start = later(1).replace(microsecond=0)
    lms.script.append(Scripted(429, "", {"Retry-After": format_datetime(
        start + timedelta(minutes=5), usegmt=True)}))
    deliver_due(tool, now=start)
    assert as_utc(outbox_row(tool, row_id or 0).next_try_at) == start + timedelta(minutes=5)
    assert retry_after_seconds("soon", start) is None


def test_500s_for_a_while_back_off_exponentially_then_recover(tool: Flask, lms: FakeLms) -> None:
    row_id = enqueue(tool, seed_attempt(tool, register(tool, lms), endpoint(lms)))
    for _ in range(4):
        lms.script.append(Scripted(500, "database is down"))
    moment = later(1)
    delays = []
    rng = random.Random(7)
    while True:
        report = deliver_due(tool, now=moment, rng=rng)
        row = outbox_row(tool, row_id or 0)
        if report.delivered:
            break
        assert report.retrying == 1 and row.status == "pending"
        delays.append((as_utc(row.next_try_at) - moment).total_seconds())
        moment = as_utc(row.next_try_at)
    for tries, delay in enumerate(delays, start=1):
        ceiling = 30 * 2 ** (tries - 1)
        assert ceiling / 2 <= delay <= ceiling  # exponential, jittered within its window
    assert [t["status_code"] for t in row.tries] == [500, 500, 500, 500, 200]
    assert row.status == "delivered" and row.last_error is None
    assert len(lms.score_posts) == 1 and lms.stored("learner-1") is not None


def test_a_timeout_is_retried_and_the_double_delivery_is_harmless(
    tool: Flask, lms: FakeLms
) -> None:
    row_id = enqueue(tool, seed_attempt(tool, register(tool, lms), endpoint(lms)))
    lms.script.append(Scripted(0, delay=1.5))  # answers after the tool gave up (0.5 s)
    assert deliver_due(tool, now=later(1)).retrying == 1
    row = outbox_row(tool, row_id or 0)
    assert "did not answer within 0.5 s" in (row.last_error or "")
    assert deliver_due(tool, now=later(120)).delivered == 1
    stored = lms.stored("learner-1")
    assert stored is not None and stored["scoreGiven"] == 75.0
    assert len(lms.gradebook) == 1


def test_the_lms_down_then_back_loses_nothing(tool: Flask, lms: FakeLms) -> None:
    registration = register(tool, lms)
    lms.stop()
    subjects = [f"learner-{n}" for n in range(5)]
    for subject in subjects:
        enqueue(tool, seed_attempt(tool, registration, endpoint(lms), subject=subject))
    report = deliver_due(tool, now=later(1))
    assert report.retrying == 5
    with db.database(tool).sessions() as session:
        rows = session.scalars(select(OutboxItem)).all()
        assert {r.status for r in rows} == {"pending"}
        assert all("could not be reached" in (r.last_error or "") for r in rows)
    lms.start()
    assert deliver_due(tool, now=later(3600)).delivered == 5
    assert sorted(user for _, user in lms.gradebook) == sorted(subjects)


def test_retry_limit_marks_failed_and_retry_failed_queues_again(
    tmp_path: Path, lms: FakeLms
) -> None:
    app = make_app(tmp_path, OUTBOX_MAX_TRIES=2)
    app.config["HTTP_SESSION_FACTORY"] = requests.Session
    row_id = enqueue(app, seed_attempt(app, register(app, lms), endpoint(lms)))
    lms.script.extend([Scripted(503, "maintenance"), Scripted(503, "maintenance")])
    assert deliver_due(app, now=later(1)).retrying == 1
    assert deliver_due(app, now=later(7200)).failed == 1
    row = outbox_row(app, row_id or 0)
    assert row.status == "failed" and "gave up after 2 tries" in (row.last_error or "")
    with db.database(app).sessions() as session:
        attempt = session.scalars(select(Attempt)).one()
        assert attempt.grade_sync_status == "failed" and "maintenance" in (
            attempt.grade_sync_error or "")
        assert retry_failed(session) == 1
    assert deliver_due(app, now=later(7300)).delivered == 1


# --- ordering: an older score never overwrites a newer one ----------------------------------


def test_an_older_queued_score_is_superseded_by_a_newer_one(tool: Flask, lms: FakeLms) -> None:
    registration = register(tool, lms)
    first = seed_attempt(tool, registration, endpoint(lms), score=0.4)
    old_row = enqueue(tool, first)
    new_row = enqueue(tool, seed_attempt(tool, registration, endpoint(lms), score=0.9))
    report = deliver_due(tool, now=later(1))
    assert (report.superseded, report.delivered) == (1, 1)
    assert outbox_row(tool, old_row or 0).status == "superseded"
    assert outbox_row(tool, new_row or 0).status == "delivered"
    assert [post["payload"]["scoreGiven"] for post in lms.score_posts] == [90.0]


def test_a_retried_older_score_never_follows_a_delivered_newer_one(
    tool: Flask, lms: FakeLms
) -> None:
    registration = register(tool, lms)
    lms.script.append(Scripted(500, "busy"))
    old_row = enqueue(tool, seed_attempt(tool, registration, endpoint(lms), score=0.4))
    assert deliver_due(tool, now=later(1)).retrying == 1
    new_row = enqueue(tool, seed_attempt(tool, registration, endpoint(lms), score=0.9))
    report = deliver_due(tool, now=later(3600))
    assert (report.delivered, report.superseded) == (1, 1)
    assert outbox_row(tool, old_row or 0).status == "superseded"
    assert outbox_row(tool, new_row or 0).status == "delivered"
    stored = lms.stored("learner-1")
    assert stored is not None and stored["scoreGiven"] == 90.0


def test_a_newer_score_waits_while_an_older_one_is_in_flight(tool: Flask, lms: FakeLms) -> None:
    registration = register(tool, lms)
    old_row = enqueue(tool, seed_attempt(tool, registration, endpoint(lms), score=0.4))
    new_row = enqueue(tool, seed_attempt(tool, registration, endpoint(lms), score=0.9))
    start = later(1)
    with db.database(tool).sessions() as session:  # another worker is sending the older one
        session.execute(update(OutboxItem).where(OutboxItem.id == old_row).values(
            claim_token="other-worker", claimed_until=start + timedelta(seconds=60),
            next_try_at=start + timedelta(days=1)))
        session.commit()
    assert deliver_due(tool, now=start).deferred == 1
    assert outbox_row(tool, new_row or 0).status == "pending" and lms.score_posts == []
    assert deliver_due(tool, now=start + timedelta(seconds=90)).delivered == 1


def test_parallel_workers_never_send_a_row_twice(tool: Flask, lms: FakeLms) -> None:
    _parallel_delivery(tool, lms)


def _parallel_delivery(app: Flask, lms: FakeLms) -> None:
    registration = register(app, lms)
    subjects = [f"learner-{n}" for n in range(12)]
    for subject in subjects:
        enqueue(app, seed_attempt(app, registration, endpoint(lms), subject=subject))
    # Two scores of one learner: only the newer may arrive.
    enqueue(app, seed_attempt(app, registration, endpoint(lms), subject="twice", score=0.2))
    enqueue(app, seed_attempt(app, registration, endpoint(lms), subject="twice", score=0.8))
    lms.script.extend(Scripted(0, delay=0.02) for _ in range(20))  # keep sends overlapping
    barrier = threading.Barrier(2)
    reports = []

    def work() -> None:
        barrier.wait()
        reports.append(deliver_due(app, now=later(1)))

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    posted = [post["payload"]["userId"] for post in lms.score_posts]
    assert sorted(posted) == sorted([*subjects, "twice"])  # each exactly once
    assert sum(r.delivered for r in reports) == 13 and sum(r.superseded for r in reports) == 1
    stored = lms.stored("twice")
    assert stored is not None and stored["scoreGiven"] == 80.0


@pytest.mark.postgres
def test_parallel_workers_never_send_a_row_twice_on_postgresql(
    tmp_path: Path, lms: FakeLms, postgres_url: str  # noqa: F811 - the imported fixture
) -> None:
    app = make_app(tmp_path, DATABASE_URL=postgres_url)
    app.config["HTTP_SESSION_FACTORY"] = requests.Session
    _parallel_delivery(app, lms)
    db.database(app).engine.dispose()


# --- known platform behaviours (Moodle, Canvas) -------------------------------------------


@pytest.fixture
def moodle() -> Iterator[FakeLms]:
    with serving(moodle=True) as fake:
        yield fake


def test_moodle_409_for_a_score_it_already_has_counts_as_superseded(
    tool: Flask, moodle: FakeLms
) -> None:
    row_id = enqueue(tool, seed_attempt(tool, register(tool, moodle), endpoint(moodle)))
    assert deliver_due(tool, now=later(1)).delivered == 1
    with db.database(tool).sessions() as session:  # as if the worker died before recording it
        session.execute(update(OutboxItem).values(status="pending", finished_at=None))
        session.commit()
    assert deliver_due(tool, now=later(2)).superseded == 1
    row = outbox_row(tool, row_id or 0)
    assert row.status == "superseded" and row.last_status_code == 409 and row.attempts == 2
    assert deliver_due(tool, now=later(7200)).handled == 0  # never retried
    stored = moodle.stored("learner-1")
    assert stored is not None and stored["scoreGiven"] == 75.0


def test_moodle_user_not_gradable_is_rejected_with_its_message(
    tool: Flask, moodle: FakeLms
) -> None:
    moodle.not_gradable.add("guest-7")
    row_id = enqueue(tool, seed_attempt(tool, register(tool, moodle), endpoint(moodle),
                                        subject="guest-7"))
    assert deliver_due(tool, now=later(1)).rejected == 1
    row = outbox_row(tool, row_id or 0)
    assert row.status == "rejected" and row.last_status_code == 400
    assert "Incorrect score received" in (row.last_error or "")
    assert "not gradable" in (row.last_error or "")
    assert deliver_due(tool, now=later(7200)).handled == 0
    with db.database(tool).sessions() as session:
        attempt = session.scalars(select(Attempt)).one()
        assert attempt.grade_sync_status == "rejected"


def test_other_4xx_is_rejected_after_recording(tool: Flask, lms: FakeLms) -> None:
    row_id = enqueue(tool, seed_attempt(tool, register(tool, lms), endpoint(lms)))
    lms.script.append(Scripted(403, "grading is closed for this item"))
    assert deliver_due(tool, now=later(1)).rejected == 1
    row = outbox_row(tool, row_id or 0)
    assert row.tries[0]["status_code"] == 403 and row.status == "rejected"
    assert "grading is closed" in (row.last_error or "")


def test_moodle_clears_a_pending_manual_grade_until_fully_graded(
    tool: Flask, moodle: FakeLms
) -> None:
    attempt_id = seed_attempt(tool, register(tool, moodle), endpoint(moodle),
                              status="needs_review")
    enqueue(tool, attempt_id)
    deliver_due(tool, now=later(1))
    pending = moodle.stored("learner-1")
    assert pending is not None and pending["scoreGiven"] is None
    with db.database(tool).sessions() as session:
        session.execute(update(Attempt).values(status="overridden", score=0.9))
        session.commit()
    enqueue(tool, attempt_id, comment="Reviewed: a sound plan.")
    assert deliver_due(tool, now=later(2)).delivered == 1
    graded = moodle.stored("learner-1")
    assert graded is not None and graded["scoreGiven"] == 90.0
    assert "Moodle clears the gradebook entry while this attempt awaits review" in (
        pending_manual_notice("moodle"))
    assert "Canvas ignores" in pending_manual_notice("Canvas")
    assert "pending manual grading" in pending_manual_notice(None)


def test_canvas_ignores_a_pending_manual_score_until_it_is_graded(tool: Flask) -> None:
    with serving(canvas=True) as canvas:
        attempt_id = seed_attempt(tool, register(tool, canvas), endpoint(canvas),
                                  status="needs_review")
        enqueue(tool, attempt_id)
        assert deliver_due(tool, now=later(1)).delivered == 1
        assert canvas.stored("learner-1") is None  # accepted, but no grade yet
        with db.database(tool).sessions() as session:
            session.execute(update(Attempt).values(status="overridden"))
            session.commit()
        enqueue(tool, attempt_id)
        assert deliver_due(tool, now=later(2)).delivered == 1
        graded = canvas.stored("learner-1")
        assert graded is not None and graded["gradingProgress"] == "FullyGraded"


# --- line items --------------------------------------------------------------------------


def test_lineitems_only_finds_the_links_line_item_and_remembers_it(
    tool: Flask, lms: FakeLms
) -> None:
    registration = register(tool, lms)
    lms.lineitems.append({"id": lms.lineitem_url("li-9"), "resourceLinkId": "link-1",
                          "label": "Coach", "scoreMaximum": 100})
    claim = endpoint(lms, lineitem=None)
    enqueue(tool, seed_attempt(tool, registration, claim, subject="ada"))
    assert deliver_due(tool, now=later(1)).delivered == 1
    assert lms.lineitem_queries == ["link-1"]
    assert [post["lineitem"] for post in lms.score_posts] == ["li-9"]
    assert link_of(tool, registration).ags_lineitem == lms.lineitems[0]
    row_id = enqueue(tool, seed_attempt(tool, registration, claim, subject="ben"))
    assert outbox_row(tool, row_id or 0).lineitem_url == lms.lineitem_url("li-9")
    assert deliver_due(tool, now=later(2)).delivered == 1
    assert lms.lineitem_queries == ["link-1"]  # not searched again


def test_lineitems_only_creates_the_line_item_when_missing(tool: Flask, lms: FakeLms) -> None:
    registration = register(tool, lms)
    enqueue(tool, seed_attempt(tool, registration, endpoint(lms, lineitem=None)))
    assert deliver_due(tool, now=later(1)).delivered == 1
    created = lms.lineitems[0]
    assert created["resourceLinkId"] == "link-1" and created["tag"] == "coachlab"
    assert created["resourceId"] == "territory-rep-300-accounts"
    assert created["scoreMaximum"] == 100 and created["label"]
    assert created["label"] != "Coach the rep"  # the scenario's title, not the link's
    assert [post["lineitem"] for post in lms.score_posts] == ["created-1"]
    assert (link_of(tool, registration).ags_lineitem or {}).get("id") == created["id"]


def test_lineitems_only_without_a_lineitem_scope_is_rejected(tool: Flask, lms: FakeLms) -> None:
    claim = endpoint(lms, lineitem=None, scopes=["https://purl.imsglobal.org/spec/lti-ags/scope/score"])
    row_id = enqueue(tool, seed_attempt(tool, register(tool, lms), claim))
    assert deliver_due(tool, now=later(1)).rejected == 1
    assert "column management" in (outbox_row(tool, row_id or 0).last_error or "")


def test_a_module_placements_created_line_item_is_labelled_with_the_module(
    tool: Flask, lms: FakeLms
) -> None:
    registration = register(tool, lms)
    attempt_id = seed_attempt(tool, registration, endpoint(lms, lineitem=None))
    with db.database(tool).sessions() as session:
        session.execute(update(ResourceLink).values(module_id="coaching-the-territory-seller",
                                                    scenario_id=None))
        session.commit()
    enqueue(tool, attempt_id)
    assert deliver_due(tool, now=later(1)).delivered == 1
    assert (lms.lineitems[0]["label"], lms.lineitems[0]["resourceId"]) == (
        "Coaching the territory seller", "coaching-the-territory-seller")
