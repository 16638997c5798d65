"""coaching_focus: focus credit by derivation, evidence by recall and corrected precision."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from graders.base import BoundStep, ResponseError
from graders.focus import CoachingFocusGrader, evidence_credit

Bound = Callable[[str], BoundStep]
RIGHT_EVIDENCE = [
    "accounts_touched",
    "time_on_top_accounts",
    "crm_van_dijk_expansion",
    "manager_pipeline_review",
    "email_marketing_leads",
]


def grade(bound: Bound, response: object) -> tuple[float, dict[str, tuple[str, float]], str]:
    result = CoachingFocusGrader().grade(bound("focus"), response)
    criteria = {c.id: (c.status, c.points) for c in result.criteria}
    return result.score, criteria, " ".join(result.feedback)


def test_right_focus_and_exact_evidence_score_one(bound: Bound) -> None:
    score, criteria, feedback = grade(bound, {"task": "coverage", "evidence": RIGHT_EVIDENCE})
    assert score == 1.0
    assert criteria == {"focus": ("met", 60.0), "evidence": ("met", 40.0)}
    assert "the largest gap on the tasks this job depends on" in feedback
    assert "Accounts with a meaningful conversation: 31% against a benchmark of 75%" in feedback


def test_critical_but_smaller_gap_earns_partial_focus(bound: Bound) -> None:
    _, criteria, feedback = grade(bound, {"task": "prospecting", "evidence": []})
    assert criteria["focus"] == ("partial", pytest.approx(18.0))
    assert "not the largest gap" in feedback
    assert (
        "its gap is less than a quarter as large as the gap in Account prioritisation and "
        "coverage planning" in feedback
    )
    assert "g=" not in feedback and "0.03" not in feedback


@pytest.mark.parametrize("task", ["negotiation", "qualification"])
def test_a_strength_earns_nothing_and_is_called_a_strength(bound: Bound, task: str) -> None:
    _, criteria, feedback = grade(bound, {"task": task, "evidence": []})
    assert criteria["focus"] == ("missed", 0.0)
    assert "strength" in feedback


def test_non_critical_task_earns_nothing(bound: Bound) -> None:
    _, criteria, feedback = grade(bound, {"task": "executive", "evidence": []})
    assert criteria["focus"] == ("missed", 0.0)
    assert "not a critical task for a high-volume territory seller" in feedback


def test_citing_everything_earns_no_evidence_credit(bound: Bound) -> None:
    everything = [
        "accounts_touched",
        "time_on_top_accounts",
        "new_opportunities",
        "qualified_win_rate",
        "next_step_dated",
        "forecast_accuracy",
        "average_discount",
        "crm_van_dijk_expansion",
        "manager_pipeline_review",
        "call_note_discount",
        "email_marketing_leads",
    ]
    _, criteria, feedback = grade(bound, {"task": "coverage", "evidence": everything})
    assert criteria["evidence"] == ("missed", 0.0)
    assert "Citing every exhibit earns no evidence credit" in feedback


def test_partial_evidence_names_what_was_missed_and_what_is_not_evidence(bound: Bound) -> None:
    _, criteria, feedback = grade(
        bound, {"task": "coverage", "evidence": ["accounts_touched", "average_discount"]}
    )
    assert criteria["evidence"][0] == "partial"
    assert "Time on her 20 largest accounts" in feedback
    assert "not evidence for this focus: Average discount" in feedback


@pytest.mark.parametrize(
    ("cited", "relevant", "total", "expected"),
    [
        ({"a"}, {"a"}, 4, 1.0),
        ({"a", "b", "c", "d"}, {"a", "b"}, 4, 0.0),  # everything: precision at chance
        (set(), {"a"}, 4, 0.0),
        ({"a"}, {"a", "b"}, 4, 2 * 0.5 * 1.0 / 1.5),
        ({"a", "b"}, {"a", "b"}, 2, 0.0),  # all relevant: no judgement shown
    ],
)
def test_evidence_credit(cited: set[str], relevant: set[str], total: int, expected: float) -> None:
    assert evidence_credit(cited, relevant, total) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("response", "message"),
    [
        ("coverage", "must be an object"),
        ({"evidence": []}, "has no 'task'"),
        ({"task": "ceo", "evidence": []}, "unknown option 'ceo'"),
        ({"task": "coverage", "evidence": "accounts_touched"}, "must be a list"),
        ({"task": "coverage", "evidence": ["nope"]}, "unknown id 'nope'"),
        ({"task": "coverage", "evidence": [], "why": "x"}, "unexpected field"),
    ],
)
def test_focus_rejects_wrong_shapes(bound: Bound, response: object, message: str) -> None:
    with pytest.raises(ResponseError, match=message):
        CoachingFocusGrader().grade(bound("focus"), response)
