"""Instructor views: dashboard, review with override and audit, queue, item analysis,
agreement, CSV export and regrade."""

from __future__ import annotations

import csv
import io
import math
from collections import defaultdict

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select

from lti_tool import db
from lti_tool.cli import main
from lti_tool.instructor import highlight
from lti_tool.lti.ags import SCORE_SCOPE
from lti_tool.models import (
    Attempt,
    CriterionResultRow,
    GradeAudit,
    OptionChoiceRow,
    OutboxItem,
    ResourceLink,
    ResultHistory,
    StepResultRecord,
)
from lti_tool.regrade import AuditTrailIsAppendOnly
from lti_tool.reports import neutralise
from tests.conftest import Launcher
from tests.lti_tool.flows import assert_rejected
from tests.lti_tool.instructor_steps import csrf_for, link_id_of, play, staff_token


@pytest.fixture
def course(launch: Launcher, client: FlaskClient, app: Flask) -> dict[str, object]:
    """Three learners graded on one placement, and the instructor's launch of it."""
    ids = [
        play(launch, client, app, "learner-a", name="Ada Right"),
        play(launch, client, app, "learner-b", wrong=True, name="Ben Wrong"),
        play(launch, client, app, "learner-c", wrong=True, name="=cmd|' /C calc'!A0"),
    ]
    token = staff_token(launch)
    link = link_id_of(app, token)
    with db.database(app).sessions() as session:
        # The LMS offers AGS from now on, so decisions queue scores for it.
        placement = session.get(ResourceLink, link)
        assert placement is not None
        placement.ags_endpoint = {"scope": [SCORE_SCOPE],
                                  "lineitem": "https://lms.example.test/lineitems/1"}
        session.commit()
    return {"attempts": ids, "token": token, "link": link}


def _get(client: FlaskClient, path: str, token: str, **params: str) -> str:
    response = client.get(path, query_string={"launch": token, **params})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True)


def test_dashboard_lists_learners_sorts_and_filters_without_javascript(
    client: FlaskClient, course: dict[str, object]
) -> None:
    token, link = str(course["token"]), course["link"]
    page = _get(client, f"/instructor/placement/{link}", token, sort="score", dir="desc")
    assert "<script" not in page
    assert page.index("Ada Right") < page.index("Ben Wrong")
    assert " min " in page and "%</td>" in page
    ascending = _get(client, f"/instructor/placement/{link}", token, sort="score", dir="asc")
    assert ascending.index("Ben Wrong") < ascending.index("Ada Right")
    only_ben = _get(client, f"/instructor/placement/{link}", token, q="ben")
    assert "Ben Wrong" in only_ben and "Ada Right" not in only_ben
    assert "1 learner match" in only_ben
    graded = _get(client, "/overview", token, status="in_progress")
    assert "0 learners match" in graded


def test_review_shows_answers_criteria_grader_version_and_hash(
    client: FlaskClient, app: Flask, course: dict[str, object]
) -> None:
    attempt_id = course["attempts"][0]  # type: ignore[index]
    page = _get(client, f"/instructor/attempt/{attempt_id}", str(course["token"]))
    with db.database(app).sessions() as session:
        attempt = session.get(Attempt, attempt_id)
        assert attempt is not None
        assert attempt.content_hash in page
        for row in attempt.results:
            assert row.grader in page and row.grader_version in page
            for criterion in row.criteria:
                assert criterion["label"].replace("'", "&#39;") in page
    assert "<mark>" in page  # evidence spans of the plan are highlighted
    assert "Feedback the learner saw" in page


def test_highlight_escapes_everything_and_marks_only_the_spans() -> None:
    text = "<b>coverage</b> & <script>x</script> plan"
    out = str(highlight(text, [(3, 11), (5, 9), (37, 41), (100, 120)]))
    assert out == ("&lt;b&gt;<mark>coverage</mark>&lt;/b&gt; &amp; &lt;script&gt;x&lt;/script&gt; "
                   "<mark>plan</mark>")


def test_override_records_audit_and_sends_fully_graded(
    client: FlaskClient, app: Flask, course: dict[str, object]
) -> None:
    token = str(course["token"])
    attempt_id = course["attempts"][1]  # type: ignore[index]
    csrf = csrf_for(app, token)
    url = f"/instructor/attempt/{attempt_id}/review"
    no_comment = client.post(url, data={"launch": token, "csrf_token": csrf, "step": "plan",
                                        "action": "override", "score": "90"})
    assert_rejected(no_comment, "needs a comment")
    assert_rejected(client.post(url, data={"launch": token, "step": "plan",
                                           "action": "override", "score": "90",
                                           "comment": "x"}), "CSRF")
    response = client.post(url, data={
        "launch": token, "csrf_token": csrf, "step": "plan", "action": "override",
        "score": "90", "comment": "Names the coverage gap; the grader missed it.",
        "criterion.focus": "met"})
    assert response.status_code == 302
    with db.database(app).sessions() as session:
        attempt = session.get(Attempt, attempt_id)
        assert attempt is not None and attempt.status == "overridden"
        plan = next(r for r in attempt.results if r.step_id == "plan")
        assert plan.score == pytest.approx(0.9) and plan.machine_score != plan.score
        expected = sum(r.score * r.weight for r in attempt.results) / sum(
            r.weight for r in attempt.results)
        assert attempt.score == pytest.approx(expected)
        audit = session.scalars(select(GradeAudit)).one()
        assert (audit.action, audit.step_id, audit.new_score) == ("override", "plan",
                                                                  pytest.approx(0.9))
        assert audit.old_score == plan.machine_score and audit.actor_name == "Test Instructor"
        history = session.scalars(select(ResultHistory)).one()
        assert history.reason == "override" and history.score == plan.machine_score
        item = session.scalars(select(OutboxItem).where(OutboxItem.attempt_id == attempt_id)
                               .order_by(OutboxItem.id.desc())).first()
        assert item is not None and item.payload["gradingProgress"] == "FullyGraded"
        assert item.payload["comment"].startswith("Names the coverage gap")
        # Append-only: the trail refuses edits and deletions.
        audit.comment = "rewritten"
        with pytest.raises(AuditTrailIsAppendOnly):
            session.flush()
        session.rollback()
        session.delete(session.scalars(select(GradeAudit)).one())
        with pytest.raises(AuditTrailIsAppendOnly):
            session.flush()
    page = _get(client, f"/instructor/attempt/{attempt_id}", token)
    assert "Names the coverage gap; the grader missed it." in page and "Audit trail" in page
    assert "override" in page and "Test Instructor" in page


def test_total_override_and_confirm(
    client: FlaskClient, app: Flask, course: dict[str, object]
) -> None:
    token = str(course["token"])
    attempt_id = course["attempts"][0]  # type: ignore[index]
    csrf = csrf_for(app, token)
    url = f"/instructor/attempt/{attempt_id}/review"
    client.post(url, data={"launch": token, "csrf_token": csrf, "step": "focus",
                           "action": "confirm"})
    client.post(url, data={"launch": token, "csrf_token": csrf, "action": "override",
                           "score": "55", "comment": "Late: course policy."})
    with db.database(app).sessions() as session:
        attempt = session.get(Attempt, attempt_id)
        assert attempt is not None and attempt.score == pytest.approx(0.55)
        audits = session.scalars(select(GradeAudit).order_by(GradeAudit.id)).all()
        assert [(a.action, a.step_id) for a in audits] == [("confirm", "focus"),
                                                           ("override", None)]
        assert audits[0].old_score == audits[0].new_score


def test_review_queue_lists_steps_awaiting_review(
    client: FlaskClient, app: Flask, course: dict[str, object]
) -> None:
    attempt_id = course["attempts"][1]  # type: ignore[index]
    with db.database(app).sessions() as session:
        row = session.scalars(select(StepResultRecord).where(
            StepResultRecord.attempt_id == attempt_id, StepResultRecord.step_id == "plan")).one()
        row.needs_review = True
        session.commit()
    page = _get(client, f"/instructor/placement/{course['link']}/queue", str(course["token"]))
    assert f"#{attempt_id}" in page and "plan" in page
    other = _get(client, f"/instructor/placement/{course['link']}/queue", str(course["token"]))
    assert f"#{course['attempts'][0]}<" not in other  # type: ignore[index]


def _pearson(xs: list[float], ys: list[float]) -> float:
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    cov = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    return cov / math.sqrt(sum((x - mx) ** 2 for x in xs) * sum((y - my) ** 2 for y in ys))


def test_item_analysis_matches_moodle_definitions(
    client: FlaskClient, app: Flask, course: dict[str, object]
) -> None:
    from lti_tool.reports import item_analysis
    from scenarios.library import load_library

    scenario = load_library().scenario("territory-rep-300-accounts")
    with db.database(app).sessions() as session:
        rows = session.scalars(select(StepResultRecord)).all()
        marks: dict[int, dict[str, float]] = defaultdict(dict)
        for row in rows:
            marks[row.attempt_id][row.step_id] = row.score * row.weight
        with app.app_context():
            stats = item_analysis(session, [int(course["link"])], scenario)  # type: ignore[call-overload]
        assert stats.attempts == 3
        by_step = {s.step_id: s for s in stats.steps}
        for step in scenario.steps:
            scores = [m[step.id] / step.weight for m in marks.values()]
            assert by_step[step.id].facility == pytest.approx(100 * sum(scores) / len(scores))
            xs = [m[step.id] for m in marks.values()]
            ys = [sum(m.values()) - m[step.id] for m in marks.values()]
            if len(set(xs)) > 1 and len(set(ys)) > 1:
                assert by_step[step.id].discrimination == pytest.approx(100 * _pearson(xs, ys))
            else:
                assert by_step[step.id].discrimination is None
        assert sum(stats.histogram) == 3
        situation = [o for o in stats.options if o.step_id == "situation"]
        assert sum(o.count for o in situation) == 3
        assert next(o for o in situation if o.correct).count == 1
        assert stats.wrong_focus and stats.wrong_focus[0].count == 2
        assert stats.criteria and all(c.n == 3 for c in stats.criteria)
        assert session.scalars(select(CriterionResultRow)).first() is not None
        assert session.scalars(select(OptionChoiceRow)).first() is not None
    page = _get(client, f"/instructor/placement/{course['link']}/analysis", str(course["token"]))
    assert "Facility index" in page and "Discrimination index" in page
    assert "vendor/chartjs/chart.umd.min.js" in page and "<canvas" in page and "<table" in page
    assert "Most common wrong coaching focus" in page
    api = client.get(f"/instructor/placement/{course['link']}/analysis.json",
                     query_string={"launch": course["token"]})
    assert api.get_json()["attempts"] == 3


def test_vendored_chart_js_is_served_with_its_licence(client: FlaskClient) -> None:
    script = client.get("/static/vendor/chartjs/chart.umd.min.js")
    assert script.status_code == 200 and b"Chart.js v4" in script.data[:200]
    script.close()
    licence = client.get("/static/vendor/chartjs/LICENSE.md")
    assert b"MIT License" in licence.data
    licence.close()


def test_agreement_report_counts_decisions_and_flags(
    client: FlaskClient, app: Flask, course: dict[str, object]
) -> None:
    token = str(course["token"])
    csrf = csrf_for(app, token)
    ids: list[int] = course["attempts"]  # type: ignore[assignment]
    for attempt_id in ids:
        client.post(f"/instructor/attempt/{attempt_id}/review", data={
            "launch": token, "csrf_token": csrf, "step": "plan", "action": "override",
            "score": "100", "comment": "Human reading of the plan.",
            **{"criterion.focus": "met"}})
    from lti_tool.reports import agreement_report

    with db.database(app).sessions() as session:
        rows = agreement_report(session, [int(course["link"])])  # type: ignore[call-overload]
    step_row = next(r for r in rows if r.step_id == "plan" and not r.criterion_id)
    assert step_row.n == 3
    assert step_row.flagged  # the grader gave the wrong plans far less than the human
    page = _get(client, f"/instructor/placement/{course['link']}/agreement", token)
    assert "below threshold" in page and "QWK" in page


def test_csv_export_streams_per_step_scores_and_neutralises_formulas(
    client: FlaskClient, app: Flask, course: dict[str, object]
) -> None:
    response = client.get(f"/instructor/placement/{course['link']}/export.csv",
                          query_string={"launch": course["token"]})
    assert response.status_code == 200 and response.is_streamed
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == 3
    assert {"step:situation", "step:plan"} <= set(rows[0])
    names = {row["name"] for row in rows}
    assert "'=cmd|' /C calc'!A0" in names
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row.values())
    for value, expected in [("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@x", "'@x"),
                            ("\tx", "'\tx"), ("\rx", "'\rx"), ("ok", "ok"), (0.5, 0.5)]:
        assert neutralise(value) == expected


def test_xlsx_export_streams_the_same_rows_as_text_cells_never_formulas(
    client: FlaskClient, app: Flask, course: dict[str, object]
) -> None:
    from openpyxl import load_workbook

    query = {"launch": course["token"]}
    response = client.get(f"/instructor/placement/{course['link']}/export.xlsx",
                          query_string=query)
    assert response.status_code == 200 and response.is_streamed
    assert response.mimetype.endswith("spreadsheetml.sheet")
    assert "attachment" in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    assert sheet is not None
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    csv_rows = list(csv.reader(io.StringIO(client.get(
        f"/instructor/placement/{course['link']}/export.csv",
        query_string=query).get_data(as_text=True))))
    assert rows[0] == csv_rows[0] and len(rows) == len(csv_rows) == 4
    header = rows[0]
    by_name = {row[header.index("name")]: row for row in rows[1:]}
    assert "'=cmd|' /C calc'!A0" in by_name  # neutralised like the CSV
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            assert cell.data_type != "f", cell.value  # no cell is a formula
    plan = header.index("step:plan")
    assert all(isinstance(row[plan], int | float) for row in rows[1:])  # numbers stay numbers


def test_regrade_cli_restores_current_grades_keeps_history_and_resends(
    app: Flask, runner: FlaskCliRunner, course: dict[str, object]
) -> None:
    attempt_id = course["attempts"][0]  # type: ignore[index]
    with db.database(app).sessions() as session:
        attempt = session.get(Attempt, attempt_id)
        assert attempt is not None
        real = attempt.score
        # An old grader version scored the situation step differently.
        row = next(r for r in attempt.results if r.step_id == "situation")
        row.score, row.grader_version = 0.0, "0.0-old"
        attempt.score = 0.5
        session.commit()
        sent_before = len(session.scalars(select(OutboxItem)).all())
    result = runner.invoke(main, ["regrade", "--placement", str(course["link"])])
    assert result.exit_code == 0, result.output
    assert "regraded 3 attempt(s): 1 changed and resent, 0 failed" in result.output
    with db.database(app).sessions() as session:
        attempt = session.get(Attempt, attempt_id)
        assert attempt is not None and attempt.score == pytest.approx(real)
        old = session.scalars(select(ResultHistory).where(
            ResultHistory.attempt_id == attempt_id, ResultHistory.step_id == "situation")).one()
        assert (old.reason, old.score, old.grader_version) == ("regrade", 0.0, "0.0-old")
        assert len(session.scalars(select(OutboxItem)).all()) == sent_before + 1
    dry = runner.invoke(main, ["regrade", "--scenario", "nope", "--dry-run"])
    assert "0 attempt(s) would be regraded" in dry.output


def test_regrade_button_regrades_the_placement(
    client: FlaskClient, app: Flask, course: dict[str, object]
) -> None:
    token = str(course["token"])
    response = client.post(f"/instructor/placement/{course['link']}/regrade",
                           data={"launch": token, "csrf_token": csrf_for(app, token)})
    assert response.status_code == 200
    assert "3 attempts regraded; 0 changed" in response.get_data(as_text=True)
