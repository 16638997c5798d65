"""ranking: weighted Kendall tau against the derived criticality, ties handled."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from graders.base import BoundStep, ResponseError
from graders.ranking import RankingGrader, option_weights, weighted_tau_score

Bound = Callable[[str], BoundStep]
KEY = ["coverage", "prospecting", "qualification", "pipeline", "negotiation", "executive"]


def test_weights_come_from_the_situation_and_non_critical_options_tie_at_zero(
    bound: Bound,
) -> None:
    weights = option_weights(bound("critical_tasks"))
    assert weights["coverage"] == 0.35
    assert weights["negotiation"] == weights["executive"] == 0.0


def test_key_order_scores_one_and_its_reverse_zero(bound: Bound) -> None:
    grader = RankingGrader()
    assert grader.grade(bound("critical_tasks"), KEY).score == 1.0
    assert grader.grade(bound("critical_tasks"), KEY[::-1]).score == 0.0


@pytest.mark.parametrize(
    "order",
    [
        ["coverage", "qualification", "prospecting", "pipeline", "negotiation", "executive"],
        ["coverage", "prospecting", "qualification", "pipeline", "executive", "negotiation"],
        ["coverage", "qualification", "prospecting", "pipeline", "executive", "negotiation"],
    ],
)
def test_any_order_among_tied_items_is_correct(bound: Bound, order: list[str]) -> None:
    result = RankingGrader().grade(bound("critical_tasks"), order)
    assert result.score == 1.0
    assert result.criteria[0].evidence == ()


def test_swapping_the_top_costs_more_than_swapping_near_equals(bound: Bound) -> None:
    grader = RankingGrader()
    top_swap = ["executive", "prospecting", "qualification", "pipeline", "negotiation", "coverage"]
    near_swap = ["coverage", "prospecting", "pipeline", "qualification", "negotiation", "executive"]
    top = grader.grade(bound("critical_tasks"), top_swap)
    near = grader.grade(bound("critical_tasks"), near_swap)
    assert 0 < top.score < near.score < 1
    assert near.criteria[0].status == "partial"
    assert [e.source for e in near.criteria[0].evidence] == ["pair:pipeline>qualification"]


def test_weighted_tau_by_hand() -> None:
    weights = {"a": 3.0, "b": 2.0, "c": 0.0}
    # pairs: a-b 1, a-c 3, b-c 2 -> total 6; answer b, a, c discords only a-b (1)
    score, discordant = weighted_tau_score(["b", "a", "c"], weights)
    assert score == pytest.approx(1 - 1 / 6)
    assert discordant == [("b", "a")]


def test_feedback_teaches_the_order_and_the_biggest_miss(bound: Bound) -> None:
    order = ["negotiation", "coverage", "prospecting", "qualification", "pipeline", "executive"]
    result = RankingGrader().grade(bound("critical_tasks"), order)
    text = " ".join(result.feedback)
    assert "Account prioritisation and coverage planning (0.35)" in text
    assert "not critical here" in text
    assert "Biggest miss: you put Negotiation above" in text
    assert "Coverage comes first in a territory job." in text


@pytest.mark.parametrize(
    ("response", "message"),
    [
        (KEY[:-1], "missing: \\['executive'\\]"),
        ("coverage", "must be a list"),
        ([*KEY[:-1], "coverage"], "appears twice"),
        ([*KEY[:-1], "ceo"], "unknown id 'ceo'"),
    ],
)
def test_ranking_rejects_wrong_shapes(bound: Bound, response: object, message: str) -> None:
    with pytest.raises(ResponseError, match=message):
        RankingGrader().grade(bound("critical_tasks"), response)
