"""The domain model of a coaching scenario: typed, frozen values.

The chain the product teaches is visible in the types: a `TaskCatalogue` of selling tasks, a
`Situation` naming the critical tasks of one kind of seller job (with weights), a
`SellerProfile` with metrics against benchmarks, and a `Scenario` whose steps a learner answers.
Loaders build these values; `scenarios.focus` derives the coaching focus from them; graders read
them. Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

GraderName = str
TaskId = str


@dataclass(frozen=True)
class Task:
    """A selling task a seller may perform (prospecting, negotiation, ...)."""

    id: TaskId
    label: str
    description: str = ""
    synonyms: tuple[str, ...] = ()
    """Phrases a learner may use for this task; graders match them."""


@dataclass(frozen=True)
class TaskCatalogue:
    """All known selling tasks, by id."""

    tasks: Mapping[TaskId, Task]

    def get(self, task_id: TaskId) -> Task:
        """Return the task with this id; KeyError names the known ids."""
        try:
            return self.tasks[task_id]
        except KeyError:
            known = ", ".join(sorted(self.tasks))
            raise KeyError(f"unknown task id {task_id!r}; known: {known}") from None


@dataclass(frozen=True)
class Situation:
    """A kind of seller job and the tasks most critical to succeed in it."""

    id: str
    label: str
    description: str
    critical_tasks: Mapping[TaskId, float]
    """Criticality weight per task; the weights sum to 1."""


@dataclass(frozen=True)
class Metric:
    """One measured value of the seller against the benchmark for the task it evidences."""

    id: str
    task: TaskId
    label: str
    value: float
    benchmark: float
    unit: str = ""
    higher_is_better: bool = True


@dataclass(frozen=True)
class Note:
    """A call note, email or CRM comment shown as evidence."""

    id: str
    kind: str
    """call_note, email, crm_comment, manager_observation, ..."""
    text: str
    tasks: tuple[TaskId, ...] = ()
    """Tasks this note is evidence about (used by the focus grader's evidence check)."""
    author: str = ""


@dataclass(frozen=True)
class SellerProfile:
    """The seller the learner coaches: situation facts, metrics and notes."""

    name: str
    role: str
    facts: Mapping[str, str | int | float]
    """account_count, geography, deal_size, cycle_length, tenure, ... as authored."""
    metrics: tuple[Metric, ...]
    notes: tuple[Note, ...] = ()


@dataclass(frozen=True)
class Option:
    """One choice in a choice, ranking or focus step."""

    id: str
    label: str
    task: TaskId | None = None
    """The task this option stands for, when it stands for one."""
    feedback: str = ""
    """Shown after submission when the learner picked (or misplaced) this option."""


@dataclass(frozen=True)
class Criterion:
    """One rubric criterion of a free-text step, as authored."""

    id: str
    label: str
    points: float
    feedback_met: str = ""
    feedback_missed: str = ""


@dataclass(frozen=True)
class Step:
    """One question of a scenario. `key` and `config` are read by the named grader."""

    id: str
    title: str
    prompt: str
    grader: GraderName
    weight: float
    options: tuple[Option, ...] = ()
    key: tuple[str, ...] = ()
    """Correct option ids (choice), the expected order of option ids (ranking) or
    (the option id standing for the focus task,) (coaching_focus). For focus and ranking steps
    the loader fills it from the derivation; coaching_plan steps have no key."""
    criteria: tuple[Criterion, ...] = ()
    config: Mapping[str, object] = field(default_factory=dict)
    """Grader-specific settings (e.g. rubric word lists, partial credit rules). The loader adds
    `weights` (ranking), `focus_task`, `evidence`, `strengths` (coaching_focus) and
    `situation_terms`, `actions`, `takeover_patterns`, `focus_task` (coaching_plan)."""
    feedback: str = ""
    """The teaching explanation of the right reading, shown after submission."""


Direction = Literal["below", "above", "at"]


@dataclass(frozen=True)
class TaskGap:
    """How far the seller falls short on one task, and how much that matters here."""

    task: TaskId
    weight: float
    """Criticality weight in the situation (0 when the task is not critical)."""
    shortfall: float
    """Normalised shortfall against benchmark in [0, 1]; 0 when at or above benchmark."""
    surplus: float
    """Normalised excess over benchmark (>= 0); > 0 means the seller beats the benchmark."""
    score: float
    """weight x shortfall: the quantity the focus maximises."""
    metrics: tuple[str, ...]
    """Metric ids that evidence this task."""


@dataclass(frozen=True)
class Derivation:
    """The coaching focus derived from a profile, with the reasoning that produced it."""

    focus: TaskId
    gaps: tuple[TaskGap, ...]
    """Every task with a metric or criticality, largest weighted gap first."""
    strengths: tuple[TaskId, ...]
    """Tasks the seller excels at (clearly above benchmark): never the focus."""
    critical_ranking: tuple[TaskId, ...]
    """The situation's critical tasks, most critical first."""
    explanation: str


@dataclass(frozen=True)
class Section:
    """A named Markdown section of a scenario body (narrative, exhibits, teaching notes)."""

    id: str
    title: str
    markdown: str


@dataclass(frozen=True)
class Scenario:
    """A concrete, playable scenario (a variant already instantiated when it has parameters)."""

    id: str
    title: str
    version: str
    summary: str
    situation: Situation
    profile: SellerProfile
    steps: tuple[Step, ...]
    sections: tuple[Section, ...]
    derivation: Derivation
    content_hash: str
    """sha256 of the source file and variant seed: results record it."""
    estimated_minutes: int = 15
    variant_seed: int | None = None
    source: str = ""
    """Where it was loaded from (a path, for messages)."""

    def step(self, step_id: str) -> Step:
        """Return the step with this id; KeyError names the known ids."""
        for step in self.steps:
            if step.id == step_id:
                return step
        known = ", ".join(s.id for s in self.steps)
        raise KeyError(f"scenario {self.id!r} has no step {step_id!r}; steps: {known}")
