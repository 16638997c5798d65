"""`grade`: batch-grade JSON-lines answers to one scenario step (mounted as `coachlab grade`).

    coachlab grade --scenario territory-rep-300-accounts --step plan < answers.jsonl

Each input line is {"id": ..., "response": ...}; each output line is the verdict for that id
(score, criteria with evidence spans, feedback, needs_review, confidence, grader,
grader_version) or {"id": ..., "error": ...} for a line that could not be graded. All lines are
processed; the exit code is 1 when any line failed.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

import click

from graders.base import GradingError
from graders.scoring import grade_step
from scenarios.errors import ScenarioError
from scenarios.library import load_library
from scenarios.loader import load_scenario_file
from scenarios.model import Scenario, TaskCatalogue


def _error(answer_id: object, line: int, message: str) -> dict[str, object]:
    """The output record of a line that could not be graded."""
    return {"id": answer_id, "line": line, "error": message}


def grade_lines(
    scenario: Scenario, step_id: str, catalogue: TaskCatalogue, lines: Iterable[bytes | str]
) -> Iterator[tuple[dict[str, object], bool]]:
    """Grade each JSON line; yields (output record, ok) per non-blank line, never raises on
    a bad line."""
    for number, raw in enumerate(lines, 1):
        if isinstance(raw, bytes):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                yield _error(None, number, f"line {number}: not UTF-8 ({e.reason})"), False
                continue
        else:
            line = raw
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as e:
            yield _error(None, number, f"line {number}: invalid JSON: {e.msg}"), False
            continue
        if not isinstance(record, dict) or "response" not in record:
            answer_id = record.get("id") if isinstance(record, dict) else None
            message = f'line {number}: expected an object {{"id": ..., "response": ...}}'
            yield _error(answer_id, number, message), False
            continue
        answer_id = record.get("id")
        try:
            result = grade_step(scenario, step_id, record["response"], catalogue)
        except GradingError as e:
            yield _error(answer_id, number, str(e)), False
            continue
        yield {
            "id": answer_id,
            **result.as_dict(),
            "scenario": scenario.id,
            "scenario_hash": scenario.content_hash,
            "step": step_id,
        }, True


def _load(scenario_ref: str, seed: int | None, content_dir: Path | None) -> tuple[
    Scenario, TaskCatalogue
]:
    """The scenario named by a library id or a path to a scenario file, and its catalogue."""
    library = load_library(content_dir)
    path = Path(scenario_ref)
    if path.suffix == ".md" or path.is_file():
        try:
            scenario = load_scenario_file(path, library.catalogue, library.situations, seed=seed)
        except ScenarioError as e:
            raise click.ClickException(str(e)) from None
        except OSError as e:
            raise click.ClickException(f"cannot read scenario file {path}: {e.strerror}") from None
        return scenario, library.catalogue
    try:
        return library.scenario(scenario_ref, seed), library.catalogue
    except KeyError as e:
        raise click.ClickException(
            f"{e.args[0] if e.args else scenario_ref}; pass a library id or a path to a .md file"
        ) from None


@click.command("grade")
@click.option("--scenario", "scenario_ref", required=True,
              help="A library scenario id, or the path of a scenario .md file.")
@click.option("--step", "step_id", required=True, help="The step to grade, e.g. plan.")
@click.option("--seed", type=int, default=None, help="Variant seed (default: the first variant).")
@click.option("--content-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="An external content directory that adds to the library.")
def grade_command(
    scenario_ref: str, step_id: str, seed: int | None, content_dir: Path | None
) -> None:
    """Grade JSON lines {"id", "response"} from stdin; print one JSON line per answer."""
    scenario, catalogue = _load(scenario_ref, seed, content_dir)
    try:
        scenario.step(step_id)
    except KeyError as e:
        raise click.ClickException(str(e.args[0])) from None
    failed = False
    stdin = sys.stdin.buffer if hasattr(sys.stdin, "buffer") else sys.stdin
    for record, ok in grade_lines(scenario, step_id, catalogue, stdin):
        click.echo(json.dumps(record))
        failed = failed or not ok
    if failed:
        raise SystemExit(1)
