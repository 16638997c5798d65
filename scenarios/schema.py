"""The authored file format as pydantic v2 models (validated on load, then converted to
the frozen dataclasses of scenarios.model).

Models forbid unknown fields and are strict about types (a YAML `yes` is not a label, a
quoted "0.2" is not a weight), so authors hear about a typo instead of silently losing data.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

GRADER_NAMES: tuple[str, ...] = (
    "single_choice",
    "multi_select",
    "ranking",
    "coaching_focus",
    "coaching_plan",
)
"""The graders a step may name. The one list: graders.registry registers exactly these."""

ID_PATTERN = r"^[a-z0-9][a-z0-9_\-]*$"
Identifier = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
Text = Annotated[str, StringConstraints(min_length=1)]
Scalar = str | int | float


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


class TaskModel(_Strict):
    """One entry of tasks.yaml."""

    id: Identifier
    label: Text
    description: str = ""
    synonyms: list[str] = []


class SituationModel(_Strict):
    """One entry of situations.yaml."""

    id: Identifier
    label: Text
    description: str = ""
    critical_tasks: dict[str, float] = Field(min_length=1)

    @field_validator("critical_tasks")
    @classmethod
    def _weights_positive(cls, value: dict[str, float]) -> dict[str, float]:
        for task, weight in value.items():
            if not math.isfinite(weight) or weight <= 0:
                raise ValueError(f"weight of {task} must be a number above 0")
        return value


class MetricModel(_Strict):
    """A measured value against a benchmark, evidencing one task."""

    id: Identifier
    task: str
    label: Text
    value: float
    benchmark: float = Field(gt=0)
    unit: str = ""
    higher_is_better: bool = True

    _check_value = field_validator("value", "benchmark")(_finite)


class NoteModel(_Strict):
    """A call note, email, CRM comment or observation."""

    id: Identifier
    kind: Text
    text: Text
    tasks: list[str] = []
    author: str = ""


class SellerModel(_Strict):
    """The seller profile."""

    name: Text
    role: Text
    facts: dict[str, Scalar] = {}
    metrics: list[MetricModel] = Field(min_length=1)
    notes: list[NoteModel] = []


class OptionModel(_Strict):
    """One option of a choice, ranking or focus step."""

    id: Identifier
    label: Text
    task: str | None = None
    feedback: str = ""


class CriterionModel(_Strict):
    """One rubric criterion (free-text steps)."""

    id: Identifier
    label: Text
    points: float = Field(gt=0)
    feedback_met: str = ""
    feedback_missed: str = ""


class RubricModel(_Strict):
    """The word lists a coaching_plan grader reads."""

    situation_terms: list[Text] = Field(min_length=1)
    actions: list[Text] = Field(min_length=1)
    takeover_patterns: list[Text] = Field(min_length=1)


class StepModel(_Strict):
    """One step as authored."""

    id: Identifier
    title: Text
    grader: str
    weight: float = Field(gt=0, le=1)
    prompt: Text
    options: list[OptionModel] = []
    key: list[str] | None = None
    criteria: list[CriterionModel] = []
    rubric: RubricModel | None = None
    config: dict[str, Any] = {}
    feedback: str = ""


class ScenarioModel(_Strict):
    """A scenario file's front matter."""

    id: Identifier
    title: Text
    version: Annotated[str, StringConstraints(min_length=1)] | int
    summary: Text
    situation: str
    focus: str
    estimated_minutes: int = Field(default=15, gt=0, le=240)
    parameters: dict[str, Any] = {}
    seller: SellerModel
    steps: list[StepModel] = Field(min_length=1)


class LessonModel(_Strict):
    """A lesson file's front matter."""

    id: Identifier
    title: Text
    summary: Text
    duration_minutes: int = Field(gt=0, le=600)
    order: int
    scenarios: list[str] = []


def _type_name(value: object) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the text {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if value is None:
        return "nothing (null)"
    return type(value).__name__


def _allowed_fields(model: type[BaseModel], loc: tuple[str | int, ...]) -> list[str] | None:
    """The fields allowed where `loc` points (best effort, for 'unknown field' messages)."""
    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        info = current.model_fields.get(part)
        if info is None:
            return None
        current = _model_in(info.annotation)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return None


def _model_in(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def describe_error(error: Mapping[str, Any], model: type[BaseModel]) -> str:
    """A pydantic error as a sentence that says what is wrong and what to do."""
    kind = error["type"]
    loc = tuple(error["loc"])
    value = error.get("input")
    if kind == "missing":
        return f"missing required field '{loc[-1]}'"
    if kind == "extra_forbidden":
        allowed = _allowed_fields(model, loc)
        hint = f"; allowed: {', '.join(allowed)}" if allowed else "; remove it"
        return f"unknown field '{loc[-1]}'{hint}"
    if kind == "string_type":
        if isinstance(value, bool):
            return (
                "expected text, got true/false: YAML reads yes/no/on/off/true/false as "
                "booleans; put the value in quotes"
            )
        return f"expected text, got {_type_name(value)}"
    if kind in ("float_type", "int_type", "float_parsing", "int_parsing", "int_from_float"):
        wanted = "a whole number" if kind.startswith("int") else "a number"
        return f"expected {wanted}, got {_type_name(value)}"
    if kind == "bool_type":
        return f"expected true or false, got {_type_name(value)}"
    if kind in ("list_type", "tuple_type"):
        return f"expected a list, got {_type_name(value)}"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"expected a mapping of fields, got {_type_name(value)}"
    if kind == "string_pattern_mismatch":
        return (
            f"{value!r} is not a valid id: use lower-case letters, digits, '-' and '_', "
            "starting with a letter or digit"
        )
    if kind == "too_short":
        if isinstance(value, str):
            return "must not be empty"
        return f"needs at least {error.get('ctx', {}).get('min_length', 1)} entries"
    message = str(error["msg"])
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    message = message[:1].lower() + message[1:]
    if message.startswith("input should be "):
        message = "must be " + message[len("input should be ") :]
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        message += f" (got {value!r})"
    return message
