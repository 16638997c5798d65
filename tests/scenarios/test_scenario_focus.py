"""derive_focus: the contract's definition, its errors, and the never-coach-a-strength property."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scenarios.errors import ScenarioError
from scenarios.focus import derive_focus, explain_mismatch, relative_result
from scenarios.library import Library
from scenarios.model import Metric, SellerProfile, Situation

TERRITORY = Situation(
    "high_volume_territory",
    "High-volume territory seller",
    "",
    {
        "territory_coverage": 0.35,
        "prospecting": 0.20,
        "qualification": 0.20,
        "pipeline_management": 0.15,
        "forecasting": 0.10,
    },
)


def metric(
    metric_id: str, task: str, value: float, benchmark: float, higher: bool = True
) -> Metric:
    return Metric(metric_id, task, metric_id, value, benchmark, "%", higher)


def territory_profile(touched: float = 31) -> SellerProfile:
    """The flagship scenario's numbers."""
    return SellerProfile(
        "Priya Janssens",
        "Territory AE",
        {},
        (
            metric("accounts_touched", "territory_coverage", touched, 75),
            metric("time_on_top_accounts", "territory_coverage", 64, 35, higher=False),
            metric("new_opportunities", "prospecting", 7, 8),
            metric("qualified_win_rate", "qualification", 31, 28),
            metric("next_step_dated", "pipeline_management", 74, 80),
            metric("forecast_accuracy", "forecasting", 88, 85),
            metric("average_discount", "negotiation", 6, 12, higher=False),
        ),
    )


def test_worked_example_of_the_territory_scenario() -> None:
    derivation = derive_focus(TERRITORY, territory_profile())
    gaps = {gap.task: gap for gap in derivation.gaps}
    coverage = gaps["territory_coverage"]
    # shortfalls: (75-31)/75 = 0.5867 and (64-35)/35 = 0.8286 -> mean 0.7076
    assert coverage.shortfall == pytest.approx((44 / 75 + 29 / 35) / 2)
    assert coverage.score == pytest.approx(0.35 * (44 / 75 + 29 / 35) / 2)
    assert coverage.score == pytest.approx(0.2477, abs=1e-4)
    assert gaps["prospecting"].score == pytest.approx(0.2 * 1 / 8)
    assert gaps["pipeline_management"].score == pytest.approx(0.15 * 6 / 80)
    assert gaps["negotiation"].weight == 0.0
    assert gaps["negotiation"].surplus == pytest.approx(0.5)
    assert derivation.focus == "territory_coverage"
    assert derivation.strengths == ("qualification", "negotiation")
    assert derivation.critical_ranking == (
        "territory_coverage",
        "prospecting",
        "qualification",
        "pipeline_management",
        "forecasting",
    )
    assert [g.task for g in derivation.gaps][:3] == [
        "territory_coverage",
        "prospecting",
        "pipeline_management",
    ]
    # The machine fields keep ids and g-values; the learner-facing explanation does not.
    assert "g=" not in derivation.explanation
    assert "territory_coverage" not in derivation.explanation
    assert derivation.explanation.startswith(
        "territory coverage is Priya's largest gap on the tasks this job depends on "
        "(accounts_touched: 31% against a benchmark of 75%;"
    )


def test_the_explanation_speaks_in_task_labels_and_metric_labels() -> None:
    profile = territory_profile()
    labelled = SellerProfile(
        profile.name,
        profile.role,
        {},
        tuple(
            replace(m, label="Accounts with a meaningful conversation, last two quarters")
            if m.id == "accounts_touched"
            else m
            for m in profile.metrics
        ),
    )
    labels = {
        "territory_coverage": "Account prioritisation and coverage planning",
        "prospecting": "Prospecting",
        "qualification": "Qualification",
        "negotiation": "Negotiation",
    }
    text = derive_focus(TERRITORY, labelled, labels=labels).explanation
    assert text == (
        "Account prioritisation and coverage planning is Priya's largest gap on the tasks this "
        "job depends on (accounts with a meaningful conversation, last two quarters: 31% "
        "against a benchmark of 75%; time_on_top_accounts: 64% against a benchmark of 35% "
        "(lower is better)). The next gap, Prospecting, is less than a quarter as large once "
        "each gap is weighed by how much the job depends on the task. Priya's strengths, which "
        "are never the coaching focus: Qualification (11% better than benchmark), Negotiation "
        "(50% better than benchmark)."
    )


def test_every_library_explanation_uses_labels_not_ids(library: Library) -> None:
    for scenario_id in library.scenario_ids():
        text = library.scenario(scenario_id).derivation.explanation
        for task_id in library.catalogue.tasks:
            assert task_id not in text, (scenario_id, task_id)
        assert "g=" not in text


def test_mismatch_explanation_names_both_tasks_and_numbers() -> None:
    profile = territory_profile()
    derivation = derive_focus(TERRITORY, profile)
    text = explain_mismatch("negotiation", derivation, profile)
    assert text.startswith(
        "key says negotiation, but negotiation is 50% better than benchmark (a strength); "
        "the largest weighted gap is territory_coverage (g=0.25"
    )
    assert "accounts touched 31% vs 75%" in text
    assert explain_mismatch("prospecting", derivation, profile).startswith(
        "key says prospecting, but prospecting has g=0.03 (weight 0.20 x shortfall 0.12)"
    )


def test_missing_data_for_a_critical_task_is_an_error() -> None:
    profile = territory_profile()
    without = SellerProfile(
        profile.name,
        profile.role,
        {},
        tuple(m for m in profile.metrics if m.task != "forecasting"),
    )
    with pytest.raises(ScenarioError) as caught:
        derive_focus(TERRITORY, without)
    assert caught.value.message.startswith(
        "missing data: critical task forecasting (weight 0.10) of situation "
        "high_volume_territory has no metric"
    )


@pytest.mark.parametrize(
    ("qualification_value", "message"),
    [
        (50, "tie: focus prospecting (g=0.250) vs qualification (g=0.250)"),
        (58, "ambiguous: focus prospecting (g=0.250) vs qualification (g=0.210)"),
    ],
)
def test_a_runner_up_within_80_percent_is_an_error_naming_both_tasks(
    qualification_value: float, message: str
) -> None:
    two = Situation("s", "S", "", {"prospecting": 0.5, "qualification": 0.5})
    profile = SellerProfile(
        "x",
        "y",
        {},
        (
            metric("a", "prospecting", 50, 100),
            metric("b", "qualification", qualification_value, 100),
        ),
    )
    with pytest.raises(ScenarioError) as caught:
        derive_focus(two, profile)
    assert caught.value.message.startswith(message)


def test_a_runner_up_below_80_percent_is_clear() -> None:
    two = Situation("s", "S", "", {"prospecting": 0.5, "qualification": 0.5})
    clear = SellerProfile(
        "x", "y", {}, (metric("a", "prospecting", 50, 100), metric("b", "qualification", 61, 100))
    )
    assert derive_focus(two, clear).focus == "prospecting"


def test_no_gap_is_an_error() -> None:
    profile = SellerProfile(
        "x", "y", {}, tuple(metric(t, t, 100, 90) for t in TERRITORY.critical_tasks)
    )
    with pytest.raises(ScenarioError) as caught:
        derive_focus(TERRITORY, profile)
    assert caught.value.message.startswith("no gap:")


def test_shortfall_is_capped_at_one() -> None:
    one = Situation("s", "S", "", {"prospecting": 0.6, "qualification": 0.4})
    profile = SellerProfile(
        "x",
        "y",
        {},
        (metric("a", "prospecting", 300, 100, higher=False), metric("b", "qualification", 99, 100)),
    )
    gaps = {g.task: g for g in derive_focus(one, profile).gaps}
    assert gaps["prospecting"].shortfall == 1.0


TASKS = ["t0", "t1", "t2", "t3", "t4", "t5"]


@st.composite
def situations_and_profiles(draw: st.DrawFn) -> tuple[Situation, SellerProfile]:
    critical = draw(st.lists(st.sampled_from(TASKS), min_size=1, max_size=5, unique=True))
    raw = draw(st.lists(st.integers(1, 100), min_size=len(critical), max_size=len(critical)))
    weights = {task: value / sum(raw) for task, value in zip(critical, raw, strict=True)}
    metrics = []
    for task in TASKS:
        count = draw(st.integers(1 if task in critical else 0, 3))
        for index in range(count):
            metrics.append(
                Metric(
                    f"{task}_{index}",
                    task,
                    task,
                    draw(st.floats(0, 500, allow_nan=False)),
                    draw(st.floats(1, 300, allow_nan=False)),
                    higher_is_better=draw(st.booleans()),
                )
            )
    return Situation("s", "S", "", weights), SellerProfile("x", "y", {}, tuple(metrics))


@given(situations_and_profiles())
def test_the_sellers_strength_is_never_the_focus(case: tuple[Situation, SellerProfile]) -> None:
    situation, profile = case
    try:
        derivation = derive_focus(situation, profile)
    except ScenarioError as exc:
        # Refusing to name a focus is allowed only for the documented reasons.
        assert exc.message.split(":")[0] in ("missing data", "no gap", "ambiguous", "tie")
        return
    assert derivation.focus not in derivation.strengths
    focus_metrics = [m for m in profile.metrics if m.task == derivation.focus]
    assert any(relative_result(m) < 0 for m in focus_metrics)
    best = max(g.score for g in derivation.gaps)
    assert {g.task: g.score for g in derivation.gaps}[derivation.focus] == best
    assert derivation.focus in situation.critical_tasks


def test_every_library_scenario_states_its_derived_focus(library: Library) -> None:
    for scenario_id in library.scenario_ids():
        scenario = library.scenario(scenario_id)
        assert scenario.derivation.focus not in scenario.derivation.strengths
        focus_step = next(s for s in scenario.steps if s.grader == "coaching_focus")
        (option_id,) = focus_step.key
        assert next(o for o in focus_step.options if o.id == option_id).task == (
            scenario.derivation.focus
        )
