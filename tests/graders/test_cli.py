"""`grade` CLI: JSON lines in, one JSON line per answer out, errors per line, exit code."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from graders.cli import grade_command, grade_lines
from graders.scoring import grade_step
from scenarios.model import Scenario, TaskCatalogue

LIBRARY_FILE = (
    Path(__file__).resolve().parents[2]
    / "scenarios" / "library" / "scenarios" / "territory-rep-300-accounts.md"
)


def run(args: list[str], stdin: str | bytes) -> tuple[int, list[dict[str, object]], str]:
    result = CliRunner().invoke(grade_command, args, input=stdin)
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    return result.exit_code, lines, result.output


def test_grades_plan_answers_with_evidence_spans_and_versions() -> None:
    text = "We tier her 280 accounts together and review coverage every Friday."
    stdin = json.dumps({"id": "a1", "response": text}) + "\n"
    code, lines, _ = run(["--scenario", "territory-rep-300-accounts", "--step", "plan"], stdin)
    assert code == 0
    (line,) = lines
    assert line["id"] == "a1"
    assert line["grader"] == "coaching_plan" and line["grader_version"] == "1.6.0"
    assert 0.8 <= float(line["score"]) <= 1.0  # type: ignore[arg-type]
    assert line["needs_review"] is False
    spans = [e for c in line["criteria"] for e in c["evidence"]]  # type: ignore[attr-defined]
    assert spans and all(text[e["start"] : e["end"]] == e["text"] for e in spans)


def test_bad_lines_print_an_error_line_continue_and_exit_1() -> None:
    stdin = "\n".join(
        [
            json.dumps({"id": "ok", "response": "territory"}),
            "{not json",
            json.dumps({"id": "shape", "response": ["territory"]}),
            json.dumps({"id": "no-response"}),
            "",
            json.dumps({"id": "ok2", "response": "global"}),
        ]
    )
    code, lines, _ = run(
        ["--scenario", "territory-rep-300-accounts", "--step", "situation"], stdin
    )
    assert code == 1
    assert [line["id"] for line in lines] == ["ok", None, "shape", "no-response", "ok2"]
    assert lines[0]["score"] == 1.0 and lines[4]["score"] == 0.0
    assert "invalid JSON" in str(lines[1]["error"])
    assert "must be an option id" in str(lines[2]["error"])
    assert "expected an object" in str(lines[3]["error"])


def test_invalid_utf8_line_is_reported_not_fatal() -> None:
    stdin = b'{"id": "x", "response": "\xff"}\n' + json.dumps(
        {"id": "y", "response": "territory"}
    ).encode()
    code, lines, _ = run(
        ["--scenario", "territory-rep-300-accounts", "--step", "situation"], stdin
    )
    assert code == 1
    assert "not UTF-8" in str(lines[0]["error"]) and lines[1]["score"] == 1.0


def test_scenario_file_outside_the_library_is_accepted_by_path(tmp_path: Path) -> None:
    copy = tmp_path / "my-scenario.md"
    shutil.copy(LIBRARY_FILE, copy)
    stdin = json.dumps({"id": 1, "response": "territory"})
    code, lines, _ = run(["--scenario", str(copy), "--step", "situation"], stdin)
    assert code == 0 and lines[0]["score"] == 1.0


def test_unknown_scenario_step_and_broken_file_are_clear_errors(tmp_path: Path) -> None:
    code, _, output = run(["--scenario", "no-such-scenario", "--step", "plan"], "")
    assert code != 0 and "no-such-scenario" in output
    code, _, output = run(["--scenario", "territory-rep-300-accounts", "--step", "nope"], "")
    assert code != 0 and "nope" in output and "situation" in output
    broken = tmp_path / "broken.md"
    broken.write_text("---\nid: broken\n---\n", encoding="utf-8")
    code, _, output = run(["--scenario", str(broken), "--step", "plan"], "")
    assert code != 0 and "broken.md" in output


def test_grade_lines_matches_grade_step(territory: Scenario, catalogue: TaskCatalogue) -> None:
    lines = [json.dumps({"id": "p", "response": "Coverage: weekly review of her 300 accounts."})]
    ((record, ok),) = list(grade_lines(territory, "plan", catalogue, lines))
    expected = grade_step(territory, "plan", "Coverage: weekly review of her 300 accounts.",
                          catalogue)
    assert ok and record["score"] == expected.score
    assert record["scenario_hash"] == territory.content_hash
