"""What a grader returns: a score with the criteria, evidence and feedback behind every point."""

from __future__ import annotations

from collections.abc import Mapping
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

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready dict."""
        return {"text": self.text, "start": self.start, "end": self.end, "source": self.source}


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

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready dict."""
        return {
            "id": self.id,
            "label": self.label,
            "status": self.status,
            "points": self.points,
            "max_points": self.max_points,
            "evidence": [e.as_dict() for e in self.evidence],
            "feedback": self.feedback,
        }


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

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready dict (for the CLI, the web app and stored results)."""
        return {
            "score": self.score,
            "criteria": [c.as_dict() for c in self.criteria],
            "feedback": list(self.feedback),
            "confidence": self.confidence,
            "needs_review": self.needs_review,
            "grader": self.grader,
            "grader_version": self.grader_version,
        }


@dataclass(frozen=True)
class AttemptResult:
    """The verdict on a whole attempt: the weighted sum of its steps."""

    score: float
    """In [0, 1]: sum of step score x step weight over the total weight."""
    steps: Mapping[str, StepResult]
    """Per step id, in scenario order."""
    needs_review: bool
    """True when any step needs an instructor's review."""

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready dict."""
        return {
            "score": self.score,
            "needs_review": self.needs_review,
            "steps": {step_id: r.as_dict() for step_id, r in self.steps.items()},
        }
