"""How well does the coaching_plan grader agree with human labels? A table per scenario.

    python bench/grader_validity.py [--split test|dev|all] [--scenario ID] [--data-dir DIR]
                                    [--second-rater LABELS.jsonl]

Loads every labelled answer in bench/data/grader_validity/*.jsonl (labelled by RUBRIC.md in the
same folder), grades each response with the library scenario's `plan` step, maps the score to the
0/1/2 scale with `graders.agreement.score_to_label`, and prints agreement per scenario and overall.
The default split is `test`: the held-out third used to report the grader's validity; tune against
`dev` only. Exit status: 0 when it ran (it reports, it does not judge), 1 when the scenario or
grader packages cannot be imported, 2 when the data is malformed.

--second-rater names a file of {"id", "label"} lines from a second person who labelled the same
answers blind: the report then adds the human-human agreement (how far two careful raters agree
by the same rubric, the ceiling a grader can be expected to reach) and the grader against each
rater.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    # Run as a script from anywhere: the project packages live at the repository root.
    sys.path.insert(0, str(ROOT))

from graders.agreement import (  # noqa: E402
    LABELS,
    adjacent_agreement,
    confusion_matrix,
    exact_agreement,
    quadratic_weighted_kappa,
    score_to_label,
    standardised_mean_difference,
)

DATA_DIR = Path(__file__).resolve().parent / "data" / "grader_validity"
STEP_ID = "plan"
SPLITS = ("dev", "test")
HARD_CASES = frozenset(
    {
        "keyword_stuffing",
        "negation",
        "unusual_words",
        "plausible_wrong_focus",
        "takeover",
        "very_long",
        "empty",
        "addressed_to_grader",
        "strength_as_focus",
        "two_foci",
    }
)
REQUIRED_FIELDS = ("id", "scenario", "step", "label", "split", "style", "hard_case", "response",
                   "why")


class ValidityDataError(Exception):
    """A labelled-answer file is malformed; the message names the file, line and field."""


@dataclass(frozen=True)
class LabelledAnswer:
    """One human-labelled free-text answer to a scenario's plan step."""

    id: str
    scenario: str
    label: int
    split: str
    style: str
    hard_case: str | None
    response: str
    why: str
    source: str
    line: int


def split_for(answer_id: str) -> str:
    """The split an id belongs to: 'test' for a third of ids by hash, fixed forever, else 'dev'."""
    return "test" if int(hashlib.sha256(answer_id.encode()).hexdigest(), 16) % 3 == 0 else "dev"


def parse_record(record: object, source: str, line: int) -> LabelledAnswer:
    """Check one decoded JSON line and turn it into a LabelledAnswer, or raise ValidityDataError."""

    def fail(field: str, problem: str) -> ValidityDataError:
        return ValidityDataError(f"{source}:{line}: {field}: {problem}")

    if not isinstance(record, dict):
        raise fail("record", f"expected a JSON object, got {type(record).__name__}")
    missing = [name for name in REQUIRED_FIELDS if name not in record]
    if missing:
        raise fail(missing[0], f"missing required field(s) {', '.join(missing)}")
    for name in ("id", "scenario", "style", "response", "why"):
        if not isinstance(record[name], str):
            raise fail(name, f"must be a string, got {type(record[name]).__name__}")
    for name in ("id", "scenario", "style", "why"):
        if not record[name].strip():
            raise fail(name, "must not be empty")
    answer_id: str = record["id"]
    scenario: str = record["scenario"]
    if not answer_id.startswith(f"{scenario}-"):
        raise fail("id", f"{answer_id!r} must start with the scenario id {scenario!r} and '-'")
    if record["step"] != STEP_ID:
        raise fail("step", f"must be {STEP_ID!r}, got {record['step']!r}")
    label = record["label"]
    if isinstance(label, bool) or label not in LABELS:
        raise fail("label", f"must be one of {LABELS}, got {label!r}")
    split = record["split"]
    if split not in SPLITS:
        raise fail("split", f"must be one of {SPLITS}, got {split!r}")
    if split != split_for(answer_id):
        raise fail(
            "split",
            f"{answer_id!r} is {split!r} but its sha256 puts it in {split_for(answer_id)!r}; "
            "the split is fixed by the id hash (test when hash % 3 == 0)",
        )
    hard_case = record["hard_case"]
    if hard_case is not None and hard_case not in HARD_CASES:
        raise fail("hard_case", f"must be null or one of {sorted(HARD_CASES)}, got {hard_case!r}")
    return LabelledAnswer(
        id=answer_id,
        scenario=scenario,
        label=int(label),
        split=split,
        style=record["style"],
        hard_case=hard_case,
        response=record["response"],
        why=record["why"],
        source=source,
        line=line,
    )


def load_file(path: Path) -> list[LabelledAnswer]:
    """Read one JSON-lines file of labelled answers for the scenario named by its file stem."""
    answers = []
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not text.strip():
            continue
        try:
            record = json.loads(text)
        except json.JSONDecodeError as e:
            raise ValidityDataError(f"{path.name}:{number}: invalid JSON: {e.msg}") from e
        answer = parse_record(record, path.name, number)
        if answer.scenario != path.stem:
            raise ValidityDataError(
                f"{path.name}:{number}: scenario: {answer.scenario!r} does not match the file "
                f"name; answers for {answer.scenario!r} belong in {answer.scenario}.jsonl"
            )
        answers.append(answer)
    return answers


def load_answers(directory: Path = DATA_DIR) -> list[LabelledAnswer]:
    """Every labelled answer in `directory`/*.jsonl; ids must be unique across files."""
    answers: list[LabelledAnswer] = []
    seen: dict[str, str] = {}
    for path in sorted(directory.glob("*.jsonl")):
        for answer in load_file(path):
            where = f"{answer.source}:{answer.line}"
            if answer.id in seen:
                raise ValidityDataError(
                    f"{where}: id: {answer.id!r} already used at {seen[answer.id]}; ids are unique"
                )
            seen[answer.id] = where
            answers.append(answer)
    return answers


@dataclass(frozen=True)
class Graded:
    """A labelled answer with the grader's score and the label the score maps to."""

    answer: LabelledAnswer
    score: float
    predicted: int
    needs_review: bool


def _fmt(value: float) -> str:
    return f"{value:+.3f}" if value == value and abs(value) != float("inf") else str(value)


def report(title: str, graded: Sequence[Graded]) -> list[str]:
    """The agreement table for one group of graded answers, as printable lines."""
    lines = [f"== {title}"]
    if not graded:
        return [*lines, "   n = 0 (nothing to compare)"]
    human = [g.answer.label for g in graded]
    machine = [g.predicted for g in graded]
    lines.append(f"   n                   {len(graded)}")
    lines.append(f"   QWK                 {quadratic_weighted_kappa(human, machine):.3f}")
    lines.append(f"   exact agreement     {exact_agreement(human, machine):.3f}")
    lines.append(f"   adjacent agreement  {adjacent_agreement(human, machine):.3f}")
    if len(graded) >= 2:
        lines.append(f"   SMD (grader-human)  {_fmt(standardised_mean_difference(human, machine))}")
    lines.append(f"   needs_review        {sum(g.needs_review for g in graded)}")
    lines.append("   confusion (rows = human label, columns = grader label)")
    lines.append("            " + "".join(f"{f'g={c}':>6}" for c in LABELS))
    for category, row in zip(LABELS, confusion_matrix(human, machine), strict=True):
        lines.append(f"       h={category}  " + "".join(f"{count:>6}" for count in row))
    false_twos = [g.answer.id for g in graded if g.answer.label == 0 and g.predicted == 2]
    lines.append(f"   label 0 scored 2    {len(false_twos)}")
    lines.extend(f"      {answer_id}" for answer_id in false_twos)
    return lines


def hard_case_lines(graded: Sequence[Graded]) -> list[str]:
    """Exact agreement per hard-case kind (and for ordinary answers), across all scenarios."""
    groups: dict[str, list[Graded]] = {}
    for g in graded:
        groups.setdefault(g.answer.hard_case or "(none)", []).append(g)
    lines = ["== by hard case (exact agreement, n)"]
    for kind in sorted(groups):
        members = groups[kind]
        agree = sum(g.answer.label == g.predicted for g in members)
        lines.append(f"   {kind:<22} {agree / len(members):.3f}  {len(members)}")
    return lines


def select(
    answers: Iterable[LabelledAnswer], split: str, scenario: str | None
) -> list[LabelledAnswer]:
    """The answers in the requested split ('all' for both) and scenario (None for all)."""
    return [
        a
        for a in answers
        if (split == "all" or a.split == split) and (scenario is None or a.scenario == scenario)
    ]


def grade_all(answers: Sequence[LabelledAnswer]) -> tuple[list[Graded], list[str]]:
    """Grade every answer against its library scenario; returns the graded and the problems."""
    from graders.scoring import grade_step
    from scenarios.library import load_library

    library = load_library()
    known = set(library.scenario_ids())
    scenarios = {
        scenario_id: library.scenario(scenario_id)
        for scenario_id in sorted({a.scenario for a in answers} & known)
    }
    problems: list[str] = []
    graded: list[Graded] = []
    missing: Counter[str] = Counter()
    for answer in answers:
        scenario = scenarios.get(answer.scenario)
        if scenario is None:
            missing[answer.scenario] += 1
            continue
        try:
            result = grade_step(scenario, STEP_ID, answer.response, library.catalogue)
        except Exception as e:  # noqa: BLE001 - a grader crash is a finding to report, not a stop
            problems.append(f"{answer.id}: grader raised {type(e).__name__}: {e}")
            continue
        graded.append(
            Graded(answer, result.score, score_to_label(result.score), result.needs_review)
        )
    for scenario_id, count in sorted(missing.items()):
        problems.append(
            f"{scenario_id}: not in the scenario library; {count} answers skipped "
            f"(known: {', '.join(sorted(known))})"
        )
    return graded, problems


def load_second_rater(path: Path, answers: Sequence[LabelledAnswer]) -> dict[str, int]:
    """A second rater's labels by answer id; every selected answer must have one."""
    labels: dict[str, int] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            answer_id, label = str(record["id"]), record["label"]
        except (ValueError, KeyError, TypeError):
            raise ValidityDataError(f"{path}:{number}: expected {{\"id\": ..., \"label\": 0|1|2}}")\
                from None
        if label not in LABELS:
            raise ValidityDataError(f"{path}:{number}: label: {label!r} is not 0, 1 or 2")
        labels[answer_id] = label
    missing = [a.id for a in answers if a.id not in labels]
    if missing:
        raise ValidityDataError(f"{path}: no second label for {len(missing)} selected answers, "
                                f"e.g. {missing[0]}")
    return labels


def rater_lines(graded: Sequence[Graded], second: dict[str, int]) -> list[str]:
    """Human-human agreement, and the grader against each rater and where the raters agree."""
    first = [g.answer.label for g in graded]
    other = [second[g.answer.id] for g in graded]
    machine = [g.predicted for g in graded]
    agreed = [g for g in graded if g.answer.label == second[g.answer.id]]

    def row(name: str, a: Sequence[int], b: Sequence[int]) -> str:
        return (f"   {name:<34} n={len(a):<4} QWK {quadratic_weighted_kappa(a, b):.3f}  "
                f"exact {exact_agreement(a, b):.3f}  adjacent {adjacent_agreement(a, b):.3f}")

    return [
        "== two human raters",
        row("rater 1 (file labels) vs rater 2", first, other),
        row("grader vs rater 1", first, machine),
        row("grader vs rater 2", other, machine),
        row("grader where the raters agree", [g.answer.label for g in agreed],
            [g.predicted for g in agreed]),
        f"   label 0 by both raters scored 2: "
        f"{sum(g.predicted == 2 for g in agreed if g.answer.label == 0)}",
    ]


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, grade the selected answers and print the agreement tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--split", choices=("test", "dev", "all"), default="test",
                        help="which labelled answers to grade (default: the held-out test third)")
    parser.add_argument("--scenario", default=None, help="only this scenario id")
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR,
                        help="folder of labelled *.jsonl files")
    parser.add_argument("--second-rater", type=Path, default=None,
                        help="a second rater's blind labels of the same answers (id, label)")
    args = parser.parse_args(argv)

    try:
        answers = load_answers(args.data_dir)
    except ValidityDataError as e:
        print(f"bad validity data: {e}", file=sys.stderr)
        return 2
    if args.scenario is not None and args.scenario not in {a.scenario for a in answers}:
        known = ", ".join(sorted({a.scenario for a in answers}))
        print(f"no labelled answers for scenario {args.scenario!r}; labelled: {known}",
              file=sys.stderr)
        return 2
    selected = select(answers, args.split, args.scenario)
    second: dict[str, int] | None = None
    if args.second_rater is not None:
        try:
            second = load_second_rater(args.second_rater, selected)
        except (ValidityDataError, OSError) as e:
            print(f"bad second-rater labels: {e}", file=sys.stderr)
            return 2
    try:
        graded, problems = grade_all(selected)
    except ImportError as e:
        print(f"cannot grade: {e}; the scenario library and graders.scoring must be installed",
              file=sys.stderr)
        return 1

    print(f"coaching_plan grader vs human labels - split {args.split}, "
          f"{len(selected)} answers selected, {len(graded)} graded")
    by_scenario: dict[str, list[Graded]] = {}
    for g in graded:
        by_scenario.setdefault(g.answer.scenario, []).append(g)
    for scenario_id in sorted(by_scenario):
        print("\n".join(report(scenario_id, by_scenario[scenario_id])))
    print("\n".join(report("overall", graded)))
    if graded:
        print("\n".join(hard_case_lines(graded)))
    if graded and second is not None:
        print("\n".join(rater_lines(graded, second)))
    if problems:
        print("== problems")
        print("\n".join(f"   {p}" for p in problems))
    return 0


if __name__ == "__main__":
    sys.exit(main())
