"""The outbox seen by people and operators: a learner submitting while the LMS is down, the
instructor overview's delivery column and platform notice, and the workers that deliver."""

from __future__ import annotations

import html
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from lti_tool import db
from lti_tool.cli import main
from lti_tool.models import Attempt, OutboxItem, PlatformRegistration, utcnow
from lti_tool.outbox import deliver_due, start_background_worker
from tests.conftest import CLAIM, Launcher, PlatformInfo, make_app
from tests.lti_tool.fake_lms import FakeLms, endpoint, enqueue, register, seed_attempt, serving
from tests.lti_tool.flows import attempt_scenario, correct_answers, open_player, submit

AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def lms(platform: PlatformInfo, app: Flask) -> Iterator[FakeLms]:
    """A fake LMS that is the `platform` fixture's token and AGS endpoint."""
    with serving(client_id=platform.client_id) as fake:
        app.config["HTTP_SESSION_FACTORY"] = requests.Session
        with db.database(app).sessions() as session:
            session.execute(update(PlatformRegistration).values(
                auth_token_url=f"{fake.base}/token"))
            session.commit()
        yield fake


def with_ags(lms: FakeLms, product: str | None = None) -> Any:
    """A launch tamper adding the AGS claim (and the LMS product) to the id_token."""
    def tamper(claims: dict[str, Any]) -> None:
        claims[AGS_CLAIM] = endpoint(lms)
        if product:
            claims[CLAIM + "tool_platform"] = {"guid": "lms-1", "product_family_code": product}
    return tamper


def page_text(client: FlaskClient, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)
    return html.unescape(response.get_data(as_text=True))


def instructor_overview(launch: Launcher, client: FlaskClient, tamper: Any) -> str:
    response = launch(role="instructor", tamper=tamper)
    assert response.status_code == 302 and urlsplit(response.location).path == "/overview"
    return str(response.location)


def test_learner_submits_while_the_lms_is_down_and_the_grade_arrives_later(
    app: Flask, client: FlaskClient, launch: Launcher, lms: FakeLms
) -> None:
    lms.stop()
    page, _token = open_player(launch, client, tamper=with_ags(lms))
    response = submit(client, page, correct_answers(attempt_scenario(app)))
    assert response.status_code == 302
    result = page_text(client, response.location)
    assert "Your grade will be sent to your course's gradebook" in result
    assert deliver_due(app).retrying == 1

    overview = page_text(client, instructor_overview(launch, client, with_ags(lms)))
    assert "pending" in overview and "could not be reached" in overview

    lms.start()
    assert deliver_due(app, now=utcnow() + timedelta(hours=1)).delivered == 1
    with db.database(app).sessions() as session:
        attempt = session.scalars(select(Attempt)).one()
        assert attempt.grade_sync_status == "sent"
        stored = lms.stored("user-learner")
        assert stored is not None
        assert stored["scoreGiven"] == round((attempt.score or 0) * 100, 2)
    assert "Your grade was sent to your course's gradebook" in page_text(
        client, response.location)


def test_overview_shows_rejections_and_the_moodle_pending_manual_notice(
    app: Flask, client: FlaskClient, launch: Launcher, lms: FakeLms
) -> None:
    url = instructor_overview(launch, client, with_ags(lms, "moodle"))
    assert "Moodle clears" not in page_text(client, url)  # nothing awaits review yet
    with db.database(app).sessions() as session:
        registration_id = session.scalars(select(PlatformRegistration.id)).one()
    lms.not_gradable.add("guest-1")
    for subject, status in (("guest-1", "graded"), ("learner-2", "needs_review")):
        enqueue(app, seed_attempt(app, registration_id, endpoint(lms), subject=subject,
                                  status=status))
    deliver_due(app)
    overview = page_text(client, url)
    assert "Moodle clears the gradebook entry while this attempt awaits review" in overview
    assert "rejected" in overview and "Incorrect score received" in overview
    assert "delivered" in overview
    canvas = page_text(client, instructor_overview(launch, client, with_ags(lms, "canvas")))
    assert "Canvas ignores scores while an attempt awaits review" in canvas


def test_worker_once_delivers_what_is_due(tmp_path: Path) -> None:
    with serving() as lms:
        app = make_app(tmp_path)
        app.config["HTTP_SESSION_FACTORY"] = requests.Session
        enqueue(app, seed_attempt(app, register(app, lms), endpoint(lms)))
        result = app.test_cli_runner().invoke(main, ["worker", "--once"])
        assert result.exit_code == 0, result.output
        assert "stopped (1 outbox rows handled)" in result.output
        assert lms.stored("learner-1") is not None


def test_worker_retry_failed_queues_given_up_grades_again(tmp_path: Path) -> None:
    with serving() as lms:
        app = make_app(tmp_path)
        app.config["HTTP_SESSION_FACTORY"] = requests.Session
        row_id = enqueue(app, seed_attempt(app, register(app, lms), endpoint(lms)))
        with db.database(app).sessions() as session:
            session.execute(update(OutboxItem).values(status="failed", attempts=30))
            session.commit()
        result = app.test_cli_runner().invoke(main, ["worker", "--once", "--retry-failed"])
        assert result.exit_code == 0, result.output
        assert "1 failed grade(s) queued again" in result.output
        with db.database(app).sessions() as session:
            row = session.get(OutboxItem, row_id)
            assert row is not None and row.status == "delivered"


def test_in_process_worker_delivers_in_the_background(tmp_path: Path) -> None:
    with serving() as lms:
        app = make_app(tmp_path, WORKER_INTERVAL=0.05)
        app.config["HTTP_SESSION_FACTORY"] = requests.Session
        row_id = enqueue(app, seed_attempt(app, register(app, lms), endpoint(lms)))
        worker = start_background_worker(app)
        assert start_background_worker(app) is worker  # one per app
        try:
            status = _wait_for_status(app, row_id or 0, "delivered")
        finally:
            worker.stop()
        assert status == "delivered" and not worker.thread.is_alive()


def _wait_for_status(app: Flask, row_id: int, wanted: str, limit: float = 20.0) -> str:
    deadline = time.monotonic() + limit
    status = ""
    while time.monotonic() < deadline:
        with db.database(app).sessions() as session:
            row = session.get(OutboxItem, row_id)
            status = row.status if row is not None else ""
        if status == wanted:
            break
        time.sleep(0.05)
    return status


@pytest.mark.slow
def test_worker_process_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    make_app(tmp_path)  # migrates the database the process will use
    env = {**os.environ, "COACHLAB_DATA_DIR": str(tmp_path / "data"),
           "COACHLAB_SECRET_KEY": "test-secret"}
    process = subprocess.Popen(
        [sys.executable, "-m", "lti_tool.cli", "worker", "--interval", "0.2"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert "worker: delivering grades every 0.2 s" in first, first
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, output
    assert "stopping after the current delivery" in output and "worker: stopped" in output
