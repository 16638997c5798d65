"""The lesson catalogue: built-in lessons, external overrides, and reported problems."""

from __future__ import annotations

from pathlib import Path

import pytest

from course.catalogue import BUILTIN_LESSONS, load_catalogue
from course.errors import CourseError
from course.loader import load_lesson_file
from scenarios.errors import ScenarioError
from scenarios.library import Library
from scenarios.markdown import render

LESSON = """---
id: extra-lesson
title: An extra lesson
summary: Written by the customer's L&D team.
duration_minutes: 15
order: 9
scenarios: [territory-rep-300-accounts]
---

# An extra lesson

| A | B |
| --- | --- |
| 1 | 2 |
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_built_in_lessons_load_in_order_with_known_scenarios(library: Library) -> None:
    catalogue = load_catalogue(library=library)
    assert [str(p) for p in catalogue.problems] == []
    assert len(catalogue.modules) == len(list(BUILTIN_LESSONS.glob("*.md")))
    orders = [m.order for m in catalogue.modules]
    assert orders == sorted(orders)
    for module in catalogue.modules:
        assert module.markdown.strip()
        assert module.duration_minutes > 0
        assert set(module.scenarios) <= set(library.scenario_ids())
        assert "<script" not in render(module.markdown)


def test_module_lookup_names_known_ids(library: Library) -> None:
    catalogue = load_catalogue(library=library)
    if catalogue.modules:
        first = catalogue.modules[0]
        assert catalogue.module(first.id) == first
    with pytest.raises(KeyError) as caught:
        catalogue.module("nope")
    assert "unknown module 'nope'; known: " in str(caught.value)


def test_external_lessons_add_and_override(tmp_path: Path, library: Library) -> None:
    write(tmp_path / "lessons" / "extra.md", LESSON)
    catalogue = load_catalogue(tmp_path, library)
    assert catalogue.problems == ()
    extra = catalogue.module("extra-lesson")
    assert extra.scenarios == ("territory-rep-300-accounts",)
    assert extra.markdown.startswith("# An extra lesson")
    assert extra.source == str(tmp_path / "lessons" / "extra.md")
    assert catalogue.modules[-1].id == "extra-lesson"
    builtin = sorted(BUILTIN_LESSONS.glob("*.md"))
    if builtin:
        first = load_lesson_file(builtin[0])
        write(
            tmp_path / "lessons" / "override.md",
            LESSON.replace("id: extra-lesson", f"id: {first.id}").replace(
                "title: An extra lesson", "title: Our own version"
            ),
        )
        assert load_catalogue(tmp_path, library).module(first.id).title == "Our own version"


def test_unknown_scenario_ids_are_reported_and_dropped(tmp_path: Path, library: Library) -> None:
    path = write(
        tmp_path / "lessons" / "extra.md",
        LESSON.replace("[territory-rep-300-accounts]", "[territory-rep-300-accounts, ghost]"),
    )
    catalogue = load_catalogue(tmp_path, library)
    assert [str(p) for p in catalogue.problems] == [
        f"{path}: scenarios[1]: unknown scenario id 'ghost' (or the scenario is invalid); "
        f"known: {', '.join(library.scenario_ids())}"
    ]
    assert catalogue.module("extra-lesson").scenarios == ("territory-rep-300-accounts",)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ("duration_minutes: 15\n", ""),
            "2: duration_minutes: missing required field 'duration_minutes'",
        ),
        (("order: 9", "order: soon"), "6: order: expected a whole number, got the text 'soon'"),
        (("order: 9", "order: 9\nlevel: 2"), "7: level: unknown field 'level'; allowed: id,"),
        (("| 1 | 2 |", "| 1 |"), "14: body: malformed table: row has 1 cells but the header"),
        (
            ("title: An extra lesson", "title: [oops"),
            "4: YAML syntax error: did not find expected ',' or ']' "
            "(while parsing a flow sequence started at line 3)",
        ),
    ],
)
def test_invalid_lessons_are_reported_not_raised(
    tmp_path: Path, library: Library, change: tuple[str, str], expected: str
) -> None:
    path = write(tmp_path / "lessons" / "bad.md", LESSON.replace(*change))
    catalogue = load_catalogue(tmp_path, library)
    assert len(catalogue.problems) == 1
    problem = catalogue.problems[0]
    assert isinstance(problem, CourseError)
    assert isinstance(problem, ScenarioError)
    assert str(problem).startswith(f"{path}:{expected}")
    assert "extra-lesson" not in [m.id for m in catalogue.modules]


def test_duplicate_lesson_ids_in_one_directory(tmp_path: Path, library: Library) -> None:
    write(tmp_path / "lessons" / "a.md", LESSON)
    second = write(tmp_path / "lessons" / "b.md", LESSON)
    catalogue = load_catalogue(tmp_path, library)
    assert [p.source for p in catalogue.problems] == [str(second)]
    assert catalogue.problems[0].message.startswith("duplicate lesson id 'extra-lesson'")


def test_load_catalogue_loads_the_library_when_not_given(tmp_path: Path) -> None:
    write(tmp_path / "lessons" / "extra.md", LESSON)
    assert load_catalogue(tmp_path).module("extra-lesson").order == 9
