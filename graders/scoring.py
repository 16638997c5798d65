"""Grading a step or a whole attempt of a scenario, and combining several attempts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

from graders.base import BoundStep, GradingError, ResponseError
from graders.registry import get_grader
from graders.result import AttemptResult, CriterionResult, StepResult
from scenarios.model import Scenario, TaskCatalogue

Policy = Literal["best", "last", "mean"]

__all__ = ["AttemptResult", "Policy", "combine_attempts", "grade_attempt", "grade_step"]


def grade_step(
    scenario: Scenario, step_id: str, response: object, catalogue: TaskCatalogue
) -> StepResult:
    """Grade one step's response with the grader the step names.

    Raises:
        ResponseError: the step does not exist or the response has the wrong shape.
        GradingError: the step names an unknown grader or cannot be graded as written.
    """
    try:
        step = scenario.step(step_id)
    except KeyError as e:
        raise ResponseError(str(e.args[0])) from None
    grader = get_grader(step.grader)
    return grader.grade(BoundStep(step=step, scenario=scenario, catalogue=catalogue), response)


def _unanswered(scenario: Scenario, step_id: str) -> StepResult:
    """A zero result for a step the learner did not answer."""
    step = scenario.step(step_id)
    grader = get_grader(step.grader)
    return StepResult(
        score=0.0,
        criteria=(
            CriterionResult(
                id="answered",
                label="Answers the step",
                status="missed",
                points=0.0,
                max_points=1.0,
                feedback="This step was not answered.",
            ),
        ),
        feedback=("This step was not answered.", step.feedback),
        confidence=1.0,
        needs_review=False,
        grader=grader.name,
        grader_version=grader.version,
    )


def grade_attempt(
    scenario: Scenario, responses: Mapping[str, object], catalogue: TaskCatalogue
) -> AttemptResult:
    """Grade every step; the score is the weight-averaged step score (unanswered steps 0).

    Raises:
        ResponseError: a response names a step the scenario does not have, or has the wrong
            shape.
    """
    known = {s.id for s in scenario.steps}
    unknown = sorted(set(responses) - known)
    if unknown:
        raise ResponseError(
            f"scenario {scenario.id!r} has no step(s) {unknown}; steps: "
            + ", ".join(s.id for s in scenario.steps)
        )
    results: dict[str, StepResult] = {}
    for step in scenario.steps:
        if step.id in responses:
            results[step.id] = grade_step(scenario, step.id, responses[step.id], catalogue)
        else:
            results[step.id] = _unanswered(scenario, step.id)
    total = sum(max(0.0, s.weight) for s in scenario.steps)
    if total <= 0:
        raise GradingError(f"scenario {scenario.id!r}: step weights sum to 0")
    score = sum(results[s.id].score * max(0.0, s.weight) for s in scenario.steps) / total
    return AttemptResult(
        score=round(min(1.0, max(0.0, score)), 6),
        steps=results,
        needs_review=any(r.needs_review for r in results.values()),
    )


def combine_attempts(scores: Sequence[float], policy: Policy) -> float:
    """The score that counts across attempts: the best, the last, or the mean.

    Raises:
        GradingError: no scores, a score outside [0, 1], or an unknown policy.
    """
    if not scores:
        raise GradingError("combine_attempts needs at least one attempt score")
    for value in scores:
        if not 0.0 <= value <= 1.0:
            raise GradingError(f"attempt score {value!r} is outside [0, 1]")
    if policy == "best":
        return max(scores)
    if policy == "last":
        return scores[-1]
    if policy == "mean":
        return sum(scores) / len(scores)
    raise GradingError(f"unknown attempt policy {policy!r}; use best, last or mean")
