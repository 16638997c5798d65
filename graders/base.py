"""The grader contract: a pure function of a step (bound to its scenario) and a response."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from graders.result import StepResult
from scenarios.model import Scenario, Step, TaskCatalogue


class GradingError(Exception):
    """Base error of the graders package."""


class ResponseError(GradingError):
    """The response does not have the shape this step expects (the caller's fault: 4xx)."""


class StepConfigError(GradingError):
    """The step definition cannot be graded as written (the content's fault, not the learner's)."""


@dataclass(frozen=True)
class BoundStep:
    """A step together with the scenario and task catalogue it is graded against."""

    step: Step
    scenario: Scenario
    catalogue: TaskCatalogue


class Grader(Protocol):
    """A named, versioned, deterministic scoring function."""

    name: str
    version: str

    def grade(self, step: BoundStep, response: object) -> StepResult:
        """Score `response` to `step`; never raises on hostile text (raises ResponseError on
        a response of the wrong shape)."""
        ...
