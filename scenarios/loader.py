"""Load scenario files: parse, validate every field with its line, derive keys, build values.

Loading is two stages. `parse_template` reads a file once (size, UTF-8, front matter, YAML,
parameters, placeholders) into a `ScenarioTemplate`; `build_scenario` instantiates one variant
of it (substitutes the parameter values, validates the schema and every cross-reference,
derives the coaching focus, fills the keys of focus and ranking steps) into a frozen
`scenarios.model.Scenario`.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from pydantic import ValidationError

from scenarios.errors import ScenarioError, raise_all
from scenarios.focus import derive_focus, explain_mismatch
from scenarios.markdown import (
    BodySection,
    check_metric_tables,
    check_tables,
    slugify,
    split_sections,
)
from scenarios.model import (
    Criterion,
    Derivation,
    Metric,
    Note,
    Option,
    Scenario,
    Section,
    SellerProfile,
    Situation,
    Step,
    TaskCatalogue,
)
from scenarios.schema import (
    GRADER_NAMES,
    ScenarioModel,
    StepModel,
    describe_error,
)
from scenarios.source import (
    LineMap,
    PathKey,
    decode,
    format_path,
    line_for,
    parse_yaml,
    read_text,
    split_front_matter,
)
from scenarios.variants import (
    Parameter,
    Values,
    instantiate,
    parse_parameters,
    placeholder_problems,
    substitute,
    substitute_text,
)

REQUIRED_SECTIONS: tuple[str, ...] = ("Briefing", "Exhibits", "Teaching notes")
"""The `## ` sections every scenario body must have."""
WEIGHT_TOLERANCE = 1e-6
RESERVED_CONFIG = frozenset(
    {
        "situation_terms",
        "actions",
        "takeover_patterns",
        "focus_task",
        "evidence",
        "strengths",
        "weights",
    }
)
"""Step config keys the loader fills; authors may not set them."""


@dataclass(frozen=True)
class ScenarioTemplate:
    """A parsed scenario file before a variant is chosen."""

    source: str
    raw: bytes
    """The file's bytes (at most 1 MB): the content hash covers them."""
    data: Mapping[str, Any]
    """The front matter as parsed (placeholders still in it)."""
    lines: LineMap
    body: str
    body_line: int
    parameters: tuple[Parameter, ...]
    sections: tuple[BodySection, ...] = ()
    """The body's `## ` sections with placeholders still in them."""
    body_problems: tuple[ScenarioError, ...] = ()
    """Structural problems of the body (sections, tables), reported with the schema's."""

    @property
    def id(self) -> str:
        """The scenario id as authored (placeholders are not allowed in it)."""
        value = self.data.get("id")
        return value if isinstance(value, str) else ""

    @property
    def has_variants(self) -> bool:
        """True when some parameter has more than one value."""
        return any(len(p.values) > 1 for p in self.parameters)

    @property
    def variant_count(self) -> int:
        """How many distinct variants the parameters allow."""
        return math.prod(len(p.values) for p in self.parameters)

    def content_hash(self, values: Mapping[str, object]) -> str:
        """sha256 of the file bytes plus the chosen parameter values: what results record.

        Hashing the values rather than the seed gives every learner on the same variant (and
        everyone on a scenario without variants) the same hash, so a regrade can tell a changed
        scenario from a different seed.
        """
        chosen = json.dumps(values, sort_keys=True, default=str, ensure_ascii=False)
        return hashlib.sha256(self.raw + b"\0values=" + chosen.encode()).hexdigest()


def parse_template(path: Path, source: str | None = None) -> ScenarioTemplate:
    """Read and parse a scenario file (no variant chosen yet). Raises ScenarioError."""
    name = str(path) if source is None else source
    data, text = read_text(path, name)
    return parse_template_text(data, name, text)


def parse_template_bytes(data: bytes, source: str) -> ScenarioTemplate:
    """Parse a scenario file's bytes (for content not on disk). Raises ScenarioError."""
    return parse_template_text(data, source, decode(data, source))


def parse_template_text(raw: bytes, source: str, text: str) -> ScenarioTemplate:
    """Parse decoded text of a scenario file."""
    parts = split_front_matter(text, source)
    document = parse_yaml(parts.front_matter, source, first_line=2)
    if not isinstance(document.data, dict):
        raise ScenarioError(
            source, "", "the front matter must be a mapping of fields (id: ..., title: ...)", 2
        )
    front: dict[str, Any] = document.data
    params = parse_parameters(front.get("parameters"), source, document.lines)
    known = [p.name for p in params.parameters]
    problems: list[ScenarioError] = []
    rest = {k: v for k, v in front.items() if k != "parameters"}
    for path, message in placeholder_problems(rest, known):
        problems.append(
            ScenarioError(source, format_path(path), message, line_for(document.lines, path))
        )
    for number, line in enumerate(parts.body.split("\n")):
        for _, message in placeholder_problems(line, known):
            problems.append(ScenarioError(source, "body", message, parts.body_line + number))
    if isinstance(front.get("id"), str) and "{{" in front["id"]:
        problems.append(
            ScenarioError(
                source, "id", "the id cannot use parameters", line_for(document.lines, ("id",))
            )
        )
    sections, body_problems = check_body(
        parts.body, parts.body_line, source, _metric_labels(front)
    )
    if problems:
        raise_all([*problems, *body_problems])
    return ScenarioTemplate(
        source=source,
        raw=raw,
        data=front,
        lines=document.lines,
        body=parts.body,
        body_line=parts.body_line,
        parameters=params.parameters,
        sections=sections,
        body_problems=body_problems,
    )


def _metric_labels(front: Mapping[str, Any]) -> tuple[str, ...]:
    """The `seller.metrics[*].label` texts as authored (the schema checks their shape later)."""
    seller = front.get("seller")
    metrics = seller.get("metrics") if isinstance(seller, dict) else None
    if not isinstance(metrics, list):
        return ()
    return tuple(
        m["label"] for m in metrics if isinstance(m, dict) and isinstance(m.get("label"), str)
    )


def check_body(
    body: str, body_line: int, source: str, metric_labels: Iterable[str] = ()
) -> tuple[tuple[BodySection, ...], tuple[ScenarioError, ...]]:
    """Split the body into sections; report missing required sections, broken tables and
    tables that repeat the seller's metrics (the player shows those itself).

    Runs once per file on the body with its placeholders (they contain no Markdown syntax),
    not once per variant.
    """
    offset = body_line - 1
    labels = tuple(metric_labels)
    problems: list[ScenarioError] = []
    parsed, structure = split_sections(body)
    for item in structure:
        problems.append(ScenarioError(source, item.field, item.message, offset + item.line))
    by_id = {s.section.id: s for s in parsed}
    for title in REQUIRED_SECTIONS:
        if slugify(title) not in by_id:
            problems.append(
                ScenarioError(
                    source,
                    "body",
                    f"missing required section '## {title}'; every scenario body has "
                    + ", ".join(f"'## {t}'" for t in REQUIRED_SECTIONS),
                    body_line,
                )
            )
    # Exhibits are where tables matter most, but a broken table anywhere renders as noise.
    for part in parsed:
        base = offset + part.first_content_line - 1
        field = f"body.{part.section.id}"
        found_all = check_tables(part.section.markdown, field)
        # Teaching notes appear after submission, away from the metrics table: a worked
        # gap calculation there repeats nothing the learner is looking at.
        if "teaching" not in part.section.id:
            found_all += check_metric_tables(part.section.markdown, field, labels)
        for found in found_all:
            problems.append(ScenarioError(source, found.field, found.message, base + found.line))
    return tuple(parsed), tuple(problems)


def load_scenario_file(
    path: Path,
    catalogue: TaskCatalogue,
    situations: Mapping[str, Situation],
    seed: int | None = None,
) -> Scenario:
    """Load one scenario file (outside the library too) as the variant for `seed`.

    Raises:
        ScenarioError: the file is invalid; `.problems` lists everything found.
    """
    template = parse_template(Path(path))
    return build_scenario(template, catalogue, situations, seed)


def build_scenario(
    template: ScenarioTemplate,
    catalogue: TaskCatalogue,
    situations: Mapping[str, Situation],
    seed: int | None = None,
) -> Scenario:
    """Instantiate the variant for `seed` and validate it completely. Raises ScenarioError."""
    values = instantiate(template, seed)
    return build_variant(template, catalogue, situations, values, seed)


def build_variant(
    template: ScenarioTemplate,
    catalogue: TaskCatalogue,
    situations: Mapping[str, Situation],
    values: Values,
    seed: int | None,
) -> Scenario:
    """Build the variant with these parameter values. Raises ScenarioError."""
    return _Builder(template, catalogue, situations, values, seed).build()


class _Builder:
    """Validates one concrete variant, collecting every problem with its line."""

    def __init__(
        self,
        template: ScenarioTemplate,
        catalogue: TaskCatalogue,
        situations: Mapping[str, Situation],
        values: Values,
        seed: int | None,
    ) -> None:
        self.template = template
        self.catalogue = catalogue
        self.situations = situations
        self.values = dict(values)
        self.seed = seed
        self.problems: list[ScenarioError] = []

    def problem(self, path: PathKey, message: str, line: int | None = None) -> None:
        where = line if line is not None else line_for(self.template.lines, path)
        self.problems.append(ScenarioError(self.template.source, format_path(path), message, where))

    def finish(self) -> None:
        """Raise the collected problems, if any."""
        if self.problems:
            self.fail()

    def fail(self) -> NoReturn:
        """Raise the collected problems (there is at least one)."""
        raise_all(self.problems)
        # raise_all raises whenever there are problems; this keeps the NoReturn promise.
        raise ScenarioError(self.template.source, "", "invalid scenario")

    def build(self) -> Scenario:
        concrete = substitute(dict(self.template.data), self.values)
        try:
            model = ScenarioModel.model_validate(concrete)
        except ValidationError as exc:
            for error in exc.errors():
                loc = tuple(error["loc"])
                self.problem(loc, describe_error(error, ScenarioModel))
            self.problems.extend(self.template.body_problems)
            self.fail()
        situation = self.check_references(model)
        self.problems.extend(self.template.body_problems)
        sections = tuple(
            Section(
                part.section.id,
                substitute_text(part.section.title, self.values),
                substitute_text(part.section.markdown, self.values),
            )
            for part in self.template.sections
        )
        if situation is None:
            self.fail()
        self.finish()
        profile = _profile(model)
        try:
            derivation = derive_focus(
                situation,
                profile,
                source=self.template.source,
                labels={task.id: task.label for task in self.catalogue.tasks.values()},
            )
        except ScenarioError as exc:
            self.problem(("seller", "metrics"), exc.message)
            self.fail()
        if model.focus != derivation.focus:
            self.problem(("focus",), explain_mismatch(model.focus, derivation, profile))
        steps = self.build_steps(model, derivation)
        self.finish()
        return Scenario(
            id=model.id,
            title=model.title,
            version=str(model.version),
            summary=model.summary,
            situation=situation,
            profile=profile,
            steps=steps,
            sections=sections,
            derivation=derivation,
            content_hash=self.template.content_hash(self.values),
            estimated_minutes=model.estimated_minutes,
            variant_seed=self.seed,
            source=self.template.source,
        )

    def check_references(self, model: ScenarioModel) -> Situation | None:
        tasks = self.catalogue.tasks
        known_tasks = ", ".join(sorted(tasks))
        situation = self.situations.get(model.situation)
        if situation is None:
            known = ", ".join(sorted(self.situations)) or "none"
            self.problem(("situation",), f"unknown situation '{model.situation}'; known: {known}")
        if model.focus not in tasks:
            self.problem(("focus",), f"unknown task id '{model.focus}'; known: {known_tasks}")
        evidence_ids: dict[str, str] = {}
        for index, metric in enumerate(model.seller.metrics):
            path: PathKey = ("seller", "metrics", index)
            self._unique(evidence_ids, metric.id, (*path, "id"), "metric/note")
            if metric.task not in tasks:
                self.problem(
                    (*path, "task"), f"unknown task id '{metric.task}'; known: {known_tasks}"
                )
        for index, note in enumerate(model.seller.notes):
            path = ("seller", "notes", index)
            self._unique(evidence_ids, note.id, (*path, "id"), "metric/note")
            for position, task in enumerate(note.tasks):
                if task not in tasks:
                    self.problem(
                        (*path, "tasks", position),
                        f"unknown task id '{task}'; known: {known_tasks}",
                    )
        step_ids: dict[str, str] = {}
        total = 0.0
        for index, step in enumerate(model.steps):
            path = ("steps", index)
            self._unique(step_ids, step.id, (*path, "id"), "step")
            total += step.weight
            self.check_step(step, path)
        if abs(total - 1.0) > WEIGHT_TOLERANCE:
            weights = " + ".join(f"{s.weight:g}" for s in model.steps)
            self.problem(
                ("steps",),
                f"step weights sum to {total:g} ({weights}); they must sum to 1",
            )
        return situation

    def _unique(self, seen: dict[str, str], value: str, path: PathKey, what: str) -> None:
        if value in seen:
            self.problem(
                path,
                f"duplicate {what} id '{value}' (already used at {seen[value]}); "
                "ids must be unique",
            )
        else:
            seen[value] = format_path(path[:-1])

    def check_step(self, step: StepModel, path: PathKey) -> None:
        tasks = self.catalogue.tasks
        if step.grader not in GRADER_NAMES:
            self.problem(
                (*path, "grader"),
                f"unknown grader '{step.grader}'; known: {', '.join(GRADER_NAMES)}",
            )
            return
        option_ids: dict[str, str] = {}
        option_tasks: dict[str, str] = {}
        for index, option in enumerate(step.options):
            opath = (*path, "options", index)
            self._unique(option_ids, option.id, (*opath, "id"), "option")
            if option.task is not None:
                if option.task not in tasks:
                    self.problem(
                        (*opath, "task"),
                        f"unknown task id '{option.task}'; known: {', '.join(sorted(tasks))}",
                    )
                elif option.task in option_tasks:
                    self.problem(
                        (*opath, "task"),
                        f"task '{option.task}' already stands for option "
                        f"'{option_tasks[option.task]}'; one option per task",
                    )
                else:
                    option_tasks[option.task] = option.id
        criteria_ids: dict[str, str] = {}
        for index, criterion in enumerate(step.criteria):
            self._unique(criteria_ids, criterion.id, (*path, "criteria", index, "id"), "criterion")
        reserved = sorted(RESERVED_CONFIG & set(step.config))
        if reserved:
            self.problem(
                (*path, "config", reserved[0]),
                f"config.{reserved[0]} is filled by the loader; remove it",
            )
        if step.key is not None:
            for index, key in enumerate(step.key):
                if key not in option_ids:
                    known = ", ".join(o.id for o in step.options) or "no options"
                    self.problem(
                        (*path, "key", index),
                        f"key '{key}' names no option of this step; options: {known}",
                    )
        grader = step.grader
        if grader != "coaching_plan" and len(step.options) < 2:
            self.problem((*path, "options"), f"a {grader} step needs at least 2 options")
        if grader in ("ranking", "coaching_focus"):
            for index, option in enumerate(step.options):
                if option.task is None:
                    self.problem(
                        (*path, "options", index),
                        f"every option of a {grader} step needs task: (the task it stands for)",
                    )
        if grader == "single_choice":
            if not step.key:
                self.problem((*path, "key"), "a single_choice step needs key: [option id]")
            elif len(step.key) != 1:
                self.problem(
                    (*path, "key"), f"a single_choice step has one key, got {len(step.key)}"
                )
        if grader == "multi_select":
            if not step.key:
                self.problem((*path, "key"), "a multi_select step needs key: [option ids]")
            elif len(set(step.key)) != len(step.key):
                self.problem((*path, "key"), "the key lists an option twice")
        if grader == "coaching_plan":
            if step.rubric is None:
                self.problem(
                    (*path, "rubric"),
                    "a coaching_plan step needs rubric: with situation_terms, actions and "
                    "takeover_patterns",
                )
            if step.options:
                self.problem((*path, "options"), "a coaching_plan step has no options")
            if step.key is not None:
                self.problem((*path, "key"), "a coaching_plan step has no key")
        elif step.rubric is not None:
            self.problem((*path, "rubric"), f"rubric: belongs to coaching_plan steps, not {grader}")

    def build_steps(self, model: ScenarioModel, derivation: Derivation) -> tuple[Step, ...]:
        steps: list[Step] = []
        strengths = set(derivation.strengths)
        for index, step in enumerate(model.steps):
            path: PathKey = ("steps", index)
            options = tuple(Option(o.id, o.label, o.task, o.feedback) for o in step.options)
            config: dict[str, object] = dict(step.config)
            key: tuple[str, ...] = tuple(step.key or ())
            if step.grader == "ranking":
                by_task = {g.task: g.weight for g in derivation.gaps}
                weights = {t: by_task[t] for t in derivation.critical_ranking}
                derived = _ranking_key(options, weights, derivation.critical_ranking)
                if step.key is not None and tuple(step.key) != derived:
                    self.problem(
                        (*path, "key"),
                        f"key {list(step.key)} contradicts the derived critical order "
                        f"{list(derived)} (situation weights: "
                        + ", ".join(f"{t} {w:.2f}" for t, w in weights.items())
                        + "); remove key: to let the loader fill it",
                    )
                key = derived
                config["weights"] = {o.id: weights.get(o.task or "", 0.0) for o in options}
            elif step.grader == "coaching_focus":
                focus_options = [o.id for o in options if o.task == derivation.focus]
                if not focus_options:
                    self.problem(
                        (*path, "options"),
                        f"no option stands for the derived focus {derivation.focus}; "
                        f"add an option with task: {derivation.focus}",
                    )
                    continue
                derived = (focus_options[0],)
                if step.key is not None and tuple(step.key) != derived:
                    stated = next(
                        (o.task for o in options if step.key and o.id == step.key[0]), None
                    )
                    why = (
                        explain_mismatch(stated, derivation, _profile(model))
                        if stated
                        else f"key {list(step.key)} is not the derived focus {derived[0]}"
                    )
                    self.problem((*path, "key"), why)
                key = derived
                config["focus_task"] = derivation.focus
                config["evidence"] = _evidence(model, derivation.focus)
                config["strengths"] = tuple(
                    o.id for o in options if o.task is not None and o.task in strengths
                )
            elif step.grader == "coaching_plan" and step.rubric is not None:
                config["situation_terms"] = tuple(step.rubric.situation_terms)
                config["actions"] = tuple(step.rubric.actions)
                config["takeover_patterns"] = tuple(step.rubric.takeover_patterns)
                config["focus_task"] = derivation.focus
            steps.append(
                Step(
                    id=step.id,
                    title=step.title,
                    prompt=step.prompt,
                    grader=step.grader,
                    weight=step.weight,
                    options=options,
                    key=key,
                    criteria=tuple(
                        Criterion(c.id, c.label, c.points, c.feedback_met, c.feedback_missed)
                        for c in step.criteria
                    ),
                    config=config,
                    feedback=step.feedback,
                )
            )
        return tuple(steps)


def _ranking_key(
    options: Iterable[Option], weights: Mapping[str, float], ranking: tuple[str, ...]
) -> tuple[str, ...]:
    """Option ids in derived critical order; non-critical options keep authored order last."""
    listed = list(options)
    order = {task: position for position, task in enumerate(ranking)}
    critical = sorted((o for o in listed if o.task in order), key=lambda o: order[o.task or ""])
    rest = [o for o in listed if o.task not in order]
    return tuple(o.id for o in critical + rest)


def _evidence(model: ScenarioModel, focus: str) -> tuple[str, ...]:
    metrics = [m.id for m in model.seller.metrics if m.task == focus]
    notes = [n.id for n in model.seller.notes if focus in n.tasks]
    return tuple(metrics + notes)


def _profile(model: ScenarioModel) -> SellerProfile:
    seller = model.seller
    return SellerProfile(
        name=seller.name,
        role=seller.role,
        facts=dict(seller.facts),
        metrics=tuple(
            Metric(
                id=m.id,
                task=m.task,
                label=m.label,
                value=float(m.value),
                benchmark=float(m.benchmark),
                unit=m.unit,
                higher_is_better=m.higher_is_better,
            )
            for m in seller.metrics
        ),
        notes=tuple(
            Note(id=n.id, kind=n.kind, text=n.text, tasks=tuple(n.tasks), author=n.author)
            for n in seller.notes
        ),
    )
