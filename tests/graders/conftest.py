"""Test scenarios built directly from the model dataclasses (no loader involved).

`territory` mirrors the library's territory-rep-300-accounts scenario (variant Priya, 300
accounts, 31% touched) with its derivation worked out by hand from the contract's formula:
coverage g = 0.35 x mean(0.587, 0.829) = 0.248 is the focus; qualification (31% vs 28%) and
negotiation (6% vs 12% discount) are strengths.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from graders.base import BoundStep
from scenarios.model import (
    Derivation,
    Metric,
    Note,
    Option,
    Scenario,
    SellerProfile,
    Situation,
    Step,
    Task,
    TaskCatalogue,
    TaskGap,
)

TASKS_FILE = Path(__file__).resolve().parents[2] / "scenarios" / "library" / "tasks.yaml"


def load_catalogue() -> TaskCatalogue:
    """The real task catalogue, read as plain YAML."""
    data = yaml.safe_load(TASKS_FILE.read_text(encoding="utf-8"))
    tasks = {
        t["id"]: Task(
            id=t["id"],
            label=t["label"],
            description=t.get("description", ""),
            synonyms=tuple(t.get("synonyms", ())),
        )
        for t in data["tasks"]
    }
    return TaskCatalogue(tasks=tasks)


TERRITORY = Situation(
    id="high_volume_territory",
    label="High-volume territory seller",
    description="Hundreds of accounts in one region.",
    critical_tasks={
        "territory_coverage": 0.35,
        "prospecting": 0.20,
        "qualification": 0.20,
        "pipeline_management": 0.15,
        "forecasting": 0.10,
    },
)

PROFILE = SellerProfile(
    name="Priya Janssens",
    role="Territory Account Executive, Benelux mid-market",
    facts={
        "account_count": 300,
        "geography": "Belgium, the Netherlands and Luxembourg",
        "quota_attainment": "71% of quota year to date",
    },
    metrics=(
        Metric(
            "accounts_touched",
            "territory_coverage",
            "Accounts with a meaningful conversation",
            31,
            75,
            "%",
        ),
        Metric(
            "time_on_top_accounts",
            "territory_coverage",
            "Time on her 20 largest accounts",
            64,
            35,
            "%",
            higher_is_better=False,
        ),
        Metric("new_opportunities", "prospecting", "New opportunities per month", 7, 8),
        Metric(
            "qualified_win_rate",
            "qualification",
            "Win rate on qualified opportunities",
            31,
            28,
            "%",
        ),
        Metric(
            "next_step_dated",
            "pipeline_management",
            "Opportunities with a dated next step",
            74,
            80,
            "%",
        ),
        Metric("forecast_accuracy", "forecasting", "Forecast accuracy", 88, 85, "%"),
        Metric(
            "average_discount",
            "negotiation",
            "Average discount",
            6,
            12,
            "%",
            higher_is_better=False,
        ),
    ),
    notes=(
        Note(
            "crm_van_dijk_expansion",
            "crm_comment",
            "Third site visit at Van Dijk Logistics.",
            ("territory_coverage",),
        ),
        Note(
            "manager_pipeline_review",
            "manager_observation",
            "She had not looked at her 180 C accounts since handover.",
            ("territory_coverage",),
        ),
        Note(
            "call_note_discount",
            "call_note",
            "Traded a 3-year term for 4% instead.",
            ("negotiation",),
        ),
        Note(
            "email_marketing_leads",
            "email",
            "46 inbound leads are still unassigned.",
            ("territory_coverage", "prospecting"),
        ),
    ),
)

RANKING_OPTIONS = (
    Option("coverage", "Account prioritisation and coverage planning", "territory_coverage"),
    Option("prospecting", "Prospecting", "prospecting"),
    Option("qualification", "Qualification", "qualification"),
    Option("pipeline", "Pipeline management", "pipeline_management"),
    Option(
        "negotiation",
        "Negotiation",
        "negotiation",
        feedback="Negotiation matters more in a few-large-accounts job.",
    ),
    Option("executive", "Executive relationships", "executive_relationships"),
)

FOCUS_OPTIONS = (
    Option("coverage", "Account prioritisation and coverage planning", "territory_coverage"),
    Option("prospecting", "Prospecting", "prospecting"),
    Option("qualification", "Qualification", "qualification"),
    Option("pipeline", "Pipeline management", "pipeline_management"),
    Option("forecasting", "Forecasting", "forecasting"),
    Option(
        "negotiation",
        "Negotiation",
        "negotiation",
        feedback="Her negotiation is excellent: that is a strength.",
    ),
    Option("executive", "Executive relationships", "executive_relationships"),
)

STEPS = (
    Step(
        id="situation",
        title="Read the job",
        prompt="What kind of job?",
        grader="single_choice",
        weight=0.10,
        options=(
            Option("territory", "High-volume territory seller", feedback="Right, coverage job."),
            Option("global", "Strategic account manager", feedback="Her job is a territory job."),
            Option("hunter", "New-business hunter"),
            Option("inside", "Inside sales rep"),
        ),
        key=("territory",),
        feedback="The facts decide the job.",
    ),
    Step(
        id="signals",
        title="Signals",
        prompt="Which facts show a coverage problem?",
        grader="multi_select",
        weight=0.0,
        options=(
            Option("touched", "31% of accounts touched"),
            Option("time", "64% of time on 20 accounts"),
            Option("leads", "46 unassigned leads"),
            Option("discount", "6% average discount", feedback="That is a strength."),
            Option("forecast", "88% forecast accuracy"),
        ),
        key=("touched", "time", "leads"),
        feedback="Coverage shows in touches and time.",
    ),
    Step(
        id="critical_tasks",
        title="What the job needs",
        prompt="Rank the tasks.",
        grader="ranking",
        weight=0.20,
        options=RANKING_OPTIONS,
        key=("coverage", "prospecting", "qualification", "pipeline", "negotiation", "executive"),
        feedback="Coverage comes first in a territory job.",
    ),
    Step(
        id="focus",
        title="Find the gap",
        prompt="Which task, which data?",
        grader="coaching_focus",
        weight=0.35,
        options=FOCUS_OPTIONS,
        key=("coverage",),
        feedback="Only 31% of her accounts had a real conversation against a 75% benchmark.",
    ),
    Step(
        id="plan",
        title="Coach it",
        prompt="Write your plan.",
        grader="coaching_plan",
        weight=0.35,
        config={
            "situation_terms": (
                "300 accounts",
                "C accounts",
                "top 20",
                "20 largest",
                "Benelux",
                "tier",
                "31%",
                "inbound leads",
                "Van Dijk",
                "untouched accounts",
            ),
            "actions": (
                "joint territory plan",
                "tiering session",
                "coverage plan together",
                "weekly coverage review",
                "ride-along",
                "calendar review",
                "time audit",
            ),
            "takeover_patterns": (
                "I will call the C accounts",
                "I'll take over",
                "I'll work the accounts myself",
                "assign the accounts to me",
            ),
        },
        feedback="A strong plan names coverage and builds the tiering with her.",
    ),
)

DERIVATION = Derivation(
    focus="territory_coverage",
    gaps=(
        TaskGap(
            "territory_coverage",
            0.35,
            0.7076,
            0.0,
            0.2477,
            ("accounts_touched", "time_on_top_accounts"),
        ),
        TaskGap("prospecting", 0.20, 0.125, 0.0, 0.025, ("new_opportunities",)),
        TaskGap("pipeline_management", 0.15, 0.075, 0.0, 0.01125, ("next_step_dated",)),
        TaskGap("qualification", 0.20, 0.0, 0.107, 0.0, ("qualified_win_rate",)),
        TaskGap("forecasting", 0.10, 0.0, 0.035, 0.0, ("forecast_accuracy",)),
        TaskGap("negotiation", 0.0, 0.0, 0.5, 0.0, ("average_discount",)),
    ),
    strengths=("qualification", "negotiation"),
    critical_ranking=(
        "territory_coverage",
        "prospecting",
        "qualification",
        "pipeline_management",
        "forecasting",
    ),
    explanation="Account prioritisation and coverage planning is Priya's largest gap.",
)


def make_scenario(**changes: object) -> Scenario:
    """The territory test scenario, with optional field replacements."""
    fields: dict[str, object] = dict(
        id="territory-test",
        title="Priya's 300 accounts",
        version="1",
        summary="A test.",
        situation=TERRITORY,
        profile=PROFILE,
        steps=STEPS,
        sections=(),
        derivation=DERIVATION,
        content_hash="test-hash",
    )
    fields.update(changes)
    return Scenario(**fields)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def catalogue() -> TaskCatalogue:
    return load_catalogue()


@pytest.fixture(scope="session")
def territory() -> Scenario:
    return make_scenario()


@pytest.fixture(scope="session")
def bound(territory: Scenario, catalogue: TaskCatalogue) -> Callable[[str], BoundStep]:
    """bound(step_id) -> the BoundStep of the territory scenario."""

    def make(step_id: str) -> BoundStep:
        return BoundStep(step=territory.step(step_id), scenario=territory, catalogue=catalogue)

    return make
