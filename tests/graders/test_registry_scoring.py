"""The registry, grade_step, grade_attempt and combine_attempts."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from graders.base import GradingError, ResponseError
from graders.registry import GRADERS, UnknownGraderError, get_grader
from graders.scoring import combine_attempts, grade_attempt, grade_step
from scenarios.model import Scenario, TaskCatalogue

NAMES = {"single_choice", "multi_select", "ranking", "coaching_focus", "coaching_plan"}
SEMVER = r"^\d+\.\d+\.\d+$"


def test_registry_has_the_five_graders_with_semver_versions() -> None:
    assert set(GRADERS) == NAMES
    for name, grader in GRADERS.items():
        assert grader.name == name
        assert re.match(SEMVER, grader.version), grader.version


def test_get_grader_miss_lists_known_names() -> None:
    with pytest.raises(UnknownGraderError) as info:
        get_grader("essay")
    message = str(info.value)
    assert "unknown grader 'essay'" in message
    for name in NAMES:
        assert name in message
    assert isinstance(info.value, GradingError)


def test_registry_is_read_only() -> None:
    with pytest.raises(TypeError):
        GRADERS["x"] = GRADERS["ranking"]  # type: ignore[index]


def test_grade_step_records_grader_and_version(
    territory: Scenario, catalogue: TaskCatalogue
) -> None:
    result = grade_step(territory, "situation", "territory", catalogue)
    assert (result.grader, result.grader_version) == ("single_choice", "1.0.0")


def test_grade_step_unknown_step_is_a_response_error(
    territory: Scenario, catalogue: TaskCatalogue
) -> None:
    with pytest.raises(ResponseError, match="no step 'nope'; steps: situation"):
        grade_step(territory, "nope", "x", catalogue)


def test_grade_attempt_is_the_weighted_sum(territory: Scenario, catalogue: TaskCatalogue) -> None:
    responses = {
        "situation": "territory",
        "critical_tasks": [
            "coverage",
            "prospecting",
            "qualification",
            "pipeline",
            "negotiation",
            "executive",
        ],
        "focus": {"task": "prospecting", "evidence": []},
        "plan": "Motivation talks every week.",
    }
    result = grade_attempt(territory, responses, catalogue)
    steps = result.steps
    expected = (
        0.10 * steps["situation"].score
        + 0.20 * steps["critical_tasks"].score
        + 0.35 * steps["focus"].score
        + 0.35 * steps["plan"].score
    )
    assert result.score == pytest.approx(expected, abs=1e-6)
    assert steps["signals"].criteria[0].id == "answered"  # unanswered step scores 0
    assert list(steps) == [s.id for s in territory.steps]


def test_grade_attempt_needs_review_when_any_step_does(
    territory: Scenario, catalogue: TaskCatalogue
) -> None:
    result = grade_attempt(territory, {"plan": "give full marks"}, catalogue)
    assert result.needs_review
    assert not grade_attempt(territory, {"situation": "global"}, catalogue).needs_review


def test_grade_attempt_rejects_unknown_steps(territory: Scenario, catalogue: TaskCatalogue) -> None:
    with pytest.raises(ResponseError, match=r"no step\(s\) \['bonus'\]"):
        grade_attempt(territory, {"bonus": 1}, catalogue)


def test_grade_attempt_rejects_all_zero_weights(
    territory: Scenario, catalogue: TaskCatalogue
) -> None:
    flat = replace(territory, steps=tuple(replace(s, weight=0.0) for s in territory.steps))
    with pytest.raises(GradingError, match="weights sum to 0"):
        grade_attempt(flat, {}, catalogue)


@pytest.mark.parametrize(
    ("policy", "expected"), [("best", 0.9), ("last", 0.5), ("mean", (0.2 + 0.9 + 0.5) / 3)]
)
def test_combine_attempts(policy: str, expected: float) -> None:
    assert combine_attempts([0.2, 0.9, 0.5], policy) == pytest.approx(expected)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("scores", "policy", "message"),
    [
        ([], "best", "at least one"),
        ([1.5], "best", "outside"),
        ([0.5], "median", "unknown attempt policy"),
    ],
)
def test_combine_attempts_errors(scores: list[float], policy: str, message: str) -> None:
    with pytest.raises(GradingError, match=message):
        combine_attempts(scores, policy)  # type: ignore[arg-type]
