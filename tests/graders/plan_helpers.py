"""What the coaching_plan tests share: grading a plan for the fixture seller, the 0/1/2 label
a score maps to (as bench/grader_validity.py maps it), a criterion's status, the mentions of
one task the analysis found, and one concrete, seller-specific coaching session to complete a
plan with."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graders.base import BoundStep
from graders.result import StepResult
from graders.rubric import CoachingPlanGrader, analyse

Bound = Callable[[str], BoundStep]

SESSION = (
    "On Monday we tier her 300 accounts together and she drafts a touch plan for the C "
    "accounts; every Friday she shows me which of them she reached."
)


def grade(bound: Bound, text: str) -> StepResult:
    return CoachingPlanGrader().grade(bound("plan"), text)


def label(result: StepResult) -> int:
    return 0 if result.score < 0.4 else (1 if result.score < 0.8 else 2)


def criterion(result: StepResult, cid: str) -> str:
    return next(c.status for c in result.criteria if c.id == cid)


def mentions_of(bound: Bound, text: str, task: str) -> list[Any]:
    """The mentions of `task` in the plan's analysis (negated, praised and so on)."""
    return [m for m in analyse(bound("plan"), text).mentions if m.task == task]
