"""Graders for choice steps: one right option (single_choice) or several (multi_select)."""

from __future__ import annotations

from graders.base import BoundStep, StepConfigError
from graders.common import build_result, options_by_id, require_id_list, require_option_id
from graders.result import CriterionResult, Evidence, StepResult
from scenarios.model import Step


def _key(step: Step) -> frozenset[str]:
    """The step's correct option ids, checked against its options."""
    if not step.key:
        raise StepConfigError(f"step {step.id!r}: a choice step needs a key (correct option ids)")
    known = options_by_id(step)
    unknown = [k for k in step.key if k not in known]
    if unknown:
        raise StepConfigError(
            f"step {step.id!r}: key names unknown options {unknown}; options: {sorted(known)}"
        )
    return frozenset(step.key)


class SingleChoiceGrader:
    """Full credit for a key option, none otherwise."""

    name = "single_choice"
    version = "1.0.0"

    def grade(self, step: BoundStep, response: object) -> StepResult:
        """Score one picked option id against the step key."""
        s = step.step
        picked = require_option_id(s, response)
        key = _key(s)
        option = options_by_id(s)[picked]
        right = picked in key
        correct_labels = [o.label for o in s.options if o.id in key]
        criterion = CriterionResult(
            id="choice",
            label="Picks the right answer",
            status="met" if right else "missed",
            points=1.0 if right else 0.0,
            max_points=1.0,
            evidence=(Evidence(text=option.label, source=f"option:{picked}"),),
            feedback=option.feedback,
        )
        verdict = (
            "Right." if right else f"Not quite: the answer is {' / '.join(correct_labels)}."
        )
        return build_result(
            step, self.name, self.version, [criterion], [verdict, option.feedback, s.feedback]
        )


class MultiSelectGrader:
    """Partial credit for several right options; wrong picks cancel right ones.

    Rule: score = max(0, (correct picked - wrong picked) / number of correct options).
    It never goes below 0, and picking every option never earns full credit: a step must have
    at least one wrong option (W >= 1), so picking all C correct and all W wrong options scores
    (C - W) / C <= (C - 1) / C < 1.
    """

    name = "multi_select"
    version = "1.0.0"

    def grade(self, step: BoundStep, response: object) -> StepResult:
        """Score a list of picked option ids."""
        s = step.step
        ids = [o.id for o in s.options]
        picked = require_id_list(s, response, ids, "the picked options")
        key = _key(s)
        if len(key) >= len(ids):
            raise StepConfigError(
                f"step {s.id!r}: a multi_select step needs at least one wrong option; "
                "otherwise picking everything would be the answer"
            )
        by_id = options_by_id(s)
        right = [p for p in picked if p in key]
        wrong = [p for p in picked if p not in key]
        missed = [o.id for o in s.options if o.id in key and o.id not in picked]
        credit = max(0.0, (len(right) - len(wrong)) / len(key))
        criteria = [
            CriterionResult(
                id="selection",
                label="Picks the right options and only those",
                status="met" if credit >= 1 else ("partial" if credit > 0 else "missed"),
                points=credit,
                max_points=1.0,
                evidence=tuple(
                    Evidence(text=by_id[p].label, source=f"option:{p}") for p in picked
                ),
                feedback=(
                    f"{len(right)} of {len(key)} right options picked, {len(wrong)} wrong "
                    "option(s) picked; each wrong pick cancels a right one."
                ),
            )
        ]
        messages = [criteria[0].feedback]
        messages += [f"{by_id[p].label}: {by_id[p].feedback}" for p in wrong if by_id[p].feedback]
        messages += [
            f"Missed: {by_id[m].label}" + (f" - {by_id[m].feedback}" if by_id[m].feedback else "")
            for m in missed
        ]
        messages.append(s.feedback)
        return build_result(step, self.name, self.version, criteria, messages)


