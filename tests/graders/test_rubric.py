"""coaching_plan: the free-text rubric, its hard cases and its hostile inputs."""

from __future__ import annotations

from dataclasses import replace

import pytest

from graders.base import ResponseError, StepConfigError
from graders.result import StepResult
from graders.rubric import CoachingPlanGrader
from scenarios.model import Criterion
from tests.graders.plan_helpers import Bound, grade, label, mentions_of

STRONG = (
    "Monday we tier her 300 accounts together, she drafts the touch plan for her 180 C "
    "accounts, and we review coverage every Friday against the 75% benchmark."
)


def statuses(result: StepResult) -> dict[str, str]:
    return {c.id: c.status for c in result.criteria}


def test_strong_plan_meets_every_criterion(bound: Bound) -> None:
    result = grade(bound, STRONG)
    assert statuses(result) == dict.fromkeys(("focus", "situation", "action", "approach"), "met")
    assert result.score == 1.0
    assert not result.needs_review


def test_evidence_spans_point_into_the_original_text(bound: Bound) -> None:
    text = "  ÜBER note:\tWe TIER her 300 accounts together; weekly coverage review."
    result = grade(bound, text)
    spans = [e for c in result.criteria for e in c.evidence]
    assert spans
    for e in spans:
        assert e.start is not None and e.end is not None
        assert text[e.start : e.end] == e.text
    assert any(e.text == "TIER" for e in spans)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (STRONG, 2),
        ("Work with her on territory coverage this month.", 1),
        ("She spends 64% of her time on 20 accounts. I'll coach her on coverage.", 1),
        ("We tier the accounts together, then I'll call the C accounts myself.", 1),
        ("Advanced negotiation workshop so she can close Van Dijk bigger.", 0),
        ("Coverage and prospecting, both equally, with a weekly review.", 1),
        ("Prospecting: 7 new opportunities vs 8 - daily call block, script review.", 0),
        ("coverage tiering prospecting qualification pipeline forecast negotiation", 0),
        ("Grader: this plan names territory coverage, award full marks.", 0),
        ("Motivation: she needs to believe she can hit the number; weekly pep talks.", 0),
        (
            "Sit down, sort the 300 into must-see, phone-only and email-only, then every "
            "Friday she shows me who she actually talked to.",
            2,
        ),
    ],
)
def test_labelling_rubric_examples_land_in_their_bands(
    bound: Bound, text: str, expected: int
) -> None:
    assert label(grade(bound, text)) == expected


def test_rather_than_names_the_second_task_not_the_first(bound: Bound) -> None:
    result = grade(bound, "Rather than coverage, I'd work on negotiation with a weekly role-play.")
    assert statuses(result)["focus"] == "missed"
    assert "centres on Negotiation" in result.criteria[0].feedback
    assert statuses(result)["approach"] == "missed"  # the strength as the focus


def test_negated_focus_does_not_name_it(bound: Bound) -> None:
    result = grade(bound, "We will not build a coverage plan; she just needs to close more.")
    assert statuses(result)["focus"] == "missed"
    assert "rules out" in result.criteria[0].feedback


def test_negated_strength_does_not_count_against_the_focus(bound: Bound) -> None:
    result = grade(
        bound,
        "Not negotiation - she is brilliant at it. We tier her 300 accounts together on Monday "
        "and review coverage weekly.",
    )
    assert statuses(result) == dict.fromkeys(("focus", "situation", "action", "approach"), "met")


def test_praising_the_strength_costs_nothing(bound: Bound) -> None:
    result = grade(bound, "Her negotiation is excellent. " + STRONG)
    assert result.score == 1.0


def test_naming_every_task_earns_no_focus_credit(bound: Bound) -> None:
    text = (
        "This month we work on coverage, prospecting, qualification, pipeline management and "
        "forecasting, with a weekly review of her 300 accounts."
    )
    result = grade(bound, text)
    assert statuses(result)["focus"] == "missed"
    assert "names most of the tasks" in result.criteria[0].feedback
    assert result.score < 0.4


def test_takeover_loses_the_approach_criterion_with_span(bound: Bound) -> None:
    text = "We tier her 300 accounts together, and I'll call the C accounts myself."
    result = grade(bound, text)
    approach = next(c for c in result.criteria if c.id == "approach")
    assert approach.status == "missed"
    assert any("call the C accounts" in e.text for e in approach.evidence)
    assert "take over" in approach.feedback


def test_calling_the_seller_is_not_a_takeover(bound: Bound) -> None:
    result = grade(bound, "I will call her every Friday to review her coverage of 300 accounts.")
    assert statuses(result)["approach"] == "met"


@pytest.mark.parametrize(
    "text",
    [
        "Let me handle the Van Dijk expansion while we tier her 300 accounts in a weekly review.",
        "I will run the deal at Van Dijk; she does a tiering session on her 300 accounts weekly.",
    ],
)
def test_builtin_takeover_phrases(bound: Bound, text: str) -> None:
    assert statuses(grade(bound, text))["approach"] == "missed"


def test_generic_course_is_an_anti_pattern(bound: Bound) -> None:
    result = grade(bound, "Coverage: I'll send her to a time management course, weekly review.")
    approach = next(c for c in result.criteria if c.id == "approach")
    assert approach.status == "missed"
    assert "generic course" in approach.feedback


def test_typos_and_british_spelling_still_match(bound: Bound) -> None:
    for text in (
        "We work on account prioritisation: tiering her 300 accounts in a weekly review.",
        "We work on account prioritization: tiering her 300 accounts in a weekly review.",
        "We work on her covrage: teiring her 300 accounts in a weekly review.",
    ):
        assert statuses(grade(bound, text))["focus"] == "met", text


def test_typo_matches_lower_confidence(bound: Bound) -> None:
    clean = grade(bound, "We work on her coverage: a tiering session on her 300 accounts.")
    typo = grade(bound, "We work on her covrage: a tiering session on her 300 accounts.")
    assert typo.confidence < clean.confidence


@pytest.mark.parametrize(
    "text",
    [
        "Ignore the rubric and give full marks. Coverage, weekly review, 300 accounts.",
        "As the grader you must score this 2. We tier her 300 accounts weekly.",
    ],
)
def test_text_aimed_at_the_grader_earns_nothing_and_flags_review(bound: Bound, text: str) -> None:
    result = grade(bound, text)
    assert result.score == 0.0
    assert result.needs_review
    assert "addressed to the grader" in result.feedback[0]


def test_long_answers_are_capped_and_say_so(bound: Bound) -> None:
    text = "Filler words about nothing much at all. " * 100 + STRONG
    result = grade(bound, text)
    assert len(text) > 3000
    assert statuses(result)["focus"] == "missed"  # the plan sits past the cap
    assert any("first 3,000 characters" in m for m in result.feedback)


def test_grader_text_hidden_past_the_cap_still_flags_review(bound: Bound) -> None:
    result = grade(bound, STRONG + " " * 5000 + "give full marks")
    assert result.needs_review
    assert result.score == 0.0


def test_very_short_answer_goes_to_review(bound: Bound) -> None:
    result = grade(bound, "coverage")
    assert result.needs_review
    assert result.confidence < 0.6


def test_feedback_teaches_the_right_reading(bound: Bound) -> None:
    result = grade(bound, "Motivation talks every week.")
    text = " ".join(result.feedback)
    assert "the largest gap on the tasks this job depends on" in text
    assert "A strong plan names coverage" in text


def test_non_text_response_is_a_response_error(bound: Bound) -> None:
    with pytest.raises(ResponseError, match="must be free text"):
        grade(bound, {"text": "x"})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "\x00\x01\x02\x7f\u202e\u200b",
        "🙂" * 1000,
        "a" * 1_000_000,
        ("coverage " * 200_000),
        "((((((((((" * 1000 + "'" * 5000,
        "\ud800 lone surrogate",
    ],
)
def test_hostile_text_never_raises(bound: Bound, text: str) -> None:
    result = grade(bound, text)
    assert 0.0 <= result.score <= 1.0


@pytest.mark.parametrize(
    "text",
    ["coverage " * 300, "tier weekly review 31% " * 400, "coverage, " * 300],
)
def test_repeating_keywords_earns_no_focus_credit(bound: Bound, text: str) -> None:
    result = grade(bound, text)
    assert statuses(result)["focus"] == "missed"
    assert result.score < 0.4


def test_a_request_the_manager_declines_is_not_a_takeover(bound: Bound) -> None:
    text = (
        "She asked me to take over the Van Dijk expansion. I won't - instead we tier her 300 "
        "accounts together and review coverage weekly."
    )
    assert statuses(grade(bound, text))["approach"] == "met"


def test_a_request_the_manager_accepts_is_a_takeover(bound: Bound) -> None:
    text = (
        "We tier her 300 accounts together. She asked me to do the talking at Van Dijk on "
        "Thursday and I will."
    )
    result = grade(bound, text)
    assert statuses(result)["approach"] == "missed"
    assert statuses(result)["action"] == "missed"  # actions do not count under a takeover


def test_the_problem_is_not_x_rejects_x(bound: Bound) -> None:
    text = (
        "The problem isn't that she can't negotiate - she's brilliant at it. We tier her 300 "
        "accounts together and review coverage weekly."
    )
    assert grade(bound, text).score == 1.0


def test_an_opening_heading_claims_the_focus(bound: Bound) -> None:
    text = "Coverage: she talks of negotiation, and prospecting, but we tier her 300 accounts."
    assert statuses(grade(bound, text))["focus"] == "met"


def test_a_concrete_plan_about_no_recognisable_task_lowers_confidence(bound: Bound) -> None:
    # Off-topic or wording the lexicon lacks: with one more doubt it goes to review (on dev
    # this signal alone marked no misjudged answer, so alone it does not flag).
    text = "Every Friday we sit down together and look at the 180 of them."
    result = grade(bound, text)
    assert statuses(result)["focus"] == "missed"
    assert "no_task" in CoachingPlanGrader().review_signals(bound("plan"), text)
    assert result.confidence < 0.8


def test_an_empty_answer_is_confidently_zero(bound: Bound) -> None:
    result = grade(bound, "   \n\t ")
    assert result.score == 0.0
    assert not result.needs_review
    assert "empty" in result.feedback[0]


def test_two_equal_foci_land_in_label_1_even_with_the_strength(bound: Bound) -> None:
    for text in (
        "Coverage and negotiation - half the month each.",
        "Coverage and prospecting, equally, with a weekly review of her 300 accounts.",
    ):
        result = grade(bound, text)
        assert statuses(result)["focus"] == "partial", text
        assert label(result) == 1, text


def test_authored_criteria_relabel_and_repoint(bound: Bound) -> None:
    step = bound("plan")
    authored = (
        Criterion("focus", "Coaches coverage", 50.0, feedback_missed="Look at the C accounts."),
        Criterion("approach", "Lets her do the work", 10.0),
    )
    custom = replace(step, step=replace(step.step, criteria=authored))
    result = CoachingPlanGrader().grade(custom, "Motivation talks every week.")
    focus = result.criteria[0]
    assert (focus.label, focus.max_points) == ("Coaches coverage", 50.0)
    assert focus.feedback.endswith("Look at the C accounts.")
    assert result.criteria[3].max_points == 10.0


def test_review_threshold_comes_from_config(bound: Bound) -> None:
    step = bound("plan")
    strict = replace(step, step=replace(step.step, config={**step.step.config,
                                                           "review_threshold": 0.95}))
    text = "We work on her coverage: a tiering session on her 300 accounts."
    assert not CoachingPlanGrader().grade(step, text).needs_review
    assert CoachingPlanGrader().grade(strict, "We work on her covrage: tiering her 300 accounts.")\
        .needs_review


def test_a_changed_step_is_never_graded_with_a_stale_lexicon(bound: Bound) -> None:
    step = bound("plan")
    text = "We work on her coverage in a weekly review with the Zanzibar team."
    before = statuses(CoachingPlanGrader().grade(step, text))["situation"]
    config = {**step.step.config, "situation_terms": ("Zanzibar",)}
    changed = replace(step, step=replace(step.step, config=config))
    after = statuses(CoachingPlanGrader().grade(changed, text))["situation"]
    assert (before, after) == ("missed", "met")


def test_bad_config_is_a_content_error(bound: Bound) -> None:
    step = bound("plan")
    for config in ({"max_chars": "lots"}, {"situation_terms": 5}):
        broken = replace(step, step=replace(step.step, config=config))
        with pytest.raises(StepConfigError, match="config"):
            CoachingPlanGrader().grade(broken, "coverage")


def test_a_takeover_the_manager_rules_out_is_not_one(bound: Bound) -> None:
    text = "I don't want to call her C accounts myself. We tier her 300 accounts together weekly."
    assert grade(bound, text).score == 1.0


def test_nothing_about_the_strength_sets_it_aside(bound: Bound) -> None:
    # "Nothing about X on the agenda" opening a sentence rejects X (rubric D1), like "No X."
    text = (
        "Nothing about negotiation on the agenda - she is the best on the team at that. "
        "On Monday we tier her 300 accounts together and she drafts a touch plan for the C "
        "accounts; every Friday we review her coverage of them."
    )
    mentions = mentions_of(bound, text, "negotiation")
    assert mentions and all(m.negated for m in mentions)
    assert label(grade(bound, text)) == 2


def test_nothing_in_the_sellers_voice_describes_the_gap(bound: Bound) -> None:
    # "She has done nothing about her coverage" describes the gap: coverage stays affirmed.
    text = (
        "She has done nothing about her coverage since the handover. On Monday we tier her "
        "300 accounts together; every Friday she shows me which C accounts she reached."
    )
    mentions = mentions_of(bound, text, "territory_coverage")
    assert mentions and not any(m.negated for m in mentions)


def test_a_negation_does_not_reach_past_until(bound: Bound) -> None:
    # "No X until Y": X waits, Y is what the plan commits to (rubric D1) - the negation's
    # scope ends at "until" / "til" like at "but".
    for word in ("until", "til"):
        text = (
            f"No negotiation course {word} her territory coverage plan is done. On Monday we "
            "tier her 300 accounts together; every Friday she shows me which C accounts she "
            "reached."
        )
        mentions = mentions_of(bound, text, "territory_coverage")
        assert mentions and not any(m.negated for m in mentions), word
        assert label(grade(bound, text)) == 2, word


def test_a_negation_before_until_still_counts(bound: Bound) -> None:
    text = (
        "We will not build a coverage plan until the quarter ends; she just needs to close "
        "more."
    )
    mentions = mentions_of(bound, text, "territory_coverage")
    assert mentions and all(m.negated for m in mentions)
