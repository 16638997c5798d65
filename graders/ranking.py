"""Grader for ranking steps: order the options from most to least critical for this job."""

from __future__ import annotations

from collections.abc import Mapping

from graders.base import BoundStep, ResponseError, StepConfigError
from graders.common import build_result, format_number, memo, options_by_id, require_id_list
from graders.result import CriterionResult, Evidence, StepResult
from scenarios.model import Option, Step


def option_weights(step: BoundStep) -> Mapping[str, float]:
    """Criticality weight per option: the situation's weight of the option's task (0 when not
    critical). Options without tasks fall back to their position in the step key."""
    return memo((step.step, step.scenario), "option_weights", lambda: _option_weights(step))


def _option_weights(step: BoundStep) -> dict[str, float]:
    s = step.step
    critical = step.scenario.situation.critical_tasks
    if any(o.task is not None for o in s.options):
        return {o.id: float(critical.get(o.task, 0.0)) if o.task else 0.0 for o in s.options}
    if not s.key:
        raise StepConfigError(
            f"step {s.id!r}: a ranking step needs options with tasks or a key (the order)"
        )
    position = {option_id: i for i, option_id in enumerate(s.key)}
    return {o.id: float(len(s.key) - position.get(o.id, len(s.key))) for o in s.options}


def weighted_tau_score(ranking: list[str], weights: Mapping[str, float]) -> tuple[float, list[
    tuple[str, str]
]]:
    """1 - the weighted normalised Kendall tau distance, and the discordant pairs (placed
    above, should be below)."""
    total = 0.0
    lost = 0.0
    discordant: list[tuple[str, str]] = []
    for i, upper in enumerate(ranking):
        for lower in ranking[i + 1 :]:
            difference = weights[upper] - weights[lower]
            total += abs(difference)
            if difference < 0:
                lost += -difference
                discordant.append((upper, lower))
    if total <= 0:
        return 1.0, discordant
    return 1.0 - lost / total, discordant


class RankingGrader:
    """Scores an order of options against the derived criticality of their tasks.

    The key is a weak order: critical tasks by the situation's weight, and every non-critical
    option tied at the bottom (options with equal weights are tied too). The score is one minus
    a weighted, normalised Kendall tau distance: every pair of options the key orders strictly
    costs |w_a - w_b| when the answer puts them the wrong way round, normalised by the sum of
    |w_a - w_b| over all pairs. Pairs tied in the key cost nothing in either order, so any order
    among tied items is correct; swapping the most and least critical costs most, swapping two
    nearly equal tasks costs little (top-weighted through the weights). The exact key order
    scores 1, its reverse 0.
    """

    name = "ranking"
    version = "1.0.0"

    def grade(self, step: BoundStep, response: object) -> StepResult:
        """Score a complete ranking (all option ids, most critical first)."""
        s = step.step
        ids = [o.id for o in s.options]
        ranking = require_id_list(s, response, ids, "the ranking")
        if len(ranking) != len(ids):
            missing = [i for i in ids if i not in ranking]
            raise _incomplete(s, missing)
        weights = option_weights(step)
        score, discordant = weighted_tau_score(ranking, weights)
        by_id = options_by_id(s)
        evidence = tuple(
            Evidence(
                text=f"{by_id[a].label} above {by_id[b].label}",
                source=f"pair:{a}>{b}",
            )
            for a, b in discordant
        )
        criterion = CriterionResult(
            id="order",
            label="Orders the tasks by how critical they are for this job",
            status="met" if score >= 1 - 1e-9 else ("missed" if score <= 1e-9 else "partial"),
            points=score,
            max_points=1.0,
            evidence=evidence,
            feedback=(
                "Your order matches the job's critical tasks."
                if not discordant
                else f"{len(discordant)} pair(s) out of order, weighted by how much the "
                "criticality differs."
            ),
        )
        order = memo((s, step.scenario), "order_text", lambda: _order_text(s, weights))
        messages = [criterion.feedback, "The order this job needs: " + order]
        if discordant:
            worst = max(discordant, key=lambda pair: weights[pair[1]] - weights[pair[0]])
            upper, lower = by_id[worst[0]], by_id[worst[1]]
            messages.append(
                f"Biggest miss: you put {upper.label} above {lower.label}. {lower.feedback}".strip()
            )
            if upper.feedback:
                messages.append(f"{upper.label}: {upper.feedback}")
        messages.append(s.feedback)
        messages.append(step.scenario.derivation.explanation)
        return build_result(step, self.name, self.version, [criterion], messages)


def _order_text(step: Step, weights: Mapping[str, float]) -> str:
    """'A (0.35) > B = C (0.2) > D, E (not critical here)'."""
    groups: dict[float, list[Option]] = {}
    for option in step.options:
        groups.setdefault(weights[option.id], []).append(option)
    parts = []
    for weight in sorted(groups, reverse=True):
        labels = " = ".join(o.label for o in groups[weight])
        parts.append(
            f"{labels} ({format_number(round(weight, 4))})" if weight > 0
            else f"{labels} (not critical here, any order)"
        )
    return " > ".join(parts)


def _incomplete(step: Step, missing: list[str]) -> ResponseError:
    """ResponseError for a ranking that leaves options out."""
    return ResponseError(
        f"step {step.id!r}: the ranking must list every option once; missing: {missing}"
    )
