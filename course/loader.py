"""Load lesson files (course/lessons/*.md): YAML front matter plus a Markdown body."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from course.errors import CourseError
from course.model import Module
from scenarios.errors import ScenarioError
from scenarios.markdown import check_tables
from scenarios.schema import LessonModel, describe_error
from scenarios.source import format_path, line_for, parse_yaml, read_text, split_front_matter


def _as_course_errors(exc: ScenarioError) -> CourseError:
    problems = tuple(CourseError(p.source, p.field, p.message, p.line) for p in exc.problems)
    first = problems[0]
    return CourseError(first.source, first.field, first.message, first.line, problems=problems)


def load_lesson_file(path: Path, source: str | None = None) -> Module:
    """Load one lesson file.

    Raises:
        CourseError: the file is invalid; `.problems` lists everything found.
    """
    name = str(path) if source is None else source
    try:
        _, text = read_text(Path(path), name)
        parts = split_front_matter(text, name)
        document = parse_yaml(parts.front_matter, name, first_line=2)
    except ScenarioError as exc:
        raise _as_course_errors(exc) from exc
    problems: list[CourseError] = []
    if not isinstance(document.data, dict):
        raise CourseError(name, "", "the front matter must be a mapping of fields", 2)
    try:
        model = LessonModel.model_validate(document.data)
    except ValidationError as exc:
        for error in exc.errors():
            loc = tuple(error["loc"])
            problems.append(
                CourseError(
                    name,
                    format_path(loc),
                    describe_error(error, LessonModel),
                    line_for(document.lines, loc),
                )
            )
        raise CourseError(
            problems[0].source,
            problems[0].field,
            problems[0].message,
            problems[0].line,
            problems=tuple(problems),
        ) from exc
    for found in check_tables(parts.body, "body"):
        problems.append(
            CourseError(name, found.field, found.message, parts.body_line + found.line - 1)
        )
    if not parts.body.strip():
        problems.append(
            CourseError(name, "body", "the lesson has no text; write it below the front matter")
        )
    if problems:
        raise CourseError(
            problems[0].source,
            problems[0].field,
            problems[0].message,
            problems[0].line,
            problems=tuple(problems),
        )
    return Module(
        id=model.id,
        title=model.title,
        summary=model.summary,
        duration_minutes=model.duration_minutes,
        scenarios=tuple(model.scenarios),
        markdown=parts.body.strip("\n"),
        order=model.order,
        source=name,
    )
