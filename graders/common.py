"""Helpers shared by the graders: building results, reading step settings, describing data."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TypeVar, cast

from graders.base import BoundStep, ResponseError, StepConfigError
from graders.result import CriterionResult, Status, StepResult
from scenarios.model import Metric, Option, Scenario, Step, TaskCatalogue, TaskGap, TaskId

DEFAULT_REVIEW_THRESHOLD = 0.6

T = TypeVar("T")
_MEMO: dict[tuple[tuple[int, ...], str], tuple[tuple[object, ...], object]] = {}
_MEMO_SIZE = 4096


def memo(owners: tuple[object, ...], name: str, compute: Callable[[], T]) -> T:
    """`compute()` cached per identity of `owners` (held while cached, so ids stay unique):
    the texts and tables a grader derives from a scenario are built once, not per answer."""
    key = (tuple(id(o) for o in owners), name)
    hit = _MEMO.get(key)
    if hit is not None and all(a is b for a, b in zip(hit[0], owners, strict=True)):
        return cast(T, hit[1])
    value = compute()
    if len(_MEMO) >= _MEMO_SIZE:
        _MEMO.pop(next(iter(_MEMO)))
    _MEMO[key] = (owners, value)
    return value


def status_for(points: float, max_points: float) -> Status:
    """met when all points were earned, missed when none, partial in between."""
    if max_points <= 0 or points >= max_points - 1e-9:
        return "met"
    if points <= 1e-9:
        return "missed"
    return "partial"


def build_result(
    step: BoundStep,
    name: str,
    version: str,
    criteria: Sequence[CriterionResult],
    feedback: Iterable[str],
    confidence: float = 1.0,
    force_review: bool = False,
    default_threshold: float = DEFAULT_REVIEW_THRESHOLD,
) -> StepResult:
    """A StepResult whose score is exactly the earned share of the criteria's points; it needs
    review when forced or when confidence is below the step's `review_threshold` (else the
    grader's `default_threshold`)."""
    total = sum(c.max_points for c in criteria)
    earned = sum(c.points for c in criteria)
    score = 0.0 if total <= 0 else min(1.0, max(0.0, earned / total))
    confidence = min(1.0, max(0.0, confidence))
    threshold = float_setting(step.step, "review_threshold", default_threshold)
    messages = tuple(m for m in dict.fromkeys(feedback) if m)
    return StepResult(
        score=round(score, 6),
        criteria=tuple(criteria),
        feedback=messages,
        confidence=round(confidence, 6),
        needs_review=force_review or confidence < threshold,
        grader=name,
        grader_version=version,
    )


def float_setting(step: Step, key: str, default: float) -> float:
    """A numeric grader setting from the step's config, or the default."""
    value = step.config.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise StepConfigError(
            f"step {step.id!r}: config.{key} must be a number, got {value!r}"
        )
    return float(value)


def str_list_setting(step: Step, key: str) -> tuple[str, ...]:
    """A list-of-strings setting, looked up in config and in config['rubric']."""
    value: object = step.config.get(key)
    rubric = step.config.get("rubric")
    if value is None and isinstance(rubric, Mapping):
        value = rubric.get(key)
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise StepConfigError(f"step {step.id!r}: config.{key} must be a list of strings")


def options_by_id(step: Step) -> Mapping[str, Option]:
    """The step's options keyed by id (built once per step)."""
    return memo((step,), "options", lambda: {o.id: o for o in step.options})


def require_option_id(step: Step, value: object, what: str = "response") -> str:
    """The option id `value`, or ResponseError naming the step's options."""
    known = ", ".join(repr(o.id) for o in step.options)
    if not isinstance(value, str):
        raise ResponseError(
            f"step {step.id!r}: {what} must be an option id (a string), got "
            f"{type(value).__name__}; options: {known}"
        )
    if value not in options_by_id(step):
        raise ResponseError(
            f"step {step.id!r}: unknown option {value!r} in {what}; options: {known}"
        )
    return value


def require_id_list(step: Step, value: object, known: Sequence[str], what: str) -> list[str]:
    """A list of distinct ids from `known`, or ResponseError saying what is wrong."""
    names = ", ".join(repr(k) for k in known)
    if not isinstance(value, list | tuple):
        raise ResponseError(
            f"step {step.id!r}: {what} must be a list of ids, got {type(value).__name__}; "
            f"known ids: {names}"
        )
    known_set = set(known)
    seen: set[str] = set()
    for item in value:
        if not isinstance(item, str):
            raise ResponseError(
                f"step {step.id!r}: {what} must hold strings, got {type(item).__name__}"
            )
        if item not in known_set:
            raise ResponseError(f"step {step.id!r}: unknown id {item!r} in {what}; known: {names}")
        if item in seen:
            raise ResponseError(f"step {step.id!r}: id {item!r} appears twice in {what}")
        seen.add(item)
    return list(value)


def task_label(catalogue: TaskCatalogue, task_id: TaskId) -> str:
    """The catalogue label of a task, or its id when the catalogue does not know it."""
    task = catalogue.tasks.get(task_id)
    return task.label if task is not None else task_id


def format_number(value: float) -> str:
    """31.0 -> '31', 0.5 -> '0.5'."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def describe_metric(metric: Metric) -> str:
    """'Accounts touched: 31% against a benchmark of 75%'."""
    unit = metric.unit
    direction = "" if metric.higher_is_better else " (lower is better)"
    return (
        f"{metric.label}: {format_number(metric.value)}{unit} against a benchmark of "
        f"{format_number(metric.benchmark)}{unit}{direction}"
    )


def gap_for(scenario: Scenario, task_id: TaskId) -> TaskGap | None:
    """The derivation's gap entry for a task, if any."""
    for gap in scenario.derivation.gaps:
        if gap.task == task_id:
            return gap
    return None


def describe_task_data(scenario: Scenario, task_id: TaskId) -> str:
    """The seller's metrics for a task, joined: what the data says about it."""
    parts = [describe_metric(m) for m in scenario.profile.metrics if m.task == task_id]
    return "; ".join(parts)


def focus_reading(step: BoundStep) -> str:
    """One sentence: the derived focus, its weighted gap and the data behind it."""
    return memo((step.scenario, step.catalogue), "focus_reading", lambda: _focus_reading(step))


def _focus_reading(step: BoundStep) -> str:
    scenario = step.scenario
    focus = scenario.derivation.focus
    label = task_label(step.catalogue, focus)
    gap = gap_for(scenario, focus)
    data = describe_task_data(scenario, focus)
    first = scenario.profile.name.split()[0] if scenario.profile.name else "the seller"
    text = f"The data points to {label} as {first}'s coaching focus"
    if gap is not None:
        text += (
            ": it is the largest gap on the tasks this job depends on, once each gap is "
            "weighed by how much the job depends on the task"
        )
    return text + (f" ({data})." if data else ".")


def strength_reading(step: BoundStep, task_id: TaskId) -> str:
    """One sentence saying the task is a strength of this seller, with the numbers."""
    return memo(
        (step.scenario, step.catalogue),
        f"strength:{task_id}",
        lambda: _strength_reading(step, task_id),
    )


def _strength_reading(step: BoundStep, task_id: TaskId) -> str:
    label = task_label(step.catalogue, task_id)
    data = describe_task_data(step.scenario, task_id)
    first = step.scenario.profile.name.split()[0] if step.scenario.profile.name else "The seller"
    return f"{label} is a strength of {first}'s" + (f" ({data})" if data else "") + (
        ": coaching it would spend the month on what already works."
    )
