"""`content check [DIR]`: validate the content library (and an external directory over it).

It lives in `course` because the check covers lessons as well as scenarios, and `course` may
import `scenarios` (never the reverse). The lti_tool CLI mounts `content_group` as
`coachlab content`; `python -m course.cli content check` runs the same command.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import click

from course.catalogue import load_catalogue
from scenarios.library import ScenarioSummary, load_library


def _table(rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for number, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
        if number == 0:
            lines.append("  ".join("-" * w for w in widths))
    return lines


def _summary_rows(summaries: Sequence[ScenarioSummary]) -> list[list[str]]:
    rows = [["scenario", "situation", "focus", "variants", "steps"]]
    for summary in summaries:
        rows.append(
            [
                summary.id,
                summary.situation_id,
                summary.focus,
                str(summary.variant_count),
                str(summary.step_count),
            ]
        )
    return rows


def check_content(directory: Path | None) -> tuple[list[str], int]:
    """Run every content check; returns the report lines and the exit code (0 or 1)."""
    library = load_library(directory)
    catalogue = load_catalogue(directory, library)
    problems = sorted(
        [*library.problems, *catalogue.problems], key=lambda p: (p.source, p.line or 0)
    )
    if problems:
        lines = [str(problem) for problem in problems]
        files = len({problem.source for problem in problems})
        noun = "problem" if len(problems) == 1 else "problems"
        lines.append(f"{len(problems)} {noun} in {files} file{'s' if files != 1 else ''}")
        return lines, 1
    lines = _table(_summary_rows(library.summaries())) if library.scenario_ids() else []
    lines.append(
        f"OK: {len(library.scenario_ids())} scenarios, {len(library.situations)} situations, "
        f"{len(library.catalogue.tasks)} tasks, {len(catalogue.modules)} lessons"
    )
    return lines, 0


@click.group("content")
def content_group() -> None:
    """Check coaching content (scenarios, situations, tasks, lessons)."""


@content_group.command("check")
@click.argument(
    "directory",
    required=False,
    type=click.Path(exists=True, file_okay=False, dir_okay=True, path_type=Path),
)
def content_check_command(directory: Path | None) -> None:
    """Check the built-in library, or DIRECTORY merged over it; exit 1 listing every problem."""
    lines, code = check_content(directory)
    for line in lines:
        click.echo(line)
    if code:
        raise SystemExit(code)


@click.group()
def main() -> None:
    """coachlab content tools (the same commands as `coachlab content`)."""


main.add_command(content_group)


if __name__ == "__main__":
    main()
