"""The library: built-in content passes lint; an external directory adds and overrides by id;
bad content is reported, never raised."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from scenarios.library import BUILTIN_DIR, Library, load_library
from scenarios.lint import lint_template
from scenarios.loader import parse_template

LIBRARY_FILES = sorted((BUILTIN_DIR / "scenarios").glob("*.md"))


def test_built_in_library_loads_without_problems(library: Library) -> None:
    assert [str(p) for p in library.problems] == []
    assert len(library.scenario_ids()) == len(LIBRARY_FILES)


@pytest.mark.parametrize("path", LIBRARY_FILES, ids=[p.stem for p in LIBRARY_FILES])
def test_every_library_scenario_passes_lint_in_every_variant(path: Path, library: Library) -> None:
    template = parse_template(path)
    assert [str(p) for p in lint_template(template, library.catalogue, library.situations)] == []
    assert path.stem == template.id


def test_scenario_lookup_and_summaries(library: Library) -> None:
    scenario = library.scenario("territory-rep-300-accounts")
    assert scenario.situation.id == "high_volume_territory"
    assert [s.id for s in scenario.sections][:3] == ["briefing", "exhibits", "teaching-notes"]
    assert scenario.source == "scenarios/library/scenarios/territory-rep-300-accounts.md"
    summary = next(s for s in library.summaries() if s.id == scenario.id)
    assert (summary.title, summary.situation_label, summary.estimated_minutes) == (
        scenario.title,
        "High-volume territory seller",
        20,
    )
    assert summary.focus == "territory_coverage"
    assert summary.variant_count == 27


def test_unknown_scenario_is_a_key_error_listing_known_ids(library: Library) -> None:
    with pytest.raises(KeyError) as caught:
        library.scenario("nope")
    assert "unknown scenario 'nope'; known: " in str(caught.value)
    assert "territory-rep-300-accounts" in str(caught.value)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_external_directory_adds_and_overrides_by_id(tmp_path: Path, minimal_text: str) -> None:
    write(tmp_path / "scenarios" / "minimal.md", minimal_text)
    flagship = (BUILTIN_DIR / "scenarios" / "territory-rep-300-accounts.md").read_text()
    write(
        tmp_path / "scenarios" / "ours.md",
        flagship.replace('title: "{{ seller_first }}', 'title: "Our {{ seller_first }}'),
    )
    write(
        tmp_path / "tasks.yaml",
        "tasks:\n  - id: negotiation\n    label: Commercial negotiation\n"
        "  - id: solution_selling\n    label: Solution selling\n",
    )
    write(
        tmp_path / "situations.yaml",
        "situations:\n  - id: field_sales\n    label: Field sales\n    critical_tasks:\n"
        "      solution_selling: 0.6\n      prospecting: 0.4\n",
    )
    library = load_library(tmp_path)
    assert library.problems == ()
    assert "minimal-territory" in library.scenario_ids()
    assert library.scenario("territory-rep-300-accounts").title == "Our Priya's 280 accounts"
    assert library.scenario("territory-rep-300-accounts").source == str(
        tmp_path / "scenarios" / "ours.md"
    )
    assert library.catalogue.get("negotiation").label == "Commercial negotiation"
    assert library.catalogue.get("prospecting").label == "Prospecting"
    assert library.situations["field_sales"].critical_tasks == {
        "solution_selling": 0.6,
        "prospecting": 0.4,
    }


def test_invalid_external_content_is_reported_not_raised(tmp_path: Path, minimal_text: str) -> None:
    write(
        tmp_path / "scenarios" / "broken.md", minimal_text.replace("grader: ranking", "grader: x")
    )
    write(tmp_path / "scenarios" / "copy-a.md", minimal_text)
    write(tmp_path / "scenarios" / "copy-b.md", minimal_text)
    write(
        tmp_path / "situations.yaml",
        "situations:\n  - id: lopsided\n    label: L\n    critical_tasks:\n"
        "      prospecting: 0.5\n      qualification: 0.4\n",
    )
    library = load_library(tmp_path)
    messages = [str(p) for p in library.problems]
    assert messages == [
        f"{tmp_path / 'situations.yaml'}:4: situations[0].critical_tasks: situation weights "
        "sum to 0.9; they must sum to 1",
        f"{tmp_path / 'scenarios' / 'copy-a.md'}:2: id: duplicate scenario id "
        f"'minimal-territory' (also in {tmp_path / 'scenarios' / 'broken.md'}); "
        "give each scenario its own id",
        f"{tmp_path / 'scenarios' / 'copy-b.md'}:2: id: duplicate scenario id "
        f"'minimal-territory' (also in {tmp_path / 'scenarios' / 'broken.md'}); "
        "give each scenario its own id",
        f"{tmp_path / 'scenarios' / 'broken.md'}:45: steps[1].grader: unknown grader 'x'; "
        "known: single_choice, multi_select, ranking, coaching_focus, coaching_plan",
    ]
    assert "minimal-territory" not in library.scenario_ids()
    assert "lopsided" not in library.situations
    assert "territory-rep-300-accounts" in library.scenario_ids()


def test_broken_yaml_data_files_are_reported(tmp_path: Path) -> None:
    write(tmp_path / "tasks.yaml", "tasks:\n  - id: a\n    label: [unclosed\n")
    write(tmp_path / "situations.yaml", "situations:\n  - id: s\n    label: S\n    critical: {}\n")
    library = load_library(tmp_path)
    messages = [str(p) for p in library.problems]
    assert messages[0].startswith(f"{tmp_path / 'tasks.yaml'}:4: YAML syntax error:")
    assert messages[1:] == [
        f"{tmp_path / 'situations.yaml'}:2: situations[0].critical_tasks: missing required "
        "field 'critical_tasks'",
        f"{tmp_path / 'situations.yaml'}:4: situations[0].critical: unknown field 'critical'; "
        "allowed: id, label, description, critical_tasks",
    ]
    assert len(library.catalogue.tasks) == 13


def test_missing_content_directory_is_a_problem(tmp_path: Path) -> None:
    library = load_library(tmp_path / "absent")
    assert [p.message for p in library.problems] == [
        "content directory does not exist or is not a directory"
    ]
    assert library.scenario_ids()


def test_a_scenario_whose_situation_is_removed_is_skipped(tmp_path: Path) -> None:
    shutil.copy(BUILTIN_DIR / "scenarios" / "territory-rep-300-accounts.md", tmp_path / "x.md")
    write(
        tmp_path / "scenarios" / "x.md",
        (tmp_path / "x.md").read_text().replace("high_volume_territory", "gone"),
    )
    library = load_library(tmp_path)
    assert library.problems[0].field == "situation"
    assert library.problems[0].message.startswith("unknown situation 'gone'; known: ")


def test_a_broken_override_keeps_the_built_in_scenario(tmp_path: Path) -> None:
    flagship = (BUILTIN_DIR / "scenarios" / "territory-rep-300-accounts.md").read_text()
    write(
        tmp_path / "scenarios" / "ours.md",
        flagship.replace("focus: territory_coverage", "focus: negotiation"),
    )
    library = load_library(tmp_path)
    assert [p.field for p in library.problems] == ["focus"]
    assert library.problems[0].source == str(tmp_path / "scenarios" / "ours.md")
    scenario = library.scenario("territory-rep-300-accounts")
    assert scenario.source == "scenarios/library/scenarios/territory-rep-300-accounts.md"


def test_yaml_aliases_are_rejected(tmp_path: Path, minimal_text: str) -> None:
    text = minimal_text.replace(
        "  facts:\n    account_count: 300\n", "  facts: &f\n    account_count: 300\n"
    ).replace("  notes:\n", "  extra: *f\n  notes:\n")
    write(tmp_path / "scenarios" / "alias.md", text)
    library = load_library(tmp_path)
    assert [str(p) for p in library.problems] == [
        f"{tmp_path / 'scenarios' / 'alias.md'}:30: seller.extra: YAML aliases (*name) and merge "
        "keys (<<) are not supported; write the value out"
    ]
