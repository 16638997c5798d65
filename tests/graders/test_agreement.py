"""Agreement statistics checked against values computed by hand."""

from __future__ import annotations

import math

import pytest

from graders.agreement import (
    adjacent_agreement,
    confusion_matrix,
    exact_agreement,
    quadratic_weighted_kappa,
    score_to_label,
    standardised_mean_difference,
)


def test_qwk_hand_computed() -> None:
    # Weights (i-j)^2/4; observed disagreement 0.25 + 0.25 = 0.5; expected 5.5 / 4 = 1.375.
    assert quadratic_weighted_kappa([0, 1, 2, 2], [0, 2, 2, 1]) == pytest.approx(7 / 11)


def test_qwk_identical_ratings_is_one() -> None:
    assert quadratic_weighted_kappa([0, 1, 2, 1, 0], [0, 1, 2, 1, 0]) == 1.0


def test_qwk_identical_constant_ratings_is_one_not_undefined() -> None:
    assert quadratic_weighted_kappa([2, 2, 2], [2, 2, 2]) == 1.0


def test_qwk_one_constant_rater_is_zero() -> None:
    # Observed equals chance when one rater never varies.
    assert quadratic_weighted_kappa([1, 1, 1], [0, 1, 2]) == pytest.approx(0.0)


def test_qwk_complete_reversal_is_minus_one() -> None:
    assert quadratic_weighted_kappa([0, 2], [2, 0]) == pytest.approx(-1.0)


def test_qwk_weights_distance_quadratically() -> None:
    off_by_one = quadratic_weighted_kappa([0, 1, 2, 0, 1, 2], [1, 1, 2, 0, 1, 2])
    off_by_two = quadratic_weighted_kappa([0, 1, 2, 0, 1, 2], [2, 1, 2, 0, 1, 2])
    assert off_by_two < off_by_one < 1.0


def test_qwk_custom_categories() -> None:
    assert quadratic_weighted_kappa([1, 2], [2, 1], categories=(1, 2)) == pytest.approx(-1.0)


def test_exact_and_adjacent_agreement() -> None:
    assert exact_agreement([0, 1, 2, 2], [0, 2, 2, 1]) == 0.5
    assert adjacent_agreement([0, 1, 2, 2], [0, 2, 2, 1]) == 1.0
    assert adjacent_agreement([0, 0, 1, 2], [2, 0, 1, 2]) == 0.75


def test_smd_hand_computed() -> None:
    # Means 0.5 and 1.5; both sample variances 1/3; pooled SD sqrt(1/3).
    assert standardised_mean_difference([0, 0, 1, 1], [1, 1, 2, 2]) == pytest.approx(math.sqrt(3))
    assert standardised_mean_difference([1, 1, 2, 2], [0, 0, 1, 1]) == pytest.approx(-math.sqrt(3))


def test_smd_equal_means_is_zero() -> None:
    assert standardised_mean_difference([0, 1, 2, 2], [0, 2, 2, 1]) == pytest.approx(0.0)


def test_smd_constant_raters() -> None:
    assert standardised_mean_difference([1, 1], [1, 1]) == 0.0
    assert standardised_mean_difference([0, 0], [2, 2]) == math.inf
    assert standardised_mean_difference([2, 2], [0, 0]) == -math.inf


def test_confusion_matrix_rows_are_first_rater() -> None:
    assert confusion_matrix([0, 0, 2], [1, 0, 2]) == ((1, 1, 0), (0, 0, 0), (0, 0, 1))


@pytest.mark.parametrize(
    ("score", "label"),
    [(0.0, 0), (0.3999, 0), (0.40, 1), (0.5, 1), (0.7999, 1), (0.80, 2), (1.0, 2)],
)
def test_score_to_label_thresholds(score: float, label: int) -> None:
    assert score_to_label(score) == label


def test_score_to_label_rejects_nan() -> None:
    with pytest.raises(ValueError, match="NaN"):
        score_to_label(math.nan)


@pytest.mark.parametrize(
    ("a", "b", "message"),
    [
        ([0, 1], [0], "differ in length"),
        ([], [], "no ratings"),
        ([0, 3], [0, 1], "rating 3 at position 1"),
    ],
)
def test_bad_input_is_rejected_with_a_clear_message(
    a: list[int], b: list[int], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        quadratic_weighted_kappa(a, b)


def test_smd_needs_two_items() -> None:
    with pytest.raises(ValueError, match="at least two"):
        standardised_mean_difference([1], [2])
