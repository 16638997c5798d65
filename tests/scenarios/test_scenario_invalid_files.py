"""Every broken file in tests/data/invalid/ is rejected with exactly the message beside it."""

from __future__ import annotations

from pathlib import Path

import pytest

from scenarios.errors import ScenarioError
from scenarios.library import Library
from scenarios.lint import lint_template
from scenarios.loader import load_scenario_file, parse_template
from scenarios.source import MAX_FILE_BYTES

INVALID = Path(__file__).resolve().parent.parent / "data" / "invalid"
CASES = sorted(INVALID.glob("*.md"))


def problems_of(path: Path, library: Library) -> list[str]:
    try:
        found = lint_template(parse_template(path), library.catalogue, library.situations)
    except ScenarioError as exc:
        found = exc.problems
    return [str(problem).replace(str(path), path.name) for problem in found]


def test_there_are_enough_broken_files() -> None:
    assert len(CASES) >= 18
    for case in CASES:
        assert case.with_suffix(".expected").is_file(), f"{case.name} has no .expected file"


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_broken_file_is_rejected_with_its_message(path: Path, library: Library) -> None:
    expected = path.with_suffix(".expected").read_text(encoding="utf-8").splitlines()
    assert problems_of(path, library) == expected


@pytest.mark.parametrize(
    "path",
    [p for p in CASES if not p.stem.startswith("variant-")],
    ids=[p.stem for p in CASES if not p.stem.startswith("variant-")],
)
def test_loader_raises_the_first_problem(path: Path, library: Library) -> None:
    first = path.with_suffix(".expected").read_text(encoding="utf-8").splitlines()[0]
    with pytest.raises(ScenarioError) as caught:
        load_scenario_file(path, library.catalogue, library.situations)
    assert str(caught.value).replace(str(path), path.name) == first
    assert caught.value.source == str(path)


def test_error_attributes_name_file_field_and_line(library: Library) -> None:
    path = INVALID / "unknown-grader.md"
    with pytest.raises(ScenarioError) as caught:
        load_scenario_file(path, library.catalogue, library.situations)
    error = caught.value
    assert (error.source, error.field, error.line) == (str(path), "steps[3].grader", 63)
    assert error.message.startswith("unknown grader 'essay'; known: single_choice,")


def test_file_over_one_megabyte_is_rejected_naming_the_limit(
    tmp_path: Path, library: Library, minimal_text: str
) -> None:
    path = tmp_path / "huge.md"
    padding = "x" * 99 + "\n"
    path.write_text(minimal_text + padding * (5 * 1024 * 1024 // len(padding)), encoding="utf-8")
    size = path.stat().st_size
    assert size > 5_000_000
    with pytest.raises(ScenarioError) as caught:
        load_scenario_file(path, library.catalogue, library.situations)
    assert str(caught.value) == (
        f"{path}: file is {size} bytes; the limit is 1 MB ({MAX_FILE_BYTES} bytes): "
        "split it or remove pasted data"
    )


def test_all_problems_of_a_file_are_reported_in_line_order(
    tmp_path: Path, library: Library, minimal_text: str
) -> None:
    text = minimal_text.replace("grader: coaching_plan", "grader: essay").replace(
        "situation: high_volume_territory", "situation: nowhere"
    )
    path = tmp_path / "two.md"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_scenario_file(path, library.catalogue, library.situations)
    fields = [p.field for p in caught.value.problems]
    assert fields == ["situation", "steps[3].grader"]


def test_a_broken_table_outside_the_exhibits_is_reported_too(
    tmp_path: Path, library: Library, minimal_text: str
) -> None:
    text = minimal_text.replace(
        "{{ seller }} owns 300 accounts.\n",
        "{{ seller }} owns 300 accounts.\n\n| A | B |\n| --- | --- |\n| 1 | 2 | 3 |\n",
    )
    path = tmp_path / "t.md"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_scenario_file(path, library.catalogue, library.situations)
    assert (caught.value.field, caught.value.line) == ("body.briefing", 78)
