"""Admin pages: registrations, placements across courses, content problems, failing deliveries."""

from __future__ import annotations

import shutil
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from lti_tool import db
from lti_tool.models import Attempt, OutboxItem, utcnow
from tests.conftest import Launcher, landing
from tests.lti_tool.instructor_steps import play, staff_token


def _page(client: FlaskClient, path: str, token: str) -> str:
    response = client.get(path, query_string={"launch": token})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True)


def test_registrations_and_placements_with_completion_and_mean(
    launch: Launcher, client: FlaskClient, app: Flask
) -> None:
    play(launch, client, app, "learner-a")
    play(launch, client, app, "learner-b", wrong=True)
    started = launch(role="learner", subject="learner-c")
    assert started.status_code == 200  # started, never submitted
    assert client.get(landing(started)).status_code == 200
    admin = staff_token(launch, role="admin", subject="it-admin")
    home = _page(client, "/admin/", admin)
    assert "https://lms.example.test" in home and "deployment-1" in home
    page = _page(client, "/admin/placements", admin)
    with db.database(app).sessions() as session:
        scores = [a.score for a in session.query(Attempt).filter(Attempt.score.is_not(None))]
    mean = sum(s for s in scores if s is not None) / len(scores)
    assert "Coaching 101" in page
    # Three learners opened it, two completed, and the mean of the two graded attempts.
    assert "<td>3</td><td>2</td>" in page
    assert f"{mean * 100:.1f}%" in page


def test_content_problems_from_the_loader(
    launch: Launcher, client: FlaskClient, app: Flask, tmp_path: Path
) -> None:
    content = tmp_path / "content" / "scenarios"
    content.mkdir(parents=True)
    shutil.copy(Path(__file__).parents[1] / "data" / "invalid" / "broken-table.md",
                content / "broken-table.md")
    app.config["CONTENT_DIR"] = str(tmp_path / "content")
    admin = staff_token(launch, role="admin", subject="it-admin")
    page = _page(client, "/admin/content", admin)
    assert "broken-table.md" in page


def test_failing_deliveries_are_listed(
    launch: Launcher, client: FlaskClient, app: Flask
) -> None:
    attempt_id = play(launch, client, app, "learner-a")
    with db.database(app).sessions() as session:
        attempt = session.get(Attempt, attempt_id)
        assert attempt is not None
        session.add(OutboxItem(
            attempt_id=attempt.id, registration_id=attempt.resource_link.registration_id,
            resource_link_pk=attempt.resource_link_pk, user_pk=attempt.user_pk,
            lineitem_url="https://lms.example.test/lineitems/1",
            payload={"userId": "learner-a"}, score_timestamp=utcnow(), status="failed",
            attempts=30, last_status_code=503, last_error="LMS said 503 Service Unavailable",
            tries=[],
        ))
        session.commit()
    admin = staff_token(launch, role="admin", subject="it-admin")
    page = _page(client, "/admin/deliveries", admin)
    assert "LMS said 503 Service Unavailable" in page and "failed" in page and "503" in page
