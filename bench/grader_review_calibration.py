"""Does needs_review flag the answers the coaching_plan grader gets wrong? Dev split only.

    python bench/grader_review_calibration.py [--data-dir DIR]

Grades every labelled answer of the DEV split (bench/data/grader_validity/*.jsonl; the held-out
test split is dropped before anything is graded or shown) and prints, per confidence threshold,
how many disagreements with the human label (grader label != human label) and how many
agreements would be flagged for review, then how often each review signal fires on each. The
grader's default threshold (graders.rubric.REVIEW_THRESHOLD) is chosen from this table: flag
most disagreements while sending few agreements to an instructor.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.grader_validity import DATA_DIR, STEP_ID, ValidityDataError, load_answers  # noqa: E402

THRESHOLDS = (0.3, 0.4, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.0)


@dataclass(frozen=True)
class Reviewed:
    """One dev answer: does the grader agree with the human, and how sure was it."""

    answer_id: str
    agrees: bool
    confidence: float
    forced: bool
    signals: dict[str, float]


def grade_dev(data_dir: Path) -> list[Reviewed]:
    """Grade the dev split only; test answers are filtered out before grading."""
    from graders.agreement import score_to_label
    from graders.base import BoundStep
    from graders.rubric import CoachingPlanGrader
    from scenarios.library import load_library

    answers = [a for a in load_answers(data_dir) if a.split == "dev"]
    library = load_library()
    grader = CoachingPlanGrader()
    known = set(library.scenario_ids())
    reviewed: list[Reviewed] = []
    for answer in answers:
        if answer.scenario not in known:
            continue
        scenario = library.scenario(answer.scenario)
        step = BoundStep(scenario.step(STEP_ID), scenario, library.catalogue)
        result = grader.grade(step, answer.response)
        signals = grader.review_signals(step, answer.response)
        reviewed.append(
            Reviewed(
                answer.id,
                score_to_label(result.score) == answer.label,
                result.confidence,
                "capped" in signals or "addressed_to_grader" in signals,
                signals,
            )
        )
    return reviewed


def table(reviewed: Sequence[Reviewed]) -> list[str]:
    """threshold -> flagged disagreements / flagged agreements (forced reviews always count)."""
    wrong = [r for r in reviewed if not r.agrees]
    right = [r for r in reviewed if r.agrees]
    lines = [
        f"dev answers {len(reviewed)}: {len(wrong)} disagreements, {len(right)} agreements",
        "threshold  flagged disagreements  flagged agreements  share of flags that are wrong",
    ]
    for t in THRESHOLDS:
        fw = sum(1 for r in wrong if r.forced or r.confidence < t)
        fr = sum(1 for r in right if r.forced or r.confidence < t)
        precision = fw / (fw + fr) if fw + fr else 0.0
        lines.append(
            f"   {t:<6.2f}  {fw:>3} / {len(wrong):<3}              {fr:>3} / {len(right):<4}"
            f"          {precision:.2f}"
        )
    return lines


def signal_lines(reviewed: Sequence[Reviewed]) -> list[str]:
    """How often each signal fires on disagreements and on agreements."""
    on_wrong: Counter[str] = Counter()
    on_right: Counter[str] = Counter()
    for r in reviewed:
        (on_right if r.agrees else on_wrong).update(r.signals.keys())
    lines = ["signal                 disagreements  agreements"]
    for name in sorted(set(on_wrong) | set(on_right)):
        lines.append(f"   {name:<22} {on_wrong[name]:>5}        {on_right[name]:>5}")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    """Print the calibration table and the signal counts for the dev split."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR,
                        help="folder of labelled *.jsonl files (only split == 'dev' is read)")
    parser.add_argument("--list", action="store_true",
                        help="also list the dev disagreements with their confidence and signals")
    args = parser.parse_args(argv)
    try:
        reviewed = grade_dev(args.data_dir)
    except ValidityDataError as e:
        print(f"bad validity data: {e}", file=sys.stderr)
        return 2
    print("\n".join(table(reviewed)))
    print("\n".join(signal_lines(reviewed)))
    if args.list:
        for r in reviewed:
            if not r.agrees:
                print(f"   {r.answer_id:<44} {r.confidence:.2f} {sorted(r.signals)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
