"""How fast are the graders? Steps/s for the rule graders, answers/s for coaching_plan.

    python bench/grader_speed.py [--scenario ID] [--seconds 2]

Each number is measured through graders.scoring.grade_step (registry look-up included) and is
printed with the throughput of a no-op grader called through the same registry and path in the
same run, so the ratio says how much of the budget the grading itself takes on this machine.
Targets (one core): rule graders >= 20,000 steps/s, free text >= 2,000 answers/s. Free-text
answers are the dev split of bench/data/grader_validity/<scenario>.jsonl (never the held-out
test split), or built-in samples when that file is missing.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from graders.base import BoundStep  # noqa: E402
from graders.registry import temporarily_registered  # noqa: E402
from graders.result import CriterionResult, StepResult  # noqa: E402
from graders.scoring import grade_step  # noqa: E402
from scenarios.library import load_library  # noqa: E402
from scenarios.model import Scenario, Step, TaskCatalogue  # noqa: E402

DATA_DIR = ROOT / "bench" / "data" / "grader_validity"
RULE_TARGET = 20_000
TEXT_TARGET = 2_000
SAMPLE_ANSWERS = (
    "Monday we tier her accounts together, she drafts a touch plan for the C accounts, and we "
    "review coverage every Friday against the benchmark.",
    "Work with her on territory coverage this month.",
    "Not negotiation - she is brilliant at it. We build her coverage plan on Monday.",
    "I'll call the C accounts myself so she can focus on the big expansion.",
    "Motivation: she needs to believe she can hit the number; weekly pep talks.",
)


class NoopGrader:
    """Returns a fixed result: the cost of the registry and grade_step path alone."""

    name = "noop"
    version = "0.0.0"
    _result = StepResult(
        score=0.0,
        criteria=(CriterionResult("noop", "noop", "missed", 0.0, 1.0),),
        feedback=(),
        confidence=1.0,
        needs_review=False,
        grader="noop",
        grader_version="0.0.0",
    )

    def grade(self, step: BoundStep, response: object) -> StepResult:
        """Ignore the input."""
        return self._result


def rate(work: Sequence[tuple[str, object]], call: Callable[[str, object], object],
         seconds: float) -> float:
    """Calls per second of `call` cycling through `work` for about `seconds`."""
    for step_id, response in work:  # warm caches (compiled lexicons, stems)
        call(step_id, response)
    done = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for step_id, response in work:
            call(step_id, response)
        done += len(work)
        now = time.perf_counter()
        if now >= deadline:
            return done / (now - start)


def rule_work(scenario: Scenario) -> list[tuple[str, object]]:
    """A right and a wrong answer for every rule-graded step of the scenario."""
    work: list[tuple[str, object]] = []
    for step in scenario.steps:
        ids = [o.id for o in step.options]
        if step.grader == "single_choice":
            work += [(step.id, step.key[0]), (step.id, ids[-1])]
        elif step.grader == "multi_select":
            work += [(step.id, list(step.key)), (step.id, ids)]
        elif step.grader == "ranking":
            work += [(step.id, list(step.key)), (step.id, list(step.key)[::-1])]
        elif step.grader == "coaching_focus":
            items = [m.id for m in scenario.profile.metrics] + [
                n.id for n in scenario.profile.notes
            ]
            work += [
                (step.id, {"task": step.key[0], "evidence": items[:2]}),
                (step.id, {"task": ids[-1], "evidence": items}),
            ]
    return work


def text_work(scenario: Scenario, step: Step) -> list[tuple[str, object]]:
    """Dev-split answers for the scenario (never the test split), else built-in samples."""
    path = DATA_DIR / f"{scenario.id}.jsonl"
    answers: list[str] = []
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                record = json.loads(line)
                if record.get("split") == "dev":
                    answers.append(record["response"])
    return [(step.id, a) for a in (answers or list(SAMPLE_ANSWERS))]


def as_noop(scenario: Scenario) -> Scenario:
    """The same scenario with every step graded by the no-op grader."""
    return replace(scenario, steps=tuple(replace(s, grader="noop") for s in scenario.steps))


def main(argv: Sequence[str] | None = None) -> int:
    """Measure and print the rates and ratios."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--scenario", default="territory-rep-300-accounts")
    parser.add_argument("--seconds", type=float, default=2.0, help="per measurement")
    args = parser.parse_args(argv)
    library = load_library()
    scenario = library.scenario(args.scenario)
    catalogue: TaskCatalogue = library.catalogue
    noop_scenario = as_noop(scenario)
    plan = next((s for s in scenario.steps if s.grader == "coaching_plan"), None)

    def real(step_id: str, response: object) -> object:
        return grade_step(scenario, step_id, response, catalogue)

    def noop(step_id: str, response: object) -> object:
        return grade_step(noop_scenario, step_id, response, catalogue)

    print(f"grader speed - scenario {scenario.id}, {args.seconds:g} s per measurement, one core")
    with temporarily_registered(NoopGrader()):
        rules = rule_work(scenario)
        rule_rate = rate(rules, real, args.seconds)
        rule_noop = rate(rules, noop, args.seconds)
        print(f"rule graders   {rule_rate:>10,.0f} steps/s    no-op {rule_noop:>10,.0f}/s    "
              f"ratio {rule_rate / rule_noop:.3f}    target >= {RULE_TARGET:,} steps/s "
              f"({'met' if rule_rate >= RULE_TARGET else 'NOT met'})")
        if plan is not None:
            texts = text_work(scenario, plan)
            text_rate = rate(texts, real, args.seconds)
            text_noop = rate(texts, noop, args.seconds)
            print(f"coaching_plan  {text_rate:>10,.0f} answers/s  no-op {text_noop:>10,.0f}/s    "
                  f"ratio {text_rate / text_noop:.3f}    target >= {TEXT_TARGET:,} answers/s "
                  f"({'met' if text_rate >= TEXT_TARGET else 'NOT met'}; {len(texts)} answers)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
