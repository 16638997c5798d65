"""coaching_plan: a plan that names no task but works on the focus task's own data.

The scenario's metrics and notes say which task each number and account is evidence for. A
coaching plan that names no task (a metaphor, everyday words) but is built on the numbers or
accounts that belong to the focus task alone is read as working on the focus (rubric D8) - at
most label 1 and always sent to review: data alone is never full marks. Quoting another task's
data, rejecting the focus, taking over or having no concrete action keep it at 0.

Every answer is written for the test fixture's seller (Priya: coverage is the focus, with 64%
of her time on 20 accounts against 35% and 180 untouched C accounts; negotiation is her
strength). None is copied from the labelled answer sets.
"""

from __future__ import annotations

from dataclasses import replace

from graders.base import BoundStep
from graders.rubric import CoachingPlanGrader, analyse, works_on_focus_material
from scenarios.model import Note, TaskCatalogue
from tests.graders.conftest import PROFILE, make_scenario
from tests.graders.plan_helpers import Bound, grade, label

GARDEN = (
    "Her garden gets 64% of the water on twenty plants while the other beds dry out. On "
    "Thursday we sit together and she sorts every bed into three piles; every Friday she "
    "shows me which beds got water that week."
)


def test_a_metaphor_on_the_focus_tasks_own_numbers_reads_as_the_focus(bound: Bound) -> None:
    result = grade(bound, GARDEN)
    assert label(result) == 1
    assert result.needs_review
    signals = CoachingPlanGrader().review_signals(bound("plan"), GARDEN)
    assert "focus_from_data" in signals
    assert "never names" in " ".join(result.feedback)


def test_the_focus_tasks_own_accounts_count_like_its_numbers(bound: Bound) -> None:
    # The 180 C accounts come from a note tagged with coverage alone.
    text = (
        "She has not opened the 180 in months. On Monday we sit together, she sorts them into "
        "three piles and drafts who hears from her when; every Friday she walks me through "
        "who she reached."
    )
    assert label(grade(bound, text)) == 1


def test_data_alone_never_earns_full_marks(bound: Bound) -> None:
    text = GARDEN + (
        " We rehearse the first conversations together, and by the end of the month 75% of "
        "her beds have had water; she owns the schedule, I only review it."
    )
    result = grade(bound, text)
    assert label(result) == 1
    assert result.needs_review


def test_another_tasks_numbers_keep_it_unread(bound: Bound) -> None:
    # 88% is her forecast accuracy: the plan may be about forecasting.
    text = GARDEN + " She should also get the 88% up."
    assert label(grade(bound, text)) == 0


def test_a_takeover_is_not_coaching_the_focus(bound: Bound) -> None:
    text = (
        "Her garden gets 64% of the water on twenty plants. I'll take over the dry beds myself "
        "this month; every Friday she shows me the list and we review it together."
    )
    assert label(grade(bound, text)) == 0


def test_a_rejected_focus_is_not_read_from_its_data(bound: Bound) -> None:
    text = (
        "64% of her time on twenty accounts is fine, coverage is not the issue. Every Friday "
        "we sit together and review her biggest deals so she can land them."
    )
    result = grade(bound, text)
    assert label(result) == 0
    assert "focus_from_data" not in CoachingPlanGrader().review_signals(bound("plan"), text)


def test_a_number_without_a_concrete_action_is_no_plan(bound: Bound) -> None:
    text = (
        "Her garden gets 64% of the water on twenty plants while the other beds dry out and "
        "nobody knows what grows there any more, which is a real shame for her."
    )
    assert not works_on_focus_material(bound("plan"), analyse(bound("plan"), text))
    assert label(grade(bound, text)) == 0


def test_a_short_answer_quoting_a_number_is_no_plan(bound: Bound) -> None:
    text = "64% on twenty plants. Every Friday we review it together."
    assert label(grade(bound, text)) == 0


def test_a_named_other_task_keeps_the_wrong_focus(bound: Bound) -> None:
    # The plan names negotiation (her strength): it is about that, whatever numbers it quotes.
    text = (
        "64% of her time is on twenty accounts, so every Friday we sit together and rehearse "
        "her negotiation on the biggest of them."
    )
    assert label(grade(bound, text)) == 0


# --- review: a plan one criterion short of full marks because no data was recognised ------


def test_a_named_focus_and_action_without_recognised_data_goes_to_review(bound: Bound) -> None:
    # Only the situation criterion is missing: whether the plan is specific to this seller
    # (her accounts in words the matcher does not know) is a human's call at the band edge.
    text = (
        "Coverage is the focus this month. On Monday we sit down together and she drafts a "
        "touch plan; every Friday she shows me who she reached."
    )
    result = grade(bound, text)
    assert label(result) == 1
    assert result.needs_review
    assert "situation_edge" in CoachingPlanGrader().review_signals(bound("plan"), text)


def test_a_plan_missing_its_action_is_not_sent_to_review_for_it(bound: Bound) -> None:
    # Without a concrete action the label-1 reading is usually right (most such plans are 1).
    text = "Coverage is the focus this month: 31% of her 300 accounts touched is far too few."
    signals = CoachingPlanGrader().review_signals(bound("plan"), text)
    assert "situation_edge" not in signals


# --- a note tagged with the focus and another task (never the strength) -------------------


def _bound_with_note(catalogue: TaskCatalogue, note: Note) -> Bound:
    scenario = make_scenario(
        profile=replace(PROFILE, notes=(*PROFILE.notes, note)), content_hash=f"test-{note.id}"
    )

    def make(step_id: str) -> BoundStep:
        return BoundStep(step=scenario.step(step_id), scenario=scenario, catalogue=catalogue)

    return make


SHARED = (
    "The 46 sit in a drawer while her twenty favourites get every visit. On Thursday we sit "
    "together, she sorts the drawer into three piles and drafts who hears from her when; "
    "every Friday she walks me through who she reached."
)


def test_a_note_tagged_with_the_focus_and_a_non_strength_task_is_focus_data(
    bound: Bound,
) -> None:
    # "46 inbound leads" is tagged with coverage and prospecting: a plan that names no task
    # and works on them is read as the focus (held at label 1, reviewed), since the note is
    # evidence for the focus and the other task is not the tempting wrong one.
    result = grade(bound, SHARED)
    assert label(result) == 1
    assert result.needs_review
    assert "focus_from_data" in CoachingPlanGrader().review_signals(bound("plan"), SHARED)


def test_a_note_that_also_carries_the_strength_is_not_focus_data(
    catalogue: TaskCatalogue,
) -> None:
    # The same accounts in a note tagged with coverage and negotiation (her strength): a
    # wrong-focus plan on the strength quotes them as readily, so they say nothing.
    note = Note(
        "crm_brabant", "crm_comment", "Brabant Foods: 57 lines renegotiated at renewal.",
        ("territory_coverage", "negotiation"),
    )
    bound = _bound_with_note(catalogue, note)
    text = (
        "The 57 at Brabant Foods sit in a drawer. On Thursday we sit together, she sorts the "
        "drawer into three piles and drafts who hears from her when; every Friday she walks "
        "me through who she reached."
    )
    assert not works_on_focus_material(bound("plan"), analyse(bound("plan"), text))
    assert label(grade(bound, text)) == 0


def test_a_note_without_the_focus_still_counts_against_it(catalogue: TaskCatalogue) -> None:
    note = Note(
        "crm_pipeline", "crm_comment", "57 opportunities have no dated next step.",
        ("pipeline_management", "prospecting"),
    )
    bound = _bound_with_note(catalogue, note)
    text = SHARED + " She also clears the 57."
    assert not works_on_focus_material(bound("plan"), analyse(bound("plan"), text))
