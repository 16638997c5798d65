"""The graders over the real scenario library (every scenario, default variant and a seed)."""

from __future__ import annotations

import pytest

from graders.registry import GRADERS
from graders.scoring import grade_attempt, grade_step
from scenarios.library import Library, load_library
from scenarios.model import Scenario


@pytest.fixture(scope="module")
def library() -> Library:
    return load_library()


def scenarios(library: Library) -> list[Scenario]:
    found = []
    for scenario_id in library.scenario_ids():
        found.append(library.scenario(scenario_id))
        if library.has_variants(scenario_id):
            found.append(library.scenario(scenario_id, seed=7))
    return found


def key_answers(scenario: Scenario) -> dict[str, object]:
    """The right answer to every rule-graded step, and the model plan for the plan step."""
    answers: dict[str, object] = {}
    for step in scenario.steps:
        if step.grader == "single_choice":
            answers[step.id] = step.key[0]
        elif step.grader == "multi_select":
            answers[step.id] = list(step.key)
        elif step.grader == "ranking":
            answers[step.id] = list(step.key)
        elif step.grader == "coaching_focus":
            focus = scenario.derivation.focus
            evidence = [m.id for m in scenario.profile.metrics if m.task == focus]
            evidence += [n.id for n in scenario.profile.notes if focus in n.tasks]
            answers[step.id] = {"task": step.key[0], "evidence": evidence}
        elif step.grader == "coaching_plan":
            answers[step.id] = step.feedback  # the authored description of a strong plan
    return answers


def test_library_loads_and_every_step_names_a_registered_grader(library: Library) -> None:
    assert library.scenario_ids()
    for scenario in scenarios(library):
        for step in scenario.steps:
            assert step.grader in GRADERS, (scenario.id, step.id)


def test_key_answers_earn_full_marks_in_every_scenario(library: Library) -> None:
    for scenario in scenarios(library):
        result = grade_attempt(scenario, key_answers(scenario), library.catalogue)
        low = {k: v.score for k, v in result.steps.items() if v.score < 1.0}
        assert not low, (scenario.id, scenario.variant_seed, low)


def test_stuffing_every_task_label_earns_label_0(library: Library) -> None:
    for scenario in scenarios(library):
        tasks = scenario.situation.critical_tasks
        labels = ", ".join(library.catalogue.get(t).label for t in tasks)
        result = grade_step(scenario, "plan", f"We will work on {labels}.", library.catalogue)
        assert result.score < 0.4, (scenario.id, result.score)


def test_coaching_the_strength_earns_label_0(library: Library) -> None:
    for scenario in scenarios(library):
        if not scenario.derivation.strengths:
            continue
        strength = library.catalogue.get(scenario.derivation.strengths[-1]).label
        text = f"The focus this month is {strength.lower()}: a weekly role-play on it together."
        result = grade_step(scenario, "plan", text, library.catalogue)
        assert result.score < 0.4, (scenario.id, strength, result.score)
        assert "strength" in " ".join(result.feedback)


def test_wrong_rule_answers_score_below_one(library: Library) -> None:
    for scenario in scenarios(library):
        focus_step = next(s for s in scenario.steps if s.grader == "coaching_focus")
        wrong = next(o.id for o in focus_step.options if o.id != focus_step.key[0])
        result = grade_step(
            scenario, focus_step.id, {"task": wrong, "evidence": []}, library.catalogue
        )
        assert result.score < 0.5
        assert scenario.derivation.explanation in result.feedback
