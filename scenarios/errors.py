"""The one base error of the scenarios package: a content problem with file, field and line."""

from __future__ import annotations


class ScenarioError(Exception):
    """A scenario, situation or task file is invalid (the author's fault: fix the file)."""

    def __init__(
        self,
        source: str,
        field: str,
        message: str,
        line: int | None = None,
        problems: tuple[ScenarioError, ...] = (),
    ) -> None:
        self.source = source
        """The file the problem is in (as given to the loader)."""
        self.field = field
        """Dotted field path such as ``steps[2].options[0].task`` ('' for the whole file)."""
        self.line = line
        """1-based line in the file, when known."""
        self.message = message
        """What is wrong and what to do."""
        self.problems: tuple[ScenarioError, ...] = problems or (self,)
        """Every problem found in the same file (this one first); loaders raise the first."""
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.source if self.line is None else f"{self.source}:{self.line}"
        if self.field:
            return f"{where}: {self.field}: {self.message}"
        return f"{where}: {self.message}"

    def __repr__(self) -> str:
        return f"ScenarioError({str(self)!r})"

    def __reduce__(self) -> tuple[object, ...]:
        # Keep errors picklable (they cross process boundaries in test runners and caches).
        return (ScenarioError, (self.source, self.field, self.message, self.line))


def raise_all(problems: list[ScenarioError]) -> None:
    """Raise the first problem (by line) carrying all of them, when there are any."""
    if not problems:
        return
    ordered = sorted(problems, key=lambda p: (p.source, p.line or 0))
    first = ordered[0]
    raise ScenarioError(
        first.source, first.field, first.message, first.line, problems=tuple(ordered)
    )
