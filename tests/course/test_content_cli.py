"""`content check [DIR]` through click's CliRunner, and `python -m course.cli`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from course.cli import content_group, main
from scenarios.library import Library


def test_check_of_the_built_in_library_prints_the_summary(library: Library) -> None:
    result = CliRunner().invoke(content_group, ["check"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["scenario", "situation", "focus", "variants", "steps"]
    row = next(line for line in lines if line.startswith("territory-rep-300-accounts "))
    assert row.split() == [
        "territory-rep-300-accounts",
        "high_volume_territory",
        "territory_coverage",
        "27",
        "4",
    ]
    assert lines[-1].startswith(f"OK: {len(library.scenario_ids())} scenarios, ")


def test_check_of_a_broken_directory_lists_every_problem_and_exits_1(
    tmp_path: Path, minimal_text: str
) -> None:
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    (scenarios / "a.md").write_text(
        minimal_text.replace("grader: ranking", "grader: rank").replace(
            "| C | 180 | {{ touched }}% |", "| C |"
        ),
        encoding="utf-8",
    )
    (scenarios / "b.md").write_bytes(b"")
    result = CliRunner().invoke(main, ["content", "check", str(tmp_path)])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"{scenarios / 'a.md'}:45: steps[1].grader: unknown grader 'rank'; known: "
        "single_choice, multi_select, ranking, coaching_focus, coaching_plan",
        f"{scenarios / 'a.md'}:80: body.exhibits: malformed table: row has 1 cells but the "
        "header has 3; give every row 3 cells",
        f"{scenarios / 'b.md'}: empty file; a content file starts with '---' and YAML front matter",
        "3 problems in 2 files",
    ]


def test_check_of_a_valid_external_directory_includes_its_scenarios(
    tmp_path: Path, minimal_text: str
) -> None:
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "scenarios" / "m.md").write_text(minimal_text, encoding="utf-8")
    result = CliRunner().invoke(content_group, ["check", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert any(
        line.split()[:5]
        == ["minimal-territory", "high_volume_territory", "territory_coverage", "6", "4"]
        for line in result.output.splitlines()
    )


def test_check_rejects_a_missing_directory(tmp_path: Path) -> None:
    result = CliRunner().invoke(content_group, ["check", str(tmp_path / "absent")])
    assert result.exit_code == 2
    assert "does not exist" in result.output


def test_python_dash_m_runs_the_same_command() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "course.cli", "content", "check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert completed.stdout.splitlines()[-1].startswith("OK: ")
