"""The base error of the course package."""

from __future__ import annotations

from scenarios.errors import ScenarioError


class CourseError(ScenarioError):
    """A lesson file is invalid (the author's fault). It is a content error like ScenarioError,
    with the same source, field, line and message, so one handler reports both."""
