"""The dashboard's learner summary (learner_progress): kept in step with the attempts in the
same transaction, filled by migration 0008 from attempts already there (both engines)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from lti_tool import create_app, db, progress
from lti_tool.models import Attempt, LearnerProgress, PlatformRegistration
from lti_tool.privacy import erase_learner
from tests.conftest import BASE_URL, Launcher
from tests.lti_tool.instructor_steps import csrf_for, link_id_of, play, staff_token
from tests.lti_tool.test_backends import postgres_url  # noqa: F401  (fixture)

COLUMNS = ("status", "attempts", "best_score", "last_score", "mean_score", "seconds",
           "needs_review", "grade_sync", "latest_attempt_id", "graded_attempt_id", "sort_name")


def _rows(app: Flask) -> dict[tuple[int, int], dict[str, Any]]:
    with db.database(app).sessions() as session:
        return {(r.resource_link_pk, r.user_pk): {c: getattr(r, c) for c in COLUMNS}
                for r in session.scalars(sa.select(LearnerProgress))}


def _recomputed(app: Flask) -> dict[tuple[int, int], dict[str, Any]]:
    """The summary computed afresh from the attempts (what the hooks must have kept)."""
    with db.database(app).sessions() as session:
        progress.rebuild(session)
    return _rows(app)


def test_summary_follows_submit_override_and_erasure(
    launch: Launcher, client: FlaskClient, app: Flask
) -> None:
    ada = play(launch, client, app, "learner-a", name="Ada Right")
    play(launch, client, app, "learner-b", wrong=True, name="Ben Wrong")
    kept = _rows(app)
    assert sorted(r["sort_name"] for r in kept.values()) == ["ada right", "ben wrong"]
    assert all(r["attempts"] == 1 and r["status"] in ("graded", "needs_review")
               and r["seconds"] is not None for r in kept.values())
    assert kept == _recomputed(app)

    token = staff_token(launch)
    response = client.post(f"/instructor/attempt/{ada}/review", data={
        "launch": token, "csrf_token": csrf_for(app, token), "action": "override",
        "score": "42", "comment": "Policy."})
    assert response.status_code == 302
    after = _rows(app)
    ada_row = next(r for r in after.values() if r["latest_attempt_id"] == ada)
    assert ada_row["status"] == "overridden" and ada_row["last_score"] == pytest.approx(0.42)
    assert after == _recomputed(app)
    page = client.get(f"/instructor/placement/{link_id_of(app, token)}",
                      query_string={"launch": token, "sort": "score", "dir": "asc"})
    text = page.get_data(as_text=True)
    assert "42%" in text and "overridden" in text

    with db.database(app).sessions() as session:
        issuer = session.scalars(sa.select(PlatformRegistration.issuer)).first()
        assert issuer is not None
        erase_learner(session, issuer, "learner-a")
        session.commit()
    assert [r["sort_name"] for r in _rows(app).values()] == ["ben wrong"]


def test_roster_members_get_rows_and_leavers_are_marked(
    launch: Launcher, client: FlaskClient, app: Flask
) -> None:
    from lti_tool.lti.nrps import Member
    from lti_tool.models import ResourceLink

    play(launch, client, app, "learner-a", name="Ada Right")
    learner = ("http://purl.imsglobal.org/vocab/lis/v2/membership#Learner",)
    with db.database(app).sessions() as session:
        link = session.scalars(sa.select(ResourceLink)).one()
        roster = [Member("learner-a", "Ada Right", "", learner),
                  Member("learner-z", "Zoe Absent", "z@x.test", learner)]
        progress.sync_roster(session, link.id, link.registration_id, roster)
        rows = {r["sort_name"]: r for r in _rows(app).values()}
        assert rows["zoe absent"]["status"] == "not_started" and rows["zoe absent"]["attempts"] == 0
        assert rows["ada right"]["status"] != "not_started"  # attempts kept
        # Both leave the roster: Zoe (never started) goes, Ada stays, marked as not in it.
        progress.sync_roster(session, link.id, link.registration_id, [])
        kept = session.scalars(sa.select(LearnerProgress)).all()
        assert [(r.sort_name, r.in_roster) for r in kept] == [("ada right", False)]


def test_rebuild_command_repairs_a_stale_summary(
    launch: Launcher, client: FlaskClient, app: Flask
) -> None:
    from lti_tool.cli import main

    play(launch, client, app, "learner-a", name="Ada Right")
    good = _rows(app)
    with db.database(app).engine.begin() as connection:  # a write behind the service's back
        connection.execute(sa.update(LearnerProgress).values(status="in_progress", attempts=9))
    assert _rows(app) != good
    result = app.test_cli_runner().invoke(main, ["db", "rebuild-progress"])
    assert result.exit_code == 0 and "recomputed 1 learner row" in result.output
    assert _rows(app) == good


def _seed(engine: sa.Engine) -> None:
    """Attempts written before the summary table existed: two learners, one placement."""
    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    with engine.begin() as c:
        run = c.execute
        reg = run(sa.text("INSERT INTO platform_registrations (issuer, client_id, auth_login_url, "
                          "auth_token_url, allow_any_deployment, created_at) VALUES ('https://i', "
                          "'c', 'x', 'x', false, :t) RETURNING id"), {"t": now}).scalar_one()
        link = run(sa.text("INSERT INTO resource_links (registration_id, deployment_id, "
                           "resource_link_id, title, settings) VALUES (:r, 'd', 'l', 'L', '{}') "
                           "RETURNING id"), {"r": reg}).scalar_one()
        users = [run(sa.text("INSERT INTO users (registration_id, subject, name, email, "
                             "updated_at) VALUES (:r, :s, :n, '', :t) RETURNING id"),
                     {"r": reg, "s": s, "n": n, "t": now}).scalar_one()
                 for s, n in (("a", "Ann"), ("b", "Bob"))]
        attempts = [  # (user, status, score, minutes spent or None, sync)
            (users[0], "graded", 0.4, 10, "sent"),
            (users[0], "needs_review", 0.8, 5, None),
            (users[0], "in_progress", None, None, None),
            (users[1], "overridden", 0.6, 30, "failed"),
        ]
        for user, status, score, minutes, sync in attempts:
            run(sa.text(
                "INSERT INTO attempts (resource_link_pk, user_pk, scenario_id, scenario_version, "
                "content_hash, status, score, created_at, submitted_at, grade_sync_status) "
                "VALUES (:l, :u, 's', '1', 'h', :st, :sc, :c, :sub, :sync)"),
                {"l": link, "u": user, "st": status, "sc": score, "c": now,
                 "sub": now + timedelta(minutes=minutes) if minutes else None, "sync": sync})


@pytest.mark.parametrize("engine_name", ["sqlite", pytest.param("postgres",
                                                                 marks=pytest.mark.postgres)])
def test_migration_0008_backfills_existing_attempts(
    tmp_path: Path, request: pytest.FixtureRequest, engine_name: str
) -> None:
    config: dict[str, Any] = {"DATA_DIR": str(tmp_path / "data"), "SECRET_KEY": "t",
                              "BASE_URL": BASE_URL, "TESTING": True}
    if engine_name == "postgres":
        config["DATABASE_URL"] = request.getfixturevalue("postgres_url")
    app = create_app(config)
    db.upgrade(app, "0008-1")
    _seed(db.database(app).engine)
    db.upgrade(app)
    filled = _rows(app)
    assert len(filled) == 2
    ann = next(r for r in filled.values() if r["sort_name"] == "ann")
    assert (ann["status"], ann["attempts"], ann["needs_review"]) == ("in_progress", 3, True)
    assert ann["best_score"] == pytest.approx(0.8) and ann["last_score"] == pytest.approx(0.8)
    assert ann["mean_score"] == pytest.approx(0.6) and ann["seconds"] == pytest.approx(900)
    assert ann["grade_sync"] == ""  # the latest scored attempt was never sent
    bob = next(r for r in filled.values() if r["sort_name"] == "bob")
    assert (bob["status"], bob["grade_sync"], bob["seconds"]) == ("overridden", "failed",
                                                                  pytest.approx(1800))
    # The migration's SQL and the service's Python agree on every column.
    recomputed = _recomputed(app)
    for key, row in filled.items():
        for column in COLUMNS:
            assert row[column] == pytest.approx(recomputed[key][column]) if isinstance(
                row[column], float) else row[column] == recomputed[key][column], column
    with db.database(app).sessions() as session:
        attempt = session.scalars(sa.select(Attempt).where(Attempt.status == "in_progress")).one()
        attempt.status = "submitted"
        session.commit()
    assert next(r for r in _rows(app).values() if r["sort_name"] == "ann")["status"] == "submitted"
    db.database(app).engine.dispose()


def test_a_transaction_rewrites_each_learner_row_once_however_often_it_flushes(
    launch: Launcher, client: FlaskClient, app: Flask
) -> None:
    play(launch, client, app, "learner-a")
    sent: list[str] = []

    def record(_c: Any, _cur: Any, statement: str, *_a: Any) -> None:
        sent.append(" ".join(statement.split()).lower())

    engine = db.database(app).engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        with db.database(app).sessions() as session:
            attempt = session.scalars(sa.select(Attempt)).one()
            attempt.score = 0.5
            session.flush()
            attempt.status = "overridden"
            session.flush()
            attempt.score = 0.6
            session.commit()
        with db.database(app).sessions() as session:  # flushed, then rolled back
            session.scalars(sa.select(Attempt)).one().score = 0.1
            session.flush()
            session.rollback()
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    # Three flushes and a commit: one rewrite; a flush that is rolled back: none.
    upserts = [s for s in sent if s.startswith("insert into learner_progress")]
    assert len(upserts) == 1, sent
    row = _rows(app)
    assert [(r["status"], r["last_score"]) for r in row.values()] == [("overridden", 0.6)]
    assert row == _recomputed(app)
