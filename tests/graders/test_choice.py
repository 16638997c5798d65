"""single_choice and multi_select: the scoring rules and every failure path."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from graders.base import BoundStep, ResponseError, StepConfigError
from graders.choice import MultiSelectGrader, SingleChoiceGrader

Bound = Callable[[str], BoundStep]


def test_single_choice_right_answer_scores_one_with_its_feedback(bound: Bound) -> None:
    result = SingleChoiceGrader().grade(bound("situation"), "territory")
    assert result.score == 1.0
    assert result.criteria[0].status == "met"
    assert "Right, coverage job." in result.feedback
    assert "The facts decide the job." in result.feedback
    assert (result.grader, result.grader_version) == ("single_choice", "1.0.0")
    assert not result.needs_review


def test_single_choice_wrong_answer_scores_zero_and_names_the_answer(bound: Bound) -> None:
    result = SingleChoiceGrader().grade(bound("situation"), "global")
    assert result.score == 0.0
    assert result.criteria[0].status == "missed"
    assert any("High-volume territory seller" in m for m in result.feedback)
    assert "Her job is a territory job." in result.feedback


@pytest.mark.parametrize(
    ("response", "message"),
    [
        (["territory"], "must be an option id"),
        (None, "must be an option id"),
        ("nope", "unknown option 'nope'"),
    ],
)
def test_single_choice_rejects_wrong_shapes(bound: Bound, response: object, message: str) -> None:
    with pytest.raises(ResponseError, match=message) as info:
        SingleChoiceGrader().grade(bound("situation"), response)
    assert "'territory'" in str(info.value)  # the message lists the options


def test_single_choice_step_without_key_is_a_content_error(bound: Bound) -> None:
    step = bound("situation")
    broken = replace(step, step=replace(step.step, key=()))
    with pytest.raises(StepConfigError, match="needs a key"):
        SingleChoiceGrader().grade(broken, "territory")


@pytest.mark.parametrize(
    ("picked", "expected"),
    [
        (["touched", "time", "leads"], 1.0),
        (["touched", "time"], 2 / 3),
        (["touched"], 1 / 3),
        (["touched", "time", "discount"], 1 / 3),
        (["touched", "discount"], 0.0),
        (["touched", "discount", "forecast"], 0.0),  # never below zero
        ([], 0.0),
        (["touched", "time", "leads", "discount", "forecast"], 1 / 3),  # everything
    ],
)
def test_multi_select_rule(bound: Bound, picked: list[str], expected: float) -> None:
    result = MultiSelectGrader().grade(bound("signals"), picked)
    assert result.score == pytest.approx(expected, abs=1e-6)


def test_multi_select_wrong_pick_shows_its_feedback_and_missed_options(bound: Bound) -> None:
    result = MultiSelectGrader().grade(bound("signals"), ["touched", "discount"])
    assert any("That is a strength." in m for m in result.feedback)
    assert any(m.startswith("Missed: 64% of time on 20 accounts") for m in result.feedback)
    assert result.criteria[0].status == "missed"


@pytest.mark.parametrize(
    ("response", "message"),
    [
        ("touched", "must be a list"),
        (["touched", "touched"], "appears twice"),
        (["touched", "zzz"], "unknown id 'zzz'"),
        ([1], "must hold strings"),
    ],
)
def test_multi_select_rejects_wrong_shapes(bound: Bound, response: object, message: str) -> None:
    with pytest.raises(ResponseError, match=message):
        MultiSelectGrader().grade(bound("signals"), response)


def test_multi_select_without_a_wrong_option_is_a_content_error(bound: Bound) -> None:
    step = bound("signals")
    all_right = replace(step, step=replace(step.step, key=tuple(o.id for o in step.step.options)))
    with pytest.raises(StepConfigError, match="at least one wrong option"):
        MultiSelectGrader().grade(all_right, ["touched"])
