"""The scenario library: built-in content plus an optional external content directory.

Layout (built-in under scenarios/library/, and the same in an external directory):
``tasks.yaml``, ``situations.yaml``, ``scenarios/*.md`` (lessons/*.md are read by
course.catalogue). External entries add to or override built-ins by id. Invalid files and
entries are skipped and reported in `Library.problems`, never raised. Nothing is cached
globally: the caller keeps the Library it loaded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from scenarios.errors import ScenarioError
from scenarios.lint import lint_template
from scenarios.loader import WEIGHT_TOLERANCE, ScenarioTemplate, build_scenario, parse_template
from scenarios.model import Scenario, Situation, Task, TaskCatalogue
from scenarios.schema import SituationModel, TaskModel, describe_error
from scenarios.source import LineMap, PathKey, format_path, line_for, parse_yaml, read_text

BUILTIN_DIR = Path(__file__).resolve().parent / "library"
"""The built-in content shipped with coachlab."""
CONTENT_DIR_ENV = "COACHLAB_CONTENT_DIR"
"""The environment variable the web app and CLI read for the external content directory."""


@dataclass(frozen=True)
class ScenarioSummary:
    """What a catalogue page shows about a scenario (its default variant)."""

    id: str
    title: str
    summary: str
    situation_id: str
    situation_label: str
    estimated_minutes: int
    focus: str = ""
    variant_count: int = 1
    step_count: int = 0
    source: str = ""


@dataclass(frozen=True)
class Library:
    """Tasks, situations and valid scenario templates, with the problems found loading them."""

    catalogue: TaskCatalogue
    situations: Mapping[str, Situation]
    problems: tuple[ScenarioError, ...] = ()
    templates: Mapping[str, ScenarioTemplate] = field(default_factory=dict)
    """Valid scenario templates by id."""
    defaults: Mapping[str, Scenario] = field(default_factory=dict)
    """The default variant of every valid scenario, by id."""

    def scenario_ids(self) -> tuple[str, ...]:
        """Ids of the valid scenarios, sorted."""
        return tuple(sorted(self.templates))

    def template(self, scenario_id: str) -> ScenarioTemplate:
        """The parsed template of a scenario; KeyError names the known ids."""
        try:
            return self.templates[scenario_id]
        except KeyError:
            known = ", ".join(self.scenario_ids()) or "none"
            raise KeyError(f"unknown scenario {scenario_id!r}; known: {known}") from None

    def scenario(self, scenario_id: str, seed: int | None = None) -> Scenario:
        """The scenario's variant for `seed` (None: the default variant).

        Raises:
            KeyError: no valid scenario has this id (the message lists the known ids).
        """
        template = self.template(scenario_id)
        if seed is None:
            return self.defaults[scenario_id]
        return build_scenario(template, self.catalogue, self.situations, seed)

    def has_variants(self, scenario_id: str) -> bool:
        """True when the scenario has parameters with more than one value."""
        return self.template(scenario_id).has_variants

    def summaries(self) -> tuple[ScenarioSummary, ...]:
        """A summary of every valid scenario, sorted by id."""
        out = []
        for scenario_id in self.scenario_ids():
            scenario = self.defaults[scenario_id]
            out.append(
                ScenarioSummary(
                    id=scenario.id,
                    title=scenario.title,
                    summary=scenario.summary,
                    situation_id=scenario.situation.id,
                    situation_label=scenario.situation.label,
                    estimated_minutes=scenario.estimated_minutes,
                    focus=scenario.derivation.focus,
                    variant_count=self.templates[scenario_id].variant_count,
                    step_count=len(scenario.steps),
                    source=scenario.source,
                )
            )
        return tuple(out)


def _source_name(path: Path, root: Path, builtin: bool) -> str:
    """Messages name built-in files relative to the package, external ones as given."""
    if builtin:
        return str(Path("scenarios", "library") / path.relative_to(root))
    return str(path)


def _load_yaml_list(
    path: Path, source: str, key: str, problems: list[ScenarioError]
) -> tuple[list[tuple[int, dict[str, Any]]], LineMap]:
    """The entries of a `key:` list in a YAML file, with their index; problems reported."""
    try:
        _, text = read_text(path, source)
        document = parse_yaml(text, source)
    except ScenarioError as exc:
        problems.extend(exc.problems)
        return [], {}
    data = document.data
    if not isinstance(data, dict) or set(data) != {key} or not isinstance(data[key], list):
        problems.append(ScenarioError(source, "", f"expected a single top-level '{key}:' list", 1))
        return [], {}
    entries = []
    for index, entry in enumerate(data[key]):
        if not isinstance(entry, dict):
            problems.append(
                ScenarioError(
                    source,
                    format_path((key, index)),
                    "expected a mapping of fields",
                    line_for(document.lines, (key, index)),
                )
            )
            continue
        entries.append((index, entry))
    return entries, document.lines


def _validated(
    model: type[TaskModel] | type[SituationModel],
    entry: dict[str, Any],
    source: str,
    key: str,
    index: int,
    lines: LineMap,
    problems: list[ScenarioError],
) -> Any:
    try:
        return model.model_validate(entry)
    except ValidationError as exc:
        for error in exc.errors():
            path = (key, index, *error["loc"])
            problems.append(
                ScenarioError(
                    source, format_path(path), describe_error(error, model), line_for(lines, path)
                )
            )
        return None


def _load_tasks(
    path: Path, source: str, tasks: dict[str, Task], problems: list[ScenarioError]
) -> None:
    seen: set[str] = set()
    entries, lines = _load_yaml_list(path, source, "tasks", problems)
    for index, entry in entries:
        model = _validated(TaskModel, entry, source, "tasks", index, lines, problems)
        if model is None:
            continue
        if model.id in seen:
            problems.append(
                ScenarioError(
                    source,
                    format_path(("tasks", index, "id")),
                    f"duplicate task id '{model.id}'; ids must be unique",
                    line_for(lines, ("tasks", index, "id")),
                )
            )
            continue
        seen.add(model.id)
        tasks[model.id] = Task(model.id, model.label, model.description, tuple(model.synonyms))


def _load_situations(
    path: Path,
    source: str,
    tasks: Mapping[str, Task],
    situations: dict[str, Situation],
    problems: list[ScenarioError],
) -> None:
    seen: set[str] = set()
    entries, lines = _load_yaml_list(path, source, "situations", problems)
    for index, entry in entries:
        model = _validated(SituationModel, entry, source, "situations", index, lines, problems)
        if model is None:
            continue
        base = ("situations", index)
        bad = False
        if model.id in seen:
            problems.append(
                ScenarioError(
                    source,
                    format_path((*base, "id")),
                    f"duplicate situation id '{model.id}'; ids must be unique",
                    line_for(lines, (*base, "id")),
                )
            )
            continue
        seen.add(model.id)
        for task in model.critical_tasks:
            if task not in tasks:
                where: PathKey = (*base, "critical_tasks", task)
                problems.append(
                    ScenarioError(
                        source,
                        format_path(where),
                        f"unknown task id '{task}'; known: {', '.join(sorted(tasks))}",
                        line_for(lines, where),
                    )
                )
                bad = True
        total = sum(model.critical_tasks.values())
        if abs(total - 1.0) > WEIGHT_TOLERANCE:
            where = (*base, "critical_tasks")
            problems.append(
                ScenarioError(
                    source,
                    format_path(where),
                    f"situation weights sum to {total:g}; they must sum to 1",
                    line_for(lines, where),
                )
            )
            bad = True
        if not bad:
            situations[model.id] = Situation(
                model.id, model.label, model.description, dict(model.critical_tasks)
            )


def _scan_scenarios(
    root: Path, builtin: bool, problems: list[ScenarioError]
) -> dict[str, ScenarioTemplate]:
    """Parse scenarios/*.md under root; duplicate ids within one directory are problems."""
    found: dict[str, ScenarioTemplate] = {}
    directory = root / "scenarios"
    if not directory.is_dir():
        return found
    for path in sorted(directory.glob("*.md")):
        source = _source_name(path, root, builtin)
        try:
            template = parse_template(path, source)
        except ScenarioError as exc:
            problems.extend(exc.problems)
            continue
        if template.id in found:
            problems.append(
                ScenarioError(
                    source,
                    "id",
                    f"duplicate scenario id '{template.id}' (also in "
                    f"{found[template.id].source}); give each scenario its own id",
                    template.lines.get(("id",)),
                )
            )
            continue
        found[template.id] = template
    return found


def load_library(content_dir: Path | None = None) -> Library:
    """Load the built-in library, plus `content_dir` (same layout) adding/overriding by id.

    Never raises for bad content: invalid files are skipped and listed in `.problems`.
    """
    problems: list[ScenarioError] = []
    roots: list[tuple[Path, bool]] = [(BUILTIN_DIR, True)]
    if content_dir is not None:
        content = Path(content_dir)
        if not content.is_dir():
            problems.append(
                ScenarioError(
                    str(content), "", "content directory does not exist or is not a directory"
                )
            )
        else:
            roots.append((content, False))
    tasks: dict[str, Task] = {}
    for root, builtin in roots:
        path = root / "tasks.yaml"
        if path.is_file():
            _load_tasks(path, _source_name(path, root, builtin), tasks, problems)
    situations: dict[str, Situation] = {}
    for root, builtin in roots:
        path = root / "situations.yaml"
        if path.is_file():
            _load_situations(path, _source_name(path, root, builtin), tasks, situations, problems)
    catalogue = TaskCatalogue(tasks)
    valid: dict[str, ScenarioTemplate] = {}
    defaults: dict[str, Scenario] = {}
    for root, builtin in roots:
        # Only a valid external scenario overrides a built-in one: a broken override is
        # reported and the built-in stays available.
        for scenario_id, template in sorted(_scan_scenarios(root, builtin, problems).items()):
            found = lint_template(template, catalogue, situations)
            if found:
                problems.extend(found)
                continue
            valid[scenario_id] = template
            defaults[scenario_id] = build_scenario(template, catalogue, situations, None)
    return Library(
        catalogue=catalogue,
        situations=situations,
        problems=tuple(problems),
        templates=valid,
        defaults=defaults,
    )
