"""Variants: parameters with choices, placeholders {{ name }}, and seeded instantiation.

A scenario declares `parameters:` (name -> {choices: [...]} or {min, max, step}) and uses
`{{ name }}` anywhere in front-matter strings and in the body. A value that is exactly
"{{ name }}" takes the parameter's type, so `value: "{{ touched_pct }}"` becomes a number.
Each learner's variant is picked with `random.Random(seed)`: the seed is a parameter, never
global state, so the same seed always gives the same variant.
"""

from __future__ import annotations

import itertools
import random
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from scenarios.errors import ScenarioError
from scenarios.source import LineMap, PathKey, format_path, line_for

Value = str | int | float | bool
Values = Mapping[str, Value]

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_EXACT = re.compile(r"^\s*\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}\s*$")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

MAX_RANGE_VALUES = 10_000
"""An integer range parameter may have at most this many values."""
EXHAUSTIVE_LIMIT = 256
"""Lint checks every combination up to this many; above it, LINT_SEEDS seeded variants."""
LINT_SEEDS = 300


@dataclass(frozen=True)
class Parameter:
    """One variant parameter and the values it may take (in authored order)."""

    name: str
    values: tuple[Value, ...]


class Templated(Protocol):
    """Anything with parameters (a ParameterSet, a loaded scenario template)."""

    @property
    def parameters(self) -> tuple[Parameter, ...]: ...


@dataclass(frozen=True)
class ParameterSet:
    """The parameters of one scenario, sorted by name."""

    parameters: tuple[Parameter, ...] = ()

    @property
    def combinations(self) -> int:
        """How many distinct variants the parameters allow."""
        count = 1
        for parameter in self.parameters:
            count *= len(parameter.values)
        return count


def instantiate(template: Templated, seed: int | None) -> dict[str, Value]:
    """The concrete parameter values for `seed` (None: every parameter's first value)."""
    if seed is None:
        return {p.name: p.values[0] for p in template.parameters}
    rng = random.Random(seed)
    return {p.name: rng.choice(p.values) for p in sorted(template.parameters, key=_by_name)}


def _by_name(parameter: Parameter) -> str:
    return parameter.name


def variant_values(template: Templated) -> Iterator[tuple[int | None, dict[str, Value]]]:
    """Every combination (with seed None) when there are at most EXHAUSTIVE_LIMIT of them,
    else the variants of seeds 0..LINT_SEEDS-1 (with their seed)."""
    parameters = template.parameters
    total = 1
    for parameter in parameters:
        total *= len(parameter.values)
    if total <= EXHAUSTIVE_LIMIT:
        names = [p.name for p in parameters]
        for combo in itertools.product(*(p.values for p in parameters)):
            yield None, dict(zip(names, combo, strict=True))
        return
    for seed in range(LINT_SEEDS):
        yield seed, instantiate(template, seed)


def describe_values(values: Values) -> str:
    """'account_count=300, seller_first=Priya' (for messages)."""
    return ", ".join(f"{name}={value}" for name, value in sorted(values.items()))


def parse_parameters(raw: object, source: str, lines: LineMap) -> ParameterSet:
    """Read the `parameters:` mapping; every problem is reported with its line."""
    if raw is None:
        return ParameterSet()
    problems: list[ScenarioError] = []
    base: PathKey = ("parameters",)
    if not isinstance(raw, dict):
        raise ScenarioError(
            source,
            "parameters",
            "expected a mapping of parameter name -> {choices: [...]}",
            line_for(lines, base),
        )
    parameters: list[Parameter] = []
    for name, spec in raw.items():
        path = (*base, str(name))

        def problem(message: str, sub: PathKey = (), path: PathKey = path) -> None:
            problems.append(
                ScenarioError(
                    source, format_path((*path, *sub)), message, line_for(lines, (*path, *sub))
                )
            )

        if not isinstance(name, str) or not _NAME.match(name):
            problem("a parameter name uses letters, digits and '_' and starts with a letter")
            continue
        if not isinstance(spec, dict):
            problem("expected {choices: [...]} or {min: .., max: .., step: ..}")
            continue
        unknown = sorted(set(spec) - {"choices", "min", "max", "step"})
        if unknown:
            problem(f"unknown field '{unknown[0]}'; allowed: choices, or min, max, step")
            continue
        if "choices" in spec:
            if set(spec) != {"choices"}:
                problem("use either choices or min/max/step, not both")
                continue
            choices = spec["choices"]
            if not isinstance(choices, list) or not choices:
                problem("parameter has no choices; list at least one value", ("choices",))
                continue
            bad = [c for c in choices if not isinstance(c, str | int | float) or c is None]
            if bad:
                problem("choices must be text or numbers", ("choices",))
                continue
            if len(set(map(repr, choices))) != len(choices):
                problem("duplicate choice; list each value once", ("choices",))
                continue
            parameters.append(Parameter(name, tuple(choices)))
            continue
        if "min" not in spec or "max" not in spec:
            problem("parameter has no choices; give choices: [...] or min and max")
            continue
        low, high, step = spec["min"], spec["max"], spec.get("step", 1)
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (low, high, step)):
            problem("min, max and step must be whole numbers")
            continue
        if step <= 0:
            problem("step must be above 0", ("step",))
            continue
        if low > high:
            problem(f"min ({low}) is above max ({high}); the range has no values", ("min",))
            continue
        values = tuple(range(low, high + 1, step))
        if len(values) > MAX_RANGE_VALUES:
            problem(f"range has {len(values)} values; the limit is {MAX_RANGE_VALUES}")
            continue
        parameters.append(Parameter(name, values))
    if problems:
        raise ScenarioError(
            problems[0].source,
            problems[0].field,
            problems[0].message,
            problems[0].line,
            problems=tuple(problems),
        )
    return ParameterSet(tuple(sorted(parameters, key=_by_name)))


def placeholder_problems(
    data: Any, known: Sequence[str], path: PathKey = ()
) -> Iterator[tuple[PathKey, str]]:
    """Yield (path, message) for every unknown or malformed placeholder in strings of `data`."""
    if isinstance(data, str):
        for match in PLACEHOLDER.finditer(data):
            if match.group(1) not in known:
                yield path, _unknown_parameter(match.group(1), known)
        rest = PLACEHOLDER.sub("", data)
        if "{{" in rest or "}}" in rest:
            start = rest.find("{{") if "{{" in rest else rest.find("}}")
            fragment = rest[start : start + 20].split("\n")[0]
            yield (
                path,
                (
                    f"malformed placeholder near '{fragment}'; write {{{{ name }}}} with a "
                    "declared parameter name"
                ),
            )
    elif isinstance(data, dict):
        for key, value in data.items():
            yield from placeholder_problems(value, known, (*path, str(key)))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from placeholder_problems(value, known, (*path, index))


def _unknown_parameter(name: str, known: Sequence[str]) -> str:
    listed = ", ".join(known) if known else "none declared"
    return (
        f"unknown parameter '{{{{ {name} }}}}'; declared parameters: {listed}. "
        "Declare it under parameters: or fix the name"
    )


def substitute(data: Any, values: Values) -> Any:
    """Replace placeholders in every string of `data`; an exact '{{ x }}' keeps x's type."""
    if isinstance(data, str):
        exact = _EXACT.match(data)
        if exact is not None and exact.group(1) in values:
            return values[exact.group(1)]
        return substitute_text(data, values)
    if isinstance(data, dict):
        return {key: substitute(value, values) for key, value in data.items()}
    if isinstance(data, list):
        return [substitute(value, values) for value in data]
    return data


def substitute_text(text: str, values: Values) -> str:
    """Replace every {{ name }} in `text` with the value's text."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            return match.group(0)
        value = values[name]
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    return PLACEHOLDER.sub(replace, text)
