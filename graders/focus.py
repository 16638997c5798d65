"""Grader for the coaching-focus step: pick the task to coach and the data that shows the gap."""

from __future__ import annotations

from collections.abc import Mapping

from graders.base import BoundStep, ResponseError, StepConfigError
from graders.common import (
    build_result,
    describe_metric,
    float_setting,
    focus_reading,
    gap_for,
    memo,
    options_by_id,
    require_id_list,
    require_option_id,
    strength_reading,
    task_label,
)
from graders.result import CriterionResult, Evidence, StepResult
from scenarios.focus import relative_size
from scenarios.model import Option, Scenario, TaskId


def evidence_items(scenario: Scenario) -> dict[str, tuple[str, tuple[TaskId, ...]]]:
    """Every citable item: metric and note ids -> (what to show, the tasks it is evidence for)."""
    return memo((scenario,), "evidence_items", lambda: _evidence_items(scenario))


def _evidence_items(scenario: Scenario) -> dict[str, tuple[str, tuple[TaskId, ...]]]:
    items: dict[str, tuple[str, tuple[TaskId, ...]]] = {}
    for metric in scenario.profile.metrics:
        items[metric.id] = (describe_metric(metric), (metric.task,))
    for note in scenario.profile.notes:
        shown = note.text if len(note.text) <= 90 else note.text[:87] + "..."
        items[note.id] = (f"{note.kind.replace('_', ' ')}: {shown}", note.tasks)
    return items


def evidence_credit(cited: set[str], relevant: set[str], total: int) -> float:
    """Harmonic mean of recall and chance-corrected precision, in [0, 1].

    Precision is corrected for chance: citing items at random (or citing everything) has the
    base-rate precision b = relevant / total and earns 0; only precision above b counts,
    rescaled to (P - b) / (1 - b). When every item is relevant, citing cannot show judgement
    and earns 0.
    """
    if not cited or not relevant or total <= len(relevant):
        return 0.0
    hits = len(cited & relevant)
    recall = hits / len(relevant)
    base = len(relevant) / total
    precision = max(0.0, (hits / len(cited) - base) / (1 - base))
    if recall + precision <= 0:
        return 0.0
    return 2 * recall * precision / (recall + precision)


class CoachingFocusGrader:
    """Scores the chosen coaching focus and the evidence cited for it.

    Focus (default 60 points): full when the option's task is the derived focus; partial
    (config partial_focus_credit, default 0.3 of the points) for another task that is critical
    in the situation but not the largest weighted gap; nothing for a strength of the seller or a
    task that is not critical. Evidence (default 40 points): the metrics and notes whose task is
    the derived focus, scored by recall and chance-corrected precision (see evidence_credit),
    so citing everything earns nothing.
    """

    name = "coaching_focus"
    version = "1.0.0"

    def grade(self, step: BoundStep, response: object) -> StepResult:
        """Score {"task": option_id, "evidence": [metric or note ids]}."""
        s = step.step
        scenario = step.scenario
        if not isinstance(response, Mapping):
            raise ResponseError(
                f"step {s.id!r}: the answer must be an object "
                '{"task": option_id, "evidence": [metric or note ids]}, got '
                f"{type(response).__name__}"
            )
        extra = sorted(str(k) for k in response if k not in ("task", "evidence"))
        if extra:
            raise ResponseError(
                f"step {s.id!r}: unexpected field(s) {extra}; expected 'task' and 'evidence'"
            )
        if "task" not in response:
            raise ResponseError(f"step {s.id!r}: the answer has no 'task' (the option id picked)")
        picked = require_option_id(s, response["task"], "'task'")
        items = evidence_items(scenario)
        cited = require_id_list(s, response.get("evidence", []), list(items), "'evidence'")

        focus = scenario.derivation.focus
        option = options_by_id(s)[picked]
        task = self._task_of(step, option)
        focus_points = float_setting(s, "focus_points", 60.0)
        evidence_points = float_setting(s, "evidence_points", 40.0)
        partial_share = float_setting(s, "partial_focus_credit", 0.3)
        criteria: list[CriterionResult] = []
        messages: list[str] = []

        weight = float(scenario.situation.critical_tasks.get(task, 0.0)) if task else 0.0
        label = task_label(step.catalogue, task) if task else option.label
        if task == focus:
            earned, verdict = focus_points, f"Right: {label} is the focus. {focus_reading(step)}"
        elif task is not None and task in scenario.derivation.strengths:
            earned, verdict = 0.0, f"Not {label}. {strength_reading(step, task)} " + focus_reading(
                step
            )
        elif weight > 0:
            gap = gap_for(scenario, task) if task else None
            focus_gap = gap_for(scenario, focus)
            numbers = (
                f" (weighed by how much the job depends on it, its gap is "
                f"{relative_size(gap.score, focus_gap.score)} as the gap in "
                f"{task_label(step.catalogue, focus)})"
                if gap is not None and focus_gap is not None
                else ""
            )
            earned = focus_points * partial_share
            verdict = (
                f"Partly: {label} is critical in this job, but it is not the largest gap"
                f"{numbers}. {focus_reading(step)}"
            )
        else:
            earned = 0.0
            verdict = (
                f"Not {label}: it is not a critical task for a "
                f"{scenario.situation.label.lower()}. {focus_reading(step)}"
            )
        criteria.append(
            CriterionResult(
                id="focus",
                label="Chooses the critical task with the largest gap",
                status="met" if earned >= focus_points else ("partial" if earned > 0 else "missed"),
                points=earned,
                max_points=focus_points,
                evidence=(Evidence(text=option.label, source=f"option:{picked}"),),
                feedback=verdict,
            )
        )
        messages.append(verdict)
        if option.feedback:
            messages.append(option.feedback)

        relevant = {item_id for item_id, (_, tasks) in items.items() if focus in tasks}
        credit = evidence_credit(set(cited), relevant, len(items))
        missed = [items[i][0] for i in items if i in relevant and i not in cited]
        wrong = [items[i][0] for i in cited if i not in relevant]
        if credit >= 1 - 1e-9:
            evidence_feedback = "Your evidence is exactly the data that shows the gap."
        elif len(cited) == len(items):
            evidence_feedback = (
                "Citing every exhibit earns no evidence credit: pick the data that shows the gap."
            )
        else:
            parts = []
            if missed:
                parts.append("also shows the gap: " + " | ".join(missed))
            if wrong:
                parts.append("not evidence for this focus: " + " | ".join(wrong))
            evidence_feedback = "Evidence - " + "; ".join(parts) if parts else "No evidence cited."
        criteria.append(
            CriterionResult(
                id="evidence",
                label="Cites the data that shows the gap, and only that",
                status="met" if credit >= 1 - 1e-9 else ("partial" if credit > 0 else "missed"),
                points=evidence_points * credit,
                max_points=evidence_points,
                evidence=tuple(Evidence(text=items[c][0], source=f"evidence:{c}") for c in cited),
                feedback=evidence_feedback,
            )
        )
        messages.append(evidence_feedback)
        messages.append(s.feedback)
        messages.append(scenario.derivation.explanation)
        return build_result(step, self.name, self.version, criteria, messages)

    @staticmethod
    def _task_of(step: BoundStep, option: Option) -> TaskId | None:
        """The task an option stands for; options without one are right only when keyed."""
        if option.task is not None:
            return option.task
        if step.step.key and option.id == step.step.key[0]:
            return step.scenario.derivation.focus
        if not step.step.key and not any(o.task for o in step.step.options):
            raise StepConfigError(
                f"step {step.step.id!r}: focus options need a task or the step a key"
            )
        return None
