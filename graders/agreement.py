"""Agreement statistics between two raters on an ordinal label scale (human vs grader).

The measures automated-scoring evaluations report: quadratic weighted kappa, exact and adjacent
agreement, and the standardised mean difference. Pure Python (no numpy) so the graders package
stays light; inputs are sequences of integer labels, paired by position.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

LABELS: tuple[int, ...] = (0, 1, 2)
"""The free-text label scale: 0 wrong focus, 1 right focus but vague or takeover, 2 good plan."""

LABEL_1_THRESHOLD = 0.40
"""Lowest StepResult score that maps to label 1."""
LABEL_2_THRESHOLD = 0.80
"""Lowest StepResult score that maps to label 2."""


def score_to_label(score: float) -> int:
    """Map a coaching_plan score in [0, 1] to the 0/1/2 label scale (<0.40, <0.80, >=0.80)."""
    if math.isnan(score):
        raise ValueError("score is NaN; a grader score must be a number in [0, 1]")
    if score < LABEL_1_THRESHOLD:
        return 0
    if score < LABEL_2_THRESHOLD:
        return 1
    return 2


def _check_pair(a: Sequence[int], b: Sequence[int]) -> None:
    if len(a) != len(b):
        raise ValueError(
            f"ratings differ in length ({len(a)} vs {len(b)}); pass one rating per item from each"
        )
    if not a:
        raise ValueError("no ratings; agreement needs at least one rated item")


def confusion_matrix(
    a: Sequence[int], b: Sequence[int], categories: Sequence[int] = LABELS
) -> tuple[tuple[int, ...], ...]:
    """Counts of items rated categories[i] by `a` and categories[j] by `b`, as rows i, columns j."""
    _check_pair(a, b)
    index = {category: i for i, category in enumerate(categories)}
    if len(index) != len(categories):
        raise ValueError(f"categories {tuple(categories)} contain duplicates")
    counts = [[0] * len(categories) for _ in categories]
    for position, (x, y) in enumerate(zip(a, b, strict=True)):
        for rating in (x, y):
            if rating not in index:
                raise ValueError(
                    f"rating {rating!r} at position {position} is not one of {tuple(categories)}"
                )
        counts[index[x]][index[y]] += 1
    return tuple(tuple(row) for row in counts)


def quadratic_weighted_kappa(
    a: Sequence[int], b: Sequence[int], categories: Sequence[int] = LABELS
) -> float:
    """Cohen's kappa with quadratic disagreement weights; 1.0 when the ratings are identical."""
    observed = confusion_matrix(a, b, categories)
    k = len(categories)
    if k < 2:
        raise ValueError("quadratic weighted kappa needs at least two categories")
    n = len(a)
    row_totals = [sum(row) for row in observed]
    column_totals = [sum(observed[i][j] for i in range(k)) for j in range(k)]
    observed_disagreement = 0.0
    expected_disagreement = 0.0
    for i in range(k):
        for j in range(k):
            weight = (i - j) ** 2 / (k - 1) ** 2
            observed_disagreement += weight * observed[i][j]
            expected_disagreement += weight * row_totals[i] * column_totals[j] / n
    if expected_disagreement == 0.0:
        # Both raters gave one and the same category to every item: chance cannot disagree, and
        # neither did they. Perfect agreement, not an undefined 0/0.
        return 1.0
    return 1.0 - observed_disagreement / expected_disagreement


def exact_agreement(a: Sequence[int], b: Sequence[int]) -> float:
    """Share of items both raters gave the same label."""
    _check_pair(a, b)
    return sum(1 for x, y in zip(a, b, strict=True) if x == y) / len(a)


def adjacent_agreement(a: Sequence[int], b: Sequence[int]) -> float:
    """Share of items whose two labels differ by at most one point."""
    _check_pair(a, b)
    return sum(1 for x, y in zip(a, b, strict=True) if abs(x - y) <= 1) / len(a)


def _sample_variance(values: Sequence[int]) -> float:
    mean = sum(values) / len(values)
    return sum((value - mean) ** 2 for value in values) / (len(values) - 1)


def standardised_mean_difference(reference: Sequence[int], predicted: Sequence[int]) -> float:
    """(mean(predicted) - mean(reference)) / sqrt((var_reference + var_predicted) / 2).

    Positive when the predicted (machine) labels run higher than the reference (human) ones.
    Variances are sample variances (n - 1). When both raters are constant the pooled SD is 0:
    the result is 0.0 for equal means and +/-inf otherwise.
    """
    _check_pair(reference, predicted)
    if len(reference) < 2:
        raise ValueError("standardised mean difference needs at least two rated items")
    difference = sum(predicted) / len(predicted) - sum(reference) / len(reference)
    pooled_sd = math.sqrt((_sample_variance(reference) + _sample_variance(predicted)) / 2)
    if pooled_sd == 0.0:
        return 0.0 if difference == 0.0 else math.copysign(math.inf, difference)
    return difference / pooled_sd
