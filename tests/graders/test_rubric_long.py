"""coaching_plan on long answers: the plan part is judged, not the opening diagnosis (rubric D9),
and the rules the plan part of a long answer exercises (lists of refusals, "at the same time",
the manager's own director).

Every answer here is written for the test fixture's seller (Priya, territory coverage is the
focus; qualification and negotiation are her strengths; Van Dijk Logistics is in her notes).
None is copied from the labelled answer sets.
"""

from __future__ import annotations

from graders.planpart import plan_part, plan_score
from graders.rubric import agent_takeovers, analyse, declared_equal
from graders.text import tokenize
from tests.graders.plan_helpers import Bound, grade, label, mentions_of

DIAGNOSIS = (
    "Priya closes better than anyone on the team: her negotiation is excellent, her discount "
    "is half the benchmark and her qualified win rate is above the average. Prospecting looked "
    "like an issue at first, seven new opportunities a month against eight, and the forecast "
    "was also something the director asked about last quarter. Her negotiation with the "
    "procurement people at Van Dijk Logistics was textbook, and the regional director praised "
    "it in the quarterly review."
)
PLAN = (
    "So here is the plan for the month. On Monday we tier her 300 accounts together and she "
    "drafts a touch plan for the 180 C accounts. Every Friday she shows me which of them she "
    "reached, and we adjust the tiers. I will not call the accounts myself."
)


def long_answer(plan: str = PLAN, diagnosis_paragraphs: int = 8) -> str:
    return "\n\n".join([
        DIAGNOSIS.replace("Priya", f"Priya ({n})") for n in range(diagnosis_paragraphs)
    ] + [plan])


# --- the plan part ---------------------------------------------------------------------------


def test_a_long_answer_is_judged_by_its_plan_paragraphs_not_its_opening(bound: Bound) -> None:
    text = long_answer()
    assert len(text) > 3000
    result = grade(bound, text)
    assert label(result) == 2
    focus = next(c for c in result.criteria if c.id == "focus")
    # Evidence spans still point into the original answer.
    assert focus.evidence
    assert all(text[e.start : e.end] == e.text for e in focus.evidence)


def test_a_long_answer_whose_plan_is_about_the_strength_is_not_the_focus(bound: Bound) -> None:
    plan = (
        "So here is the plan for the month. We will run a negotiation masterclass together on "
        "Monday, and every Friday she role-plays a procurement call with me."
    )
    assert label(grade(bound, long_answer(plan))) == 0


def test_plan_part_keeps_offsets_and_blanks_the_rest() -> None:
    text = long_answer()
    part = plan_part(text, 3000)
    assert part is not None and len(part) == len(text)
    start = text.index("So here is the plan")
    assert part[start:] == text[start:]
    assert part.count("\n") == text.count("\n")
    assert "Prospecting" not in part  # the diagnosis paragraphs commit to nothing


def test_plan_part_needs_paragraphs_and_a_committing_sentence() -> None:
    assert plan_part(DIAGNOSIS * 20, 3000) is None  # one paragraph: the opening is read
    assert plan_part("\n\n".join([DIAGNOSIS] * 20), 3000) is None  # nothing commits


def test_a_repeated_paragraph_is_read_once() -> None:
    day = "I will sit with her on Monday. We tier ten accounts. She calls three of them."
    text = "\n\n".join([DIAGNOSIS, day, day, day, "In short: coverage, every Friday."])
    part = plan_part(text, 3000)
    assert part is not None
    assert part.count("I will sit with her") == 1


def test_commitments_claims_and_summaries_score_a_paragraph() -> None:
    assert plan_score(DIAGNOSIS) == 0
    assert plan_score("Every Friday she shows me the list. It is short.") == 0.5
    assert plan_score("My focus this month is coverage.") >= 1
    assert plan_score("In one line: coverage.") >= 1


# --- rules the plan part of a long answer exercises ------------------------------------------


def test_a_list_of_refusals_shares_its_negated_subject(bound: Bound) -> None:
    text = (
        "Coverage is the focus. We tier her 300 accounts together on Monday and every Friday "
        "she shows me who she reached. I will not visit Van Dijk myself, use my own network "
        "to open doors, or call the C accounts for her."
    )
    assert label(grade(bound, text)) == 2


def test_a_list_item_with_its_own_subject_is_not_declined(bound: Bound) -> None:
    text = (
        "Coverage is the focus. We tier her 300 accounts together on Monday. I won't lecture "
        "her, I will call the C accounts myself."
    )
    assert label(grade(bound, text)) == 1


def test_at_the_same_time_is_when_not_equal_weight() -> None:
    tokens = tokenize("At the same time she reworks the touch plan for her C accounts.")
    clause = list(range(len(tokens)))
    assert not declared_equal(tokens, clause)
    tokens = tokenize("Coverage and prospecting get the same time.")
    assert declared_equal(tokens, list(range(len(tokens))))


def test_talking_to_my_own_director_is_not_a_takeover(bound: Bound) -> None:
    step = bound("plan")
    analysis = analyse(step, "I will talk to my director about the plan.")
    assert agent_takeovers(analysis, frozenset({"priya", "janssens"})) == []
    analysis = analyse(step, "I will talk to their director about the renewal.")
    assert agent_takeovers(analysis, frozenset({"priya", "janssens"}))


def test_a_takeover_as_the_condition_of_an_if_is_weighed_not_planned(bound: Bound) -> None:
    text = (
        "Coverage is the focus. We tier her 300 accounts together on Monday and every Friday "
        "she shows me who she reached. But if I call the C accounts myself, she learns nothing."
    )
    assert label(grade(bound, text)) == 2
    text = (
        "Coverage is the focus. We tier her 300 accounts together on Monday. If she is busy, "
        "I will call the C accounts myself."
    )
    assert label(grade(bound, text)) == 1


def test_a_request_refused_before_it_is_reported_is_not_accepted(bound: Bound) -> None:
    text = (
        "Coverage is the focus. We tier her 300 accounts together on Monday and every Friday "
        "she shows me who she reached. I am not going to do what she asked me to do, which is "
        "call Van Dijk for her; I will be there for the debrief."
    )
    assert label(grade(bound, text)) == 2
    text = (
        "Coverage is the focus. We tier her 300 accounts together on Monday. She asked me to "
        "call Van Dijk for her, and I will."
    )
    assert label(grade(bound, text)) == 1


# --- rules from reviewing the fourth labelled set's disagreements ---------------------------


def test_fragments_naming_four_tasks_are_a_list_whatever_the_title(bound: Bound) -> None:
    text = (
        "Territory coverage. Prospecting. Qualification. Forecast. Negotiation. Van Dijk. 31%. "
        "Role-play. Weekly review."
    )
    result = grade(bound, text)
    assert label(result) == 0


def test_a_negated_aside_after_the_focus_contrasts_something_else(bound: Bound) -> None:
    text = (
        "Focus: coverage planning (not the deal side - that's her strength)\n"
        "- Wk1: we tier her 300 accounts together, she drafts the touch plan for the C accounts\n"
        "- Every Friday she shows me who she reached"
    )
    coverage = mentions_of(bound, text, "territory_coverage")
    assert coverage and not coverage[0].negated
    assert label(grade(bound, text)) == 2


def test_praise_used_as_the_means_for_a_task_does_not_praise_the_task(bound: Bound) -> None:
    text = (
        "Her accounts trust her. Use that trust for territory coverage: on Monday we tier her "
        "300 accounts together and every Friday she shows me who she reached."
    )
    coverage = mentions_of(bound, text, "territory_coverage")
    assert coverage and not any(m.praised for m in coverage)
    assert label(grade(bound, text)) == 2


def test_a_concept_for_a_task_this_job_does_not_need_weighs_half(bound: Bound) -> None:
    step = bound("plan")
    # value realisation is not critical in a territory job; coverage is.
    other = analyse(step, "I want her customers to use it.").mentions
    own = analyse(step, "I want her to sort the accounts.").mentions
    other_weights = [m.weight for m in other if m.match.phrase == "concept"]
    own_weights = [m.weight for m in own if m.match.phrase == "concept"]
    assert other_weights and own_weights
    assert other_weights[0] == own_weights[0] / 2
