"""What a grader returns: a score with the criteria, evidence and feedback behind every point."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Status = Literal["met", "partial", "missed"]


@dataclass(frozen=True)
class Evidence:
    """What the grader found, and where: for text answers, a character span of the response."""

    text: str
    start: int | None = None
    """Offset of the span in the learner's response (None when not textual)."""
    end: int | None = None
    source: str = "response"
    """'response' for the learner's words; otherwise what was compared (an option id...)."""


@dataclass(frozen=True)
class CriterionResult:
    """One criterion's verdict: every point is traceable to one of these."""

    id: str
    label: str
    status: Status
    points: float
    max_points: float
    evidence: tuple[Evidence, ...] = ()
    feedback: str = ""


@dataclass(frozen=True)
class StepResult:
    """A grader's verdict on one step response."""

    score: float
    """In [0, 1]."""
    criteria: tuple[CriterionResult, ...]
    feedback: tuple[str, ...]
    """Messages for the learner, most important first."""
    confidence: float
    """In [0, 1]; below the review threshold the step goes to the instructor."""
    needs_review: bool
    grader: str
    grader_version: str
