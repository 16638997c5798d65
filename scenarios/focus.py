"""Derive the coaching focus from a seller profile and the seller's situation.

The definition (also in docs/authoring.md, with a worked example):

For each metric m of the seller, the relative result is
``r_m = (value - benchmark) / benchmark`` when higher is better, else
``r_m = (benchmark - value) / benchmark``. Its shortfall is ``min(max(-r_m, 0), 1)`` and its
surplus ``max(r_m, 0)``. A task's shortfall (surplus) is the mean over that task's metrics.
The task's weight ``w_t`` is its criticality weight in the situation (0 when not critical), and
its gap score is ``g_t = w_t * shortfall_t``. The focus is the critical task with the largest
``g_t``. It is an error when a critical task has no metric ("missing data"), when the largest
``g_t`` is 0 ("no gap"), and when the runner-up has ``g >= 0.8 *`` the largest ("ambiguous",
which includes ties). A task is a *strength* when all its metrics are at or above benchmark
and its mean ``r_t >= 0.10``; a strength has no shortfall, so it can never be the focus.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from scenarios.errors import ScenarioError
from scenarios.model import Derivation, Metric, SellerProfile, Situation, TaskGap, TaskId

AMBIGUITY_RATIO = 0.8
"""A runner-up gap at or above this share of the largest gap makes the focus ambiguous."""
STRENGTH_THRESHOLD = 0.10
"""Mean relative result at or above which a task (all metrics at or above benchmark) is a
strength."""


def relative_result(metric: Metric) -> float:
    """r_m: how far the value is from the benchmark, as a share of it (positive = better)."""
    if metric.higher_is_better:
        return (metric.value - metric.benchmark) / metric.benchmark
    return (metric.benchmark - metric.value) / metric.benchmark


def shortfall(metric: Metric) -> float:
    """Normalised shortfall of one metric in [0, 1]."""
    return min(max(-relative_result(metric), 0.0), 1.0)


def surplus(metric: Metric) -> float:
    """Normalised surplus of one metric (>= 0)."""
    return max(relative_result(metric), 0.0)


@dataclass(frozen=True)
class _TaskFigures:
    gap: TaskGap
    mean_r: float
    strength: bool


def _figures(situation: Situation, profile: SellerProfile) -> dict[TaskId, _TaskFigures]:
    by_task: dict[TaskId, list[Metric]] = {}
    for metric in profile.metrics:
        by_task.setdefault(metric.task, []).append(metric)
    critical = situation.critical_tasks
    tasks = list(critical) + [t for t in by_task if t not in critical]
    figures: dict[TaskId, _TaskFigures] = {}
    for task in tasks:
        metrics = by_task.get(task, [])
        weight = situation.critical_tasks.get(task, 0.0)
        if metrics:
            short = sum(shortfall(m) for m in metrics) / len(metrics)
            plus = sum(surplus(m) for m in metrics) / len(metrics)
            results = [relative_result(m) for m in metrics]
            mean_r = sum(results) / len(results)
            strength = all(r >= 0 for r in results) and mean_r >= STRENGTH_THRESHOLD
        else:
            short = plus = mean_r = 0.0
            strength = False
        gap = TaskGap(
            task=task,
            weight=weight,
            shortfall=short,
            surplus=plus,
            score=weight * short,
            metrics=tuple(m.id for m in metrics),
        )
        figures[task] = _TaskFigures(gap, mean_r, strength)
    return figures


def critical_ranking(situation: Situation) -> tuple[TaskId, ...]:
    """The situation's critical tasks, most critical first (authored order breaks ties)."""
    order = list(situation.critical_tasks)
    return tuple(sorted(order, key=lambda t: (-situation.critical_tasks[t], order.index(t))))


def _format_value(value: float, unit: str) -> str:
    number = f"{value:g}"
    if not unit:
        return number
    if unit == "%":
        return f"{number}%"
    return f"{number} {unit}"


def describe_metric(metric: Metric) -> str:
    """'accounts touched 31% vs 75%' (with '(lower is better)' when it is)."""
    text = (
        f"{metric.id.replace('_', ' ')} {_format_value(metric.value, metric.unit)} vs "
        f"{_format_value(metric.benchmark, metric.unit)}"
    )
    return text if metric.higher_is_better else f"{text} (lower is better)"


def _describe_gap(gap: TaskGap, metrics: Sequence[Metric]) -> str:
    own = [describe_metric(m) for m in metrics if m.task == gap.task]
    detail = f"; {', '.join(own)}" if own else ""
    return (
        f"{gap.task} (g={gap.score:.2f} = weight {gap.weight:.2f} x shortfall "
        f"{gap.shortfall:.2f}{detail})"
    )


def _fail(source: str, message: str) -> ScenarioError:
    return ScenarioError(source, "seller.metrics", message)


def derive_focus(
    situation: Situation,
    profile: SellerProfile,
    *,
    source: str = "",
    labels: Mapping[TaskId, str] | None = None,
) -> Derivation:
    """Derive the coaching focus: the critical task with the largest weighted gap. `labels`
    (task id -> catalogue label) word the learner-facing explanation; without them it falls
    back to the ids.

    Raises:
        ScenarioError: a critical task has no metric (missing data), there is no gap, or
            the runner-up's gap is at least 0.8 x the largest (ambiguous, including ties).
    """
    figures = _figures(situation, profile)
    ranking = critical_ranking(situation)
    missing = [t for t in ranking if not figures[t].gap.metrics]
    if missing:
        names = ", ".join(f"{t} (weight {situation.critical_tasks[t]:.2f})" for t in missing)
        raise _fail(
            source,
            f"missing data: critical task {names} of situation {situation.id} has no metric; "
            f"add a metric with task: {missing[0]}",
        )
    gaps = sorted((f.gap for f in figures.values()), key=lambda g: (-g.score, -g.weight, g.task))
    best = gaps[0]
    if best.score <= 0:
        raise _fail(
            source,
            "no gap: the seller is at or above benchmark on every critical task of "
            f"{situation.id}, so there is no coaching focus; lower one metric below benchmark",
        )
    runner = gaps[1] if len(gaps) > 1 else None
    if runner is not None and runner.score >= AMBIGUITY_RATIO * best.score:
        kind = "tie" if abs(runner.score - best.score) <= 1e-12 else "ambiguous"
        raise _fail(
            source,
            f"{kind}: focus {best.task} (g={best.score:.3f}) vs {runner.task} "
            f"(g={runner.score:.3f}); the runner-up must be below {AMBIGUITY_RATIO:.0%} of "
            "the largest gap: widen the difference in the metrics",
        )
    strengths = tuple(t for t, f in figures.items() if f.strength)
    explanation = explain_focus(best, runner, strengths, figures, profile, labels or {})
    return Derivation(
        focus=best.task,
        gaps=tuple(gaps),
        strengths=strengths,
        critical_ranking=ranking,
        explanation=explanation,
    )


def relative_size(part: float, whole: float) -> str:
    """How big one weighted gap is next to another, in words ('less than half as large')."""
    ratio = part / whole if whole > 0 else 0.0
    if ratio <= 0:
        return "no gap at all"
    if ratio < 0.25:
        return "less than a quarter as large"
    if ratio < 0.5:
        return "less than half as large"
    return f"about {round(ratio * 10) * 10}% as large"


def plain_metric(metric: Metric) -> str:
    """'accounts with a meaningful conversation ...: 31% against a benchmark of 75%'."""
    lower = "" if metric.higher_is_better else " (lower is better)"
    label = metric.label[:1].lower() + metric.label[1:] if metric.label else metric.id
    return (
        f"{label}: {_format_value(metric.value, metric.unit)} against a benchmark of "
        f"{_format_value(metric.benchmark, metric.unit)}{lower}"
    )


def explain_focus(
    best: TaskGap,
    runner: TaskGap | None,
    strengths: Sequence[TaskId],
    figures: Mapping[TaskId, _TaskFigures],
    profile: SellerProfile,
    labels: Mapping[TaskId, str],
) -> str:
    """The learner-facing reading of the data, in task labels and the scenario's own metric
    labels (the ids and g-values stay in Derivation.gaps for machines and authors)."""
    first = profile.name.split()[0] if profile.name.strip() else "The seller"

    def label(task: TaskId) -> str:
        return labels.get(task, task.replace("_", " "))

    own = [plain_metric(m) for m in profile.metrics if m.task == best.task]
    parts = [
        f"{label(best.task)} is {first}'s largest gap on the tasks this job depends on"
        + (f" ({'; '.join(own)})." if own else ".")
    ]
    if runner is not None and runner.score > 0:
        parts.append(
            f"The next gap, {label(runner.task)}, is {relative_size(runner.score, best.score)} "
            "once each gap is weighed by how much the job depends on the task."
        )
    if strengths:
        listed = ", ".join(
            f"{label(t)} ({figures[t].mean_r:.0%} better than benchmark)" for t in strengths
        )
        parts.append(f"{first}'s strengths, which are never the coaching focus: {listed}.")
    return " ".join(parts)


def explain_mismatch(stated: TaskId, derivation: Derivation, profile: SellerProfile) -> str:
    """Why a stated focus is wrong: the stated task's numbers and the real largest gap."""
    gaps = {g.task: g for g in derivation.gaps}
    best = gaps[derivation.focus]
    stated_gap = gaps.get(stated)
    if stated in derivation.strengths and stated_gap is not None:
        results = [relative_result(m) for m in profile.metrics if m.task == stated]
        mean_r = sum(results) / len(results)
        why = f"{stated} is {mean_r:.0%} better than benchmark (a strength)"
    elif stated_gap is None or not stated_gap.metrics:
        why = f"no metric evidences {stated}"
    elif stated_gap.weight == 0:
        why = f"{stated} is not a critical task of this situation (weight 0)"
    else:
        why = (
            f"{stated} has g={stated_gap.score:.2f} (weight {stated_gap.weight:.2f} x "
            f"shortfall {stated_gap.shortfall:.2f})"
        )
    real = _describe_gap(best, profile.metrics)
    return (
        f"key says {stated}, but {why}; the largest weighted gap is {real}: "
        f"set focus: {derivation.focus} or change the data"
    )
