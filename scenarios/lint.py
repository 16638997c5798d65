"""Lint a scenario template: validate every variant, naming the parameter values of failures."""

from __future__ import annotations

from collections.abc import Mapping

from scenarios.errors import ScenarioError
from scenarios.loader import ScenarioTemplate, build_scenario, build_variant
from scenarios.model import Situation, TaskCatalogue
from scenarios.variants import EXHAUSTIVE_LIMIT, LINT_SEEDS, describe_values, variant_values

MAX_VARIANT_PROBLEMS = 20
"""Variant problems listed per file before the rest are summarised in one line."""


def lint_template(
    template: ScenarioTemplate,
    catalogue: TaskCatalogue,
    situations: Mapping[str, Situation],
) -> tuple[ScenarioError, ...]:
    """Every problem of the template: the default variant's, else each failing variant's.

    Checks all combinations when there are at most 256, else the variants of 300 seeds.
    """
    try:
        build_scenario(template, catalogue, situations, None)
    except ScenarioError as exc:
        # Structural problems show in every variant: report them once.
        return exc.problems
    if not template.has_variants:
        return ()
    problems: list[ScenarioError] = []
    seen: set[str] = set()
    failing = 0
    for seed, values in variant_values(template):
        try:
            build_variant(template, catalogue, situations, values, seed)
        except ScenarioError as exc:
            failing += 1
            suffix = f" [variant {describe_values(values)}]"
            for found in exc.problems:
                problem = ScenarioError(
                    found.source, found.field, found.message + suffix, found.line
                )
                if str(problem) in seen:
                    continue
                seen.add(str(problem))
                if len(problems) < MAX_VARIANT_PROBLEMS:
                    problems.append(problem)
    if failing:
        checked = (
            f"{template.variant_count} combinations"
            if template.variant_count <= EXHAUSTIVE_LIMIT
            else f"{LINT_SEEDS} seeded variants"
        )
        more = len(seen) - len(problems)
        tail = f" ({more} more problems not listed)" if more > 0 else ""
        problems.append(
            ScenarioError(
                template.source,
                "parameters",
                f"{failing} of {checked} are invalid{tail}; narrow the choices that cause them",
                template.lines.get(("parameters",)),
            )
        )
    return tuple(problems)
