"""coaching_plan: full marks need strong evidence of the focus; thin evidence is held at label 1.

Every answer here is written for the test fixture's seller (Priya, territory coverage is the
focus; qualification and negotiation are her strengths).
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from graders.lexicon import WEAK_PHRASES
from graders.rubric import CAP_SCORE, CoachingPlanGrader, analyse, weak_evidence
from tests.graders.plan_helpers import Bound, grade


def reasons(bound: Bound, text: str) -> tuple[str, ...]:
    step = bound("plan")
    return weak_evidence(step, analyse(step, text))


CLAIMED = (
    "The focus this month is territory coverage. On Monday we run a tiering session on her "
    "300 accounts together and she drafts a touch plan for the C accounts; every Friday we "
    "compare who she actually spoke to with the plan."
)


def test_a_plain_claim_of_the_focus_is_strong_evidence(bound: Bound) -> None:
    assert reasons(bound, CLAIMED) == ()
    result = grade(bound, CLAIMED)
    assert result.score == 1.0
    assert not result.needs_review


def test_a_single_typo_match_is_not_enough_for_full_marks(bound: Bound) -> None:
    text = (
        "Her covrage is the thing. Monday we run a tiering session on her 300 accounts "
        "together and every Friday she shows me her call list."
    ).replace("tiering session", "working session")
    assert "fuzzy" in reasons(bound, text)
    result = grade(bound, text)
    assert result.score == pytest.approx(CAP_SCORE)
    assert result.needs_review
    focus = next(c for c in result.criteria if c.id == "focus")
    assert focus.status == "partial"
    assert "thin" in focus.feedback


def test_two_independent_typo_matches_are_enough(bound: Bound) -> None:
    text = (
        "We work on her covrage: teiring her 300 accounts together in a working session, then "
        "a weekly review of the C accounts."
    )
    assert "fuzzy" not in reasons(bound, text)


def test_a_passing_description_is_not_a_claim(bound: Bound) -> None:
    # Coverage is only described in the seller's voice, once; the plan never says it is the
    # subject.
    text = (
        "She has 300 accounts and coverage is thin there. Weekly review with Priya, a "
        "ride-along on Tuesday."
    )
    assert "passing" in reasons(bound, text)
    assert grade(bound, text).score < 0.8


def test_only_everyday_words_are_weak_evidence(bound: Bound) -> None:
    # "touch" names coverage only weakly; nothing else names it.
    text = (
        "I want her to touch her 300 accounts more this month. Monday we hold a working "
        "session together and every Friday a calendar review."
    )
    assert reasons(bound, text) == ("weak",)
    result = grade(bound, text)
    assert 0.4 <= result.score < 0.8
    assert result.needs_review


def test_a_claimed_rival_task_blocks_full_marks(bound: Bound) -> None:
    text = (
        "The focus is territory coverage: a tiering session on her 300 accounts together on "
        "Monday. The other priority is prospecting: every Friday we build her call list for "
        "new logos."
    )
    assert "competing" in reasons(bound, text)
    assert grade(bound, text).score < 0.8


def test_the_strength_as_a_near_equal_subject_blocks_full_marks(bound: Bound) -> None:
    text = (
        "Main focus: territory coverage - a tiering session on her 300 accounts on Monday. "
        "We check her coverage of the C accounts every Friday. Another priority is "
        "negotiation: a role-play before the Van Dijk meeting."
    )
    # Negotiation (her strength) is claimed as "another priority" with 2/3 of the focus's
    # attention: a claimed rival holds the plan below full marks even where the strength's
    # share alone (at most 0.7) would not.
    found = reasons(bound, text)
    assert "competing" in found
    assert grade(bound, text).score < 0.8


def test_praising_the_strength_costs_nothing(bound: Bound) -> None:
    text = (
        "Her negotiation is excellent, so leave it. The focus is territory coverage: Monday "
        "we tier her 300 accounts together and every Friday we review the C accounts she "
        "called."
    )
    assert reasons(bound, text) == ()
    assert grade(bound, text).score == 1.0


def test_the_cap_never_raises_a_score(bound: Bound) -> None:
    # Thin evidence on an answer that was already in the label-1 band changes nothing.
    text = "I want her to touch more of her accounts."
    result = grade(bound, text)
    assert result.score < CAP_SCORE
    assert "evidence is thin" not in " ".join(result.feedback)


def test_takeover_still_costs_the_label_with_strong_evidence(bound: Bound) -> None:
    text = CLAIMED + " I will call the C accounts myself on Thursdays."
    assert grade(bound, text).score < 0.8


def weights(bound: Bound, text: str) -> dict[str, float]:
    return dict(analyse(bound("plan"), text).task_weights)


def test_a_rate_per_month_is_not_a_focus_claim(bound: Bound) -> None:
    rate = weights(bound, "She tiers about 30 accounts a month.")
    claim = weights(bound, "This month she tiers her accounts.")
    assert rate["territory_coverage"] < claim["territory_coverage"]


def test_it_is_not_x_sets_the_task_aside(bound: Bound) -> None:
    found = weights(bound, "It's not prospecting - she has plenty of leads. We tier the accounts.")
    assert "prospecting" not in found
    assert found["territory_coverage"] > 0


def test_a_negated_about_claim_claims_nothing(bound: Bound) -> None:
    negated = weights(bound, "I don't think this is about prospecting.")
    claimed = weights(bound, "I think this is about prospecting.")
    assert negated.get("prospecting", 0.0) < claimed["prospecting"]


def test_a_parenthetical_aside_weighs_half(bound: Bound) -> None:
    aside = weights(bound, "We tier her accounts (forecasting can wait).")
    plain = weights(bound, "We tier her accounts, forecasting can wait.")
    assert aside["forecasting"] == plain["forecasting"] / 2


def test_one_word_for_a_task_outside_this_job_weighs_half(bound: Bound) -> None:
    # Executive relationships are not critical for a territory rep; her strengths keep their
    # full weight because they are the tempting wrong focus.
    found = weights(bound, "We work on executives. We work on negotiation.")
    assert found["executive_relationships"] == found["negotiation"] / 2


def test_concept_phrases_name_known_tasks_once(catalogue: object) -> None:
    from graders.lexicon import CONCEPT_PHRASES, TASK_PHRASES
    from scenarios.model import TaskCatalogue

    assert isinstance(catalogue, TaskCatalogue)
    owner: dict[str, str] = {}
    for task, phrases in CONCEPT_PHRASES.items():
        assert task in catalogue.tasks, task
        for phrase in phrases:
            assert owner.setdefault(phrase, task) == task, phrase
    for task, phrases in TASK_PHRASES.items():
        for phrase in phrases:
            assert owner.get(phrase, task) == task, phrase


def test_the_idea_in_plain_words_names_the_focus(bound: Bound) -> None:
    text = (
        "I want Priya to decide who gets a visit and who gets a call across her 300 accounts, "
        "not just the big ones. We do that together on Monday and every Friday she shows me "
        "the list."
    )
    result = grade(bound, text)
    assert next(c for c in result.criteria if c.id == "focus").status == "met"
    assert result.score == 1.0


def test_plain_words_for_another_task_do_not_name_the_focus(bound: Bound) -> None:
    text = (
        "She should find out whether each deal is real and who holds the budget. We review "
        "her deals together every Friday."
    )
    result = grade(bound, text)
    assert result.score < 0.4


def signals(bound: Bound, text: str) -> dict[str, float]:
    return CoachingPlanGrader().review_signals(bound("plan"), text)


def test_confidence_is_one_minus_the_review_signals(bound: Bound) -> None:
    for text in (CLAIMED, "Coverage and prospecting, both equally, weekly review.", "coverage"):
        result = grade(bound, text)
        expected = max(0.0, min(1.0, 1.0 - sum(signals(bound, text).values())))
        assert result.confidence == pytest.approx(expected)


def test_a_clear_plan_raises_no_signal(bound: Bound) -> None:
    assert signals(bound, CLAIMED) == {}
    assert not grade(bound, CLAIMED).needs_review


def test_a_takeover_without_a_clear_focus_goes_to_review(bound: Bound) -> None:
    # Is the takeover aimed at the right task? The manager rarely names it while doing it.
    text = "I will call her customers myself this month and take the meetings for her."
    assert "takeover_focus" in signals(bound, text)
    assert grade(bound, text).needs_review


def test_two_foci_go_to_review(bound: Bound) -> None:
    text = (
        "We work on coverage and on prospecting equally: a tiering session on her 300 accounts "
        "and a weekly call block review."
    )
    assert "co_focus" in signals(bound, text)
    assert grade(bound, text).needs_review


def test_a_score_just_below_full_marks_is_marked_as_near_the_band_edge(bound: Bound) -> None:
    # Right focus, concrete action, coaching - but nothing specific to this seller: 0.79.
    text = "The focus is territory coverage. We hold a working session together every Friday."
    result = grade(bound, text)
    assert 0.75 < result.score < 0.8
    assert "margin" in signals(bound, text)
    assert result.confidence < 1.0


def test_a_capped_answer_is_always_reviewed(bound: Bound) -> None:
    text = (
        "I want her to touch her 300 accounts more this month. Monday we hold a working "
        "session together and every Friday a calendar review."
    )
    assert "capped" in signals(bound, text)
    result = grade(bound, text)
    assert result.needs_review
    assert result.confidence <= 0.45


def test_a_step_threshold_overrides_the_default(bound: Bound) -> None:
    from dataclasses import replace

    from graders.rubric import REVIEW_THRESHOLD

    step = bound("plan")
    text = "Coverage and prospecting, both equally, weekly review."
    confidence = CoachingPlanGrader().grade(step, text).confidence
    assert confidence < REVIEW_THRESHOLD
    lenient = replace(
        step, step=replace(step.step, config={**step.step.config, "review_threshold": 0.1})
    )
    assert not CoachingPlanGrader().grade(lenient, text).needs_review


def test_a_takeover_past_the_graded_part_still_counts(bound: Bound) -> None:
    from dataclasses import replace

    step = bound("plan")
    short = replace(step, step=replace(step.step, config={**step.step.config, "max_chars": 260}))
    assert len(CLAIMED) < 260
    clean = CLAIMED + " She keeps a short diary of what she learns from each conversation."
    grader = CoachingPlanGrader()
    assert grader.grade(short, clean).score == 1.0
    taken = clean + " And I will take over the Van Dijk negotiation this quarter."
    result = grader.grade(short, taken)
    assert result.score < 0.8
    assert next(c for c in result.criteria if c.id == "approach").status == "missed"


def test_everyday_words_spread_over_the_plan_describe_the_focus(bound: Bound) -> None:
    # No task name at all: the plan describes coverage in plain words in two sentences
    # (rubric D8), with a concrete, seller-specific action and no rival task.
    text = (
        "Thursday we sit down and sort her 300 accounts into three piles. Every Friday she "
        "shows me which names from the bottom pile she actually rang, and which she left "
        "untouched."
    )
    step = bound("plan")
    analysis = analyse(step, text)
    assert {m.match.phrase.casefold() for m in analysis.mentions} <= WEAK_PHRASES
    assert reasons(bound, text) == ()
    assert grade(bound, text).score >= 0.8


def test_an_everyday_word_claimed_once_stays_thin(bound: Bound) -> None:
    # One sentence claims the focus by an everyday word; nothing else in the plan says what it
    # stands for: a human confirms.
    text = (
        "Touch: she needs to touch her accounts more. Monday we hold a working session "
        "together on her 300 accounts and every Friday a calendar review."
    )
    assert "weak" in reasons(bound, text)
    assert grade(bound, text).score < 0.8


def _with_weights(bound: Bound, text: str, weights: dict[str, float]) -> tuple[str, ...]:
    """The thin-evidence reasons for `text` with the attention per task set by hand."""
    step = bound("plan")
    return weak_evidence(step, replace(analyse(step, text), task_weights=weights))


def test_the_strength_as_a_tool_for_the_focus_does_not_block_full_marks(bound: Bound) -> None:
    # The focus gets half again the strength's attention (3.0 vs 2.0): the strength is a
    # lever or a method the plan uses ("she points her qualification at her own book"),
    # not a co-equal subject (rubric D3: only a co-equal strength costs the label).
    weights = {"territory_coverage": 3.0, "negotiation": 2.0}
    assert "strength" not in _with_weights(bound, CLAIMED, weights)


@pytest.mark.parametrize("share", [0.75, 1.0, 1.5])
def test_the_strength_near_the_focus_s_attention_still_blocks_full_marks(
    bound: Bound, share: float
) -> None:
    weights = {"territory_coverage": 2.0, "negotiation": 2.0 * share}
    assert "strength" in _with_weights(bound, CLAIMED, weights)
