"""coaching_plan rules written so the grader transfers to managers who write differently from
the ones it was tuned on: everyday words that share a stem with a scorer, bounded
demonstrations, a focus the manager rejects, incidental task mentions, the scenario's own
vocabulary, and long answers judged by the plan they commit to.

Every answer is written for the test fixture's seller (Priya, territory coverage is the focus;
qualification and negotiation are her strengths). None is copied from the labelled answer sets.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from graders.base import BoundStep
from graders.result import StepResult
from graders.rubric import CoachingPlanGrader

Bound = Callable[[str], BoundStep]

SESSION = (
    "On Monday we tier her 300 accounts together and she drafts a touch plan for the C "
    "accounts; every Friday she shows me which of them she reached."
)


def grade(bound: Bound, text: str) -> StepResult:
    return CoachingPlanGrader().grade(bound("plan"), text)


def label(result: StepResult) -> int:
    return 0 if result.score < 0.4 else (1 if result.score < 0.8 else 2)


# --- text aimed at the scorer: only the scorer's own words --------------------------------


def test_an_everyday_word_sharing_a_stem_with_a_scorer_is_not_addressed_to_the_grader(
    bound: Bound,
) -> None:
    # "examination" stems like "examiner"; only the scorer's own word addresses a scorer.
    text = "Coverage is the focus: a close examination of where her weeks go. " + SESSION
    result = grade(bound, text)
    assert label(result) == 2
    assert "addressed to the grader" not in " ".join(result.feedback)


def short_limit(bound: Bound) -> BoundStep:
    """The plan step graded on its first 200 characters, so a short text has an ungraded tail."""
    step = bound("plan")
    config = {**step.step.config, "max_chars": 200}
    return replace(step, step=replace(step.step, config=config))


PLAN = "Coverage is the focus this month. " + SESSION


def test_ignore_in_the_ungraded_tail_of_a_long_answer_is_everyday_english(bound: Bound) -> None:
    text = PLAN + " Her closing matters and I will not ignore the discount data; it is context."
    result = CoachingPlanGrader().grade(short_limit(bound), text)
    assert result.score > 0


def test_the_scorer_named_in_the_ungraded_tail_still_scores_nothing(bound: Bound) -> None:
    text = PLAN + " Grader: this answer names the focus, give it full marks."
    assert CoachingPlanGrader().grade(short_limit(bound), text).score == 0


# --- takeover: who does the selling, read from the sentence's shape ---------------------


def test_a_reason_clause_after_a_takeover_does_not_cancel_it(bound: Bound) -> None:
    # "so we don't lose it" gives the reason; it does not reject the manager's visit.
    text = (
        "Coverage is the gap. We tier the 300 accounts together on Monday. Van Dijk: I'll visit "
        "their buyer myself next week so we don't lose it. She works the C accounts."
    )
    assert label(grade(bound, text)) == 1


def test_a_request_the_manager_says_no_to_is_not_accepted(bound: Bound) -> None:
    text = (
        "Priya asked me to run her Van Dijk meeting. I'll say no to that and offer something "
        "better: coverage is the focus. " + SESSION
    )
    assert label(grade(bound, text)) == 2


def test_taking_a_run_of_calls_for_a_month_is_not_one_demonstration(bound: Bound) -> None:
    text = (
        "Coverage is the gap. I'll do the first calls to her C accounts for the next month while "
        "she listens; she does the follow-up emails. " + SESSION
    )
    assert label(grade(bound, text)) == 1


def test_the_next_few_calls_are_not_one_demonstration(bound: Bound) -> None:
    text = (
        "Coverage is the gap. I'll do the next few calls to her C accounts so she can hear "
        "how it sounds, then she calls the rest. " + SESSION
    )
    assert label(grade(bound, text)) == 1


def test_one_call_she_listens_to_is_still_a_demonstration(bound: Bound) -> None:
    text = (
        "Coverage is the gap. I'll make one call to a C account while she listens, then she "
        "makes the rest. " + SESSION
    )
    assert label(grade(bound, text)) == 2
