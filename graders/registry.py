"""The grader registry: scenario files name graders; this maps each name to its grader.

Adding a grader is one module with a class that has `name`, `version` and `grade`, plus one
line in `GRADERS` below.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from graders.base import Grader, GradingError
from graders.choice import MultiSelectGrader, SingleChoiceGrader
from graders.focus import CoachingFocusGrader
from graders.ranking import RankingGrader
from graders.rubric import CoachingPlanGrader


class UnknownGraderError(GradingError, KeyError):
    """A scenario or caller named a grader that is not registered."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown grader"


_GRADERS: dict[str, Grader] = {
    grader.name: grader
    for grader in (
        SingleChoiceGrader(),
        MultiSelectGrader(),
        RankingGrader(),
        CoachingFocusGrader(),
        CoachingPlanGrader(),
    )
}

GRADERS: Mapping[str, Grader] = MappingProxyType(_GRADERS)
"""Grader name -> grader instance (read-only)."""


def get_grader(name: str) -> Grader:
    """The grader registered under `name`; the error lists the known names."""
    try:
        return GRADERS[name]
    except KeyError:
        known = ", ".join(sorted(GRADERS))
        raise UnknownGraderError(f"unknown grader {name!r}; known graders: {known}") from None
