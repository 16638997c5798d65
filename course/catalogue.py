"""The course catalogue: the modules (lessons) in order, checked against the scenario library.

Built-in lessons live in course/lessons/*.md; an external content directory's lessons/*.md add
to or override them by id. Invalid lessons are skipped and listed in `Catalogue.problems`, and a
module listing an unknown scenario id keeps its other scenarios and reports the unknown one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from course.errors import CourseError
from course.loader import load_lesson_file
from course.model import Module
from scenarios.errors import ScenarioError
from scenarios.library import Library, load_library

BUILTIN_LESSONS = Path(__file__).resolve().parent / "lessons"
"""The lessons shipped with coachlab."""


@dataclass(frozen=True)
class Catalogue:
    """The valid modules, in order, and the problems found loading them."""

    modules: tuple[Module, ...]
    problems: tuple[ScenarioError, ...] = ()

    def module(self, module_id: str) -> Module:
        """The module with this id; KeyError names the known ids."""
        for module in self.modules:
            if module.id == module_id:
                return module
        known = ", ".join(m.id for m in self.modules) or "none"
        raise KeyError(f"unknown module {module_id!r}; known: {known}")

    def module_ids(self) -> tuple[str, ...]:
        """Ids of the modules in catalogue order."""
        return tuple(m.id for m in self.modules)


def _scan(directory: Path, builtin: bool, problems: list[ScenarioError]) -> dict[str, Module]:
    found: dict[str, Module] = {}
    if not directory.is_dir():
        return found
    for path in sorted(directory.glob("*.md")):
        source = str(Path("course", "lessons", path.name)) if builtin else str(path)
        try:
            module = load_lesson_file(path, source)
        except ScenarioError as exc:
            problems.extend(exc.problems)
            continue
        if module.id in found:
            problems.append(
                CourseError(
                    source,
                    "id",
                    f"duplicate lesson id '{module.id}' (also in {found[module.id].source}); "
                    "give each lesson its own id",
                )
            )
            continue
        found[module.id] = module
    return found


def load_catalogue(content_dir: Path | None = None, library: Library | None = None) -> Catalogue:
    """Load built-in lessons plus `content_dir`/lessons, checking scenario ids against the
    library (loaded from the same `content_dir` when not given). Never raises for bad content."""
    if library is None:
        library = load_library(content_dir)
    problems: list[ScenarioError] = []
    modules = _scan(BUILTIN_LESSONS, True, problems)
    if content_dir is not None:
        modules.update(_scan(Path(content_dir) / "lessons", False, problems))
    known = set(library.scenario_ids())
    checked: list[Module] = []
    for module in modules.values():
        missing = [s for s in module.scenarios if s not in known]
        for index, scenario_id in enumerate(module.scenarios):
            if scenario_id in known:
                continue
            listed = ", ".join(sorted(known)) or "none"
            problems.append(
                CourseError(
                    module.source,
                    f"scenarios[{index}]",
                    f"unknown scenario id '{scenario_id}' (or the scenario is invalid); "
                    f"known: {listed}",
                )
            )
        if missing:
            kept = tuple(s for s in module.scenarios if s in known)
            module = Module(
                module.id,
                module.title,
                module.summary,
                module.duration_minutes,
                kept,
                module.markdown,
                module.order,
                module.source,
            )
        checked.append(module)
    checked.sort(key=lambda m: (m.order, m.id))
    return Catalogue(tuple(checked), tuple(problems))
