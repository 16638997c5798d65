"""Schema details: the one list of grader names, step shapes, typed values."""

from __future__ import annotations

import pytest

from graders.registry import GRADERS
from scenarios.errors import ScenarioError
from scenarios.library import Library
from scenarios.loader import build_scenario, parse_template_bytes
from scenarios.schema import GRADER_NAMES


def test_grader_names_are_the_registered_graders() -> None:
    assert set(GRADER_NAMES) == set(GRADERS)


MULTI = """  - id: signals
    title: Spot the signals
    grader: multi_select
    weight: 0.25
    prompt: Which facts point at coverage?
    options:
      - {id: touched, label: Few accounts touched}
      - {id: discount, label: Low discounts}
      - {id: leads, label: Unworked leads}
    key: [touched, leads]
"""


def with_multi_select(text: str) -> str:
    start = text.index("  - id: situation\n")
    end = text.index("  - id: critical_tasks\n")
    return text[:start] + MULTI + text[end:]


def test_multi_select_step_keeps_its_authored_key(library: Library, minimal_text: str) -> None:
    template = parse_template_bytes(with_multi_select(minimal_text).encode(), "m.md")
    scenario = build_scenario(template, library.catalogue, library.situations)
    step = scenario.step("signals")
    assert (step.grader, step.key) == ("multi_select", ("touched", "leads"))
    assert [o.id for o in step.options] == ["touched", "discount", "leads"]


def test_multi_select_key_listing_an_option_twice(library: Library, minimal_text: str) -> None:
    text = with_multi_select(minimal_text).replace("[touched, leads]", "[touched, touched]")
    with pytest.raises(ScenarioError) as caught:
        build_scenario(
            parse_template_bytes(text.encode(), "m.md"), library.catalogue, library.situations
        )
    assert str(caught.value) == "m.md:43: steps[0].key: the key lists an option twice"


def test_facts_keep_their_types_and_the_plan_rubric_becomes_config(
    library: Library, minimal_text: str
) -> None:
    scenario = build_scenario(
        parse_template_bytes(minimal_text.encode(), "m.md"),
        library.catalogue,
        library.situations,
    )
    assert scenario.profile.facts == {"account_count": 300}
    plan = scenario.step("plan")
    assert plan.key == ()
    assert plan.config["situation_terms"] == ("300 accounts", "territory")
    assert plan.config["actions"] == ("joint territory plan",)
    assert plan.config["takeover_patterns"] == ("I will call them myself",)
    assert plan.config["focus_task"] == "territory_coverage"
    assert scenario.version == "1"


def test_reserved_config_keys_are_rejected(library: Library, minimal_text: str) -> None:
    text = minimal_text.replace(
        "    prompt: Write your plan.\n",
        "    prompt: Write your plan.\n    config: {focus_task: x}\n",
    )
    with pytest.raises(ScenarioError) as caught:
        build_scenario(
            parse_template_bytes(text.encode(), "m.md"), library.catalogue, library.situations
        )
    assert caught.value.field == "steps[3].config.focus_task"
    assert caught.value.message == "config.focus_task is filled by the loader; remove it"
