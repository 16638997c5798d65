"""Variants: seeded, reproducible instantiation; typed placeholders; keys from the derivation."""

from __future__ import annotations

from pathlib import Path

import pytest

from scenarios.errors import ScenarioError
from scenarios.library import Library
from scenarios.lint import lint_template
from scenarios.loader import build_scenario, parse_template, parse_template_bytes
from scenarios.variants import (
    LINT_SEEDS,
    Parameter,
    ParameterSet,
    instantiate,
    substitute,
    variant_values,
)

FLAGSHIP = "territory-rep-300-accounts"


def test_same_seed_gives_the_same_variant(library: Library) -> None:
    first = library.scenario(FLAGSHIP, seed=1234)
    again = library.scenario(FLAGSHIP, seed=1234)
    assert first == again
    assert first.content_hash == again.content_hash
    assert first.variant_seed == 1234


def test_seeds_reach_every_choice_and_change_the_hash(library: Library) -> None:
    names = {library.scenario(FLAGSHIP, seed).profile.name for seed in range(60)}
    assert names == {"Priya Janssens", "Sanne Janssens", "Leila Janssens"}
    template = library.template(FLAGSHIP)
    by_variant: dict[str, set[str]] = {}
    for seed in range(20):
        chosen = repr(sorted(instantiate(template, seed).items()))
        by_variant.setdefault(chosen, set()).add(library.scenario(FLAGSHIP, seed).content_hash)
    # One hash per variant whatever seed chose it; different variants, different hashes.
    assert all(len(hashes) == 1 for hashes in by_variant.values())
    assert len({h for hashes in by_variant.values() for h in hashes}) == len(by_variant) > 1


def test_a_scenario_without_variants_has_one_hash_for_every_seed(library: Library) -> None:
    fixed = [s for s in library.scenario_ids() if not library.template(s).has_variants]
    assert fixed, "the library should hold a scenario without variants"
    assert len({library.scenario(fixed[0], seed).content_hash for seed in range(5)}) == 1


def test_seed_none_is_the_first_value_of_every_parameter(library: Library) -> None:
    scenario = library.scenario(FLAGSHIP)
    assert scenario.title == "Priya's 280 accounts"
    assert scenario.variant_seed is None
    assert library.has_variants(FLAGSHIP)


def test_instantiate_uses_only_the_seed() -> None:
    template = ParameterSet((Parameter("a", (1, 2, 3)), Parameter("b", ("x", "y"))))
    assert instantiate(template, 7) == instantiate(template, 7)
    assert instantiate(template, None) == {"a": 1, "b": "x"}
    seen = {tuple(sorted(instantiate(template, seed).items())) for seed in range(100)}
    assert len(seen) == 6


def test_an_exact_placeholder_takes_the_parameter_type() -> None:
    data = {"value": "{{ n }}", "label": "{{ n }} accounts", "list": ["{{ name }}"]}
    assert substitute(data, {"n": 31, "name": "Ana"}) == {
        "value": 31,
        "label": "31 accounts",
        "list": ["Ana"],
    }


def test_metric_values_become_numbers_in_the_concrete_variant(library: Library) -> None:
    scenario = library.scenario(FLAGSHIP, seed=3)
    touched = next(m for m in scenario.profile.metrics if m.id == "accounts_touched")
    assert touched.value in (27.0, 31.0, 36.0)
    # The body is filled with the same variant's values as the front matter.
    accounts = scenario.profile.facts["account_count"]
    assert f"| Accounts owned | {accounts} |" in scenario.sections[1].markdown
    assert "{{" not in str(scenario)


def test_focus_and_ranking_keys_come_from_each_variants_derivation(
    library: Library, minimal_text: str
) -> None:
    template = parse_template_bytes(minimal_text.encode(), "minimal.md")
    for seed in range(20):
        scenario = build_scenario(template, library.catalogue, library.situations, seed)
        focus = scenario.step("focus")
        assert focus.key == ("coverage",)
        assert focus.config["focus_task"] == scenario.derivation.focus
        assert focus.config["strengths"] == ("negotiation",)
        ranking = scenario.step("critical_tasks")
        assert ranking.key == ("coverage", "prospecting", "negotiation")
        assert ranking.config["weights"] == {
            "prospecting": 0.2,
            "coverage": 0.35,
            "negotiation": 0.0,
        }


def test_the_key_follows_the_variant_when_the_data_decides(
    library: Library, minimal_text: str
) -> None:
    # The focus step's options include both candidates; which one is key depends on the data.
    text = minimal_text.replace("focus: territory_coverage", 'focus: "{{ expected }}"').replace(
        "  seller:\n    choices: [Ana, Bo]",
        "  seller:\n    choices: [Ana, Bo]\n  expected:\n    choices: [territory_coverage]",
    )
    template = parse_template_bytes(text.encode(), "keyed.md")
    scenario = build_scenario(template, library.catalogue, library.situations, 5)
    assert scenario.step("focus").key == ("coverage",)
    swapped = text.replace(
        'value: "{{ touched }}", benchmark: 75', "value: 75, benchmark: 75"
    ).replace("value: 7, benchmark: 8", "value: 2, benchmark: 8")
    swapped = swapped.replace("choices: [territory_coverage]", "choices: [prospecting]")
    scenario = build_scenario(
        parse_template_bytes(swapped.encode(), "swapped.md"),
        library.catalogue,
        library.situations,
        5,
    )
    assert scenario.derivation.focus == "prospecting"
    assert scenario.step("focus").key == ("prospecting",)


def test_content_hash_covers_the_file_bytes(library: Library, minimal_text: str) -> None:
    one = parse_template_bytes(minimal_text.encode(), "a.md")
    two = parse_template_bytes((minimal_text + "\nMore.\n").encode(), "a.md")
    assert one.content_hash({"n": 1}) != two.content_hash({"n": 1})
    assert one.content_hash({"n": 1}) != one.content_hash({"n": 2})
    assert one.content_hash({"a": 1, "b": 2}) == one.content_hash({"b": 2, "a": 1})


def test_integer_range_parameters(library: Library, minimal_text: str) -> None:
    template = parse_template_bytes(minimal_text.encode(), "m.md")
    touched = next(p for p in template.parameters if p.name == "touched")
    assert touched.values == (20, 30, 40)
    assert template.variant_count == 6


def test_lint_checks_every_combination_up_to_256_else_300_seeds() -> None:
    small = ParameterSet((Parameter("a", tuple(range(16))), Parameter("b", tuple(range(16)))))
    assert len(list(variant_values(small))) == 256
    large = ParameterSet((Parameter("a", tuple(range(16))), Parameter("b", tuple(range(17)))))
    listed = list(variant_values(large))
    assert len(listed) == LINT_SEEDS
    assert listed[0] == (0, instantiate(large, 0))


def test_lint_names_the_parameter_values_of_ambiguous_variants(library: Library) -> None:
    path = Path(__file__).resolve().parent.parent / "data" / "invalid" / "variant-ambiguous.md"
    problems = lint_template(parse_template(path), library.catalogue, library.situations)
    ambiguous = [p for p in problems if p.message.startswith("ambiguous")]
    assert [p.message.rsplit("[", 1)[1] for p in ambiguous] == [
        "variant seller=Ana, touched=69]",
        "variant seller=Bo, touched=69]",
    ]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("{min: 5, max: 1}", "min (5) is above max (1); the range has no values"),
        ("{min: 1, max: 5, step: 0}", "step must be above 0"),
        ("{choices: [a, a]}", "duplicate choice; list each value once"),
        ("{values: [a]}", "unknown field 'values'; allowed: choices, or min, max, step"),
        ("{min: 1}", "parameter has no choices; give choices: [...] or min and max"),
    ],
)
def test_bad_parameters_are_rejected(minimal_text: str, spec: str, message: str) -> None:
    text = minimal_text.replace("  seller:\n    choices: [Ana, Bo]", f"  seller: {spec}")
    with pytest.raises(ScenarioError) as caught:
        parse_template_bytes(text.encode(), "p.md")
    assert caught.value.message == message
    assert caught.value.line == 11
