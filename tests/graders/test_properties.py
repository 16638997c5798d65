"""Properties every grader keeps, checked with hypothesis."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graders.base import BoundStep
from graders.choice import MultiSelectGrader
from graders.ranking import RankingGrader, weighted_tau_score
from graders.registry import GRADERS
from scenarios.model import Scenario, TaskCatalogue
from tests.graders.conftest import load_catalogue, make_scenario

SCENARIO: Scenario = make_scenario()
CATALOGUE: TaskCatalogue = load_catalogue()
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def bound(step_id: str, scenario: Scenario = SCENARIO) -> BoundStep:
    return BoundStep(step=scenario.step(step_id), scenario=scenario, catalogue=CATALOGUE)


def ids(step_id: str) -> list[str]:
    return [o.id for o in SCENARIO.step(step_id).options]


def reordered(step_id: str, order: list[int]) -> Scenario:
    """The scenario with one step's options shown in another order."""
    step = SCENARIO.step(step_id)
    options = tuple(step.options[i] for i in order)
    steps = tuple(replace(s, options=options) if s.id == step_id else s for s in SCENARIO.steps)
    return replace(SCENARIO, steps=steps)


EVIDENCE_IDS = [m.id for m in SCENARIO.profile.metrics] + [n.id for n in SCENARIO.profile.notes]

responses = st.one_of(
    st.tuples(st.just("situation"), st.sampled_from(ids("situation"))),
    st.tuples(st.just("signals"), st.lists(st.sampled_from(ids("signals")), unique=True)),
    st.tuples(st.just("critical_tasks"), st.permutations(ids("critical_tasks"))),
    st.tuples(
        st.just("focus"),
        st.fixed_dictionaries(
            {
                "task": st.sampled_from(ids("focus")),
                "evidence": st.lists(st.sampled_from(EVIDENCE_IDS), unique=True),
            }
        ),
    ),
    st.tuples(st.just("plan"), st.text(max_size=400)),
)


@FAST
@given(responses)
def test_scores_are_in_range_and_deterministic(item: tuple[str, object]) -> None:
    step_id, response = item
    grader = GRADERS[SCENARIO.step(step_id).grader]
    first = grader.grade(bound(step_id), response)
    assert 0.0 <= first.score <= 1.0
    assert 0.0 <= first.confidence <= 1.0
    for criterion in first.criteria:
        assert 0.0 <= criterion.points <= criterion.max_points
    assert grader.grade(bound(step_id), response) == first


@FAST
@given(st.data())
def test_option_order_never_changes_a_score(data: st.DataObject) -> None:
    step_id = data.draw(st.sampled_from(["situation", "signals", "critical_tasks", "focus"]))
    n = len(SCENARIO.step(step_id).options)
    order = data.draw(st.permutations(list(range(n))))
    response: object
    if step_id == "situation":
        response = data.draw(st.sampled_from(ids(step_id)))
    elif step_id == "signals":
        response = data.draw(st.lists(st.sampled_from(ids(step_id)), unique=True))
    elif step_id == "critical_tasks":
        response = data.draw(st.permutations(ids(step_id)))
    else:
        response = {"task": data.draw(st.sampled_from(ids(step_id))), "evidence": []}
    grader = GRADERS[SCENARIO.step(step_id).grader]
    original = grader.grade(bound(step_id), response).score
    shuffled = grader.grade(bound(step_id, reordered(step_id, list(order))), response).score
    assert original == shuffled


@FAST
@given(st.lists(st.sampled_from(ids("signals")), unique=True), st.data())
def test_adding_a_wrong_option_never_raises_a_multi_select_score(
    picked: list[str], data: st.DataObject
) -> None:
    key = set(SCENARIO.step("signals").key)
    wrong = [i for i in ids("signals") if i not in key and i not in picked]
    if not wrong:
        return
    extra = data.draw(st.sampled_from(wrong))
    grader = MultiSelectGrader()
    assert (
        grader.grade(bound("signals"), [*picked, extra]).score
        <= grader.grade(bound("signals"), picked).score
    )


@FAST
@given(st.data())
def test_picking_every_option_never_earns_full_credit(data: st.DataObject) -> None:
    order = data.draw(st.permutations(ids("signals")))
    assert MultiSelectGrader().grade(bound("signals"), list(order)).score < 1.0


@FAST
@given(st.permutations(ids("critical_tasks")))
def test_ranking_is_one_exactly_when_no_pair_is_discordant(order: list[str]) -> None:
    result = RankingGrader().grade(bound("critical_tasks"), list(order))
    assert (result.score == 1.0) == (result.criteria[0].evidence == ())


hostile_text = st.one_of(
    st.text(),
    st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x1F)),
    st.text(alphabet=st.characters(codec=None, categories=["Cs", "Co", "Cf", "Mn", "Zs"])),
    st.builds(lambda s, n: s * n, st.text(min_size=1, max_size=8), st.integers(1, 2000)),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_text)
def test_arbitrary_text_never_raises(text: str) -> None:
    result = GRADERS["coaching_plan"].grade(bound("plan"), text)
    assert 0.0 <= result.score <= 1.0
    for criterion in result.criteria:
        for e in criterion.evidence:
            assert e.start is not None and e.end is not None
            assert text[e.start : e.end] == e.text


@settings(max_examples=5, deadline=None)
@given(st.sampled_from(["x", "\x00", "é", "I'll", "coverage ", "🙂"]))
def test_one_megabyte_strings_never_raise(unit: str) -> None:
    text = unit * (1_000_000 // len(unit))
    result = GRADERS["coaching_plan"].grade(bound("plan"), text)
    assert 0.0 <= result.score <= 1.0


weights_strategy = st.dictionaries(
    st.sampled_from(list("abcdefg")),
    st.sampled_from([0.0, 0.0, 0.1, 0.2, 0.2, 0.35]),
    min_size=2,
)


@FAST
@given(weights_strategy, st.data())
def test_swapping_tied_items_never_changes_a_ranking_score(
    weights: dict[str, float], data: st.DataObject
) -> None:
    order = list(data.draw(st.permutations(sorted(weights))))
    score, _ = weighted_tau_score(order, weights)
    assert 0.0 <= score <= 1.0
    tied = [(i, j) for i in range(len(order)) for j in range(i + 1, len(order))
            if weights[order[i]] == weights[order[j]]]
    if tied:
        i, j = data.draw(st.sampled_from(tied))
        swapped = order.copy()
        swapped[i], swapped[j] = swapped[j], swapped[i]
        assert weighted_tau_score(swapped, weights)[0] == pytest.approx(score)


@FAST
@given(weights_strategy)
def test_sorting_by_weight_always_scores_one(weights: dict[str, float]) -> None:
    order = sorted(weights, key=lambda k: -weights[k])
    assert weighted_tau_score(order, weights)[0] == 1.0
