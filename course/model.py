"""Course modules: a Markdown lesson plus the scenarios that practise it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Module:
    """A lesson and its practice scenarios: the unit an admin places in a course."""

    id: str
    title: str
    summary: str
    duration_minutes: int
    scenarios: tuple[str, ...]
    """Ids of the scenarios that practise the lesson, in authored order."""
    markdown: str
    """The lesson body (render it with scenarios.markdown.render)."""
    order: int
    """Position in the catalogue (lower first)."""
    source: str = ""
    """Where it was loaded from (for messages)."""
