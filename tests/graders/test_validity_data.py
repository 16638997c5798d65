"""The labelled answers behind the grader-validity benchmark are well formed and cover the scale.

Runs over whatever bench/data/grader_validity/*.jsonl files exist, so a new scenario's file is
checked the moment it lands.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from bench.grader_validity import (
    DATA_DIR,
    Graded,
    LabelledAnswer,
    ValidityDataError,
    load_answers,
    load_file,
    load_second_rater,
    main,
    parse_record,
    rater_lines,
    report,
    split_for,
)

FILES = sorted(DATA_DIR.glob("*.jsonl"))
MIN_ANSWERS = 60
MIN_HARD_CASES = 8
# Hard cases whose label RUBRIC.md fixes at 0 whatever else the text says.
ALWAYS_ZERO = {"empty", "addressed_to_grader", "keyword_stuffing", "strength_as_focus"}


def _good_record(**changes: object) -> dict[str, object]:
    record: dict[str, object] = {
        "id": "demo-scenario-001",
        "scenario": "demo-scenario",
        "step": "plan",
        "label": 2,
        "split": split_for("demo-scenario-001"),
        "style": "terse",
        "hard_case": None,
        "response": "Tier her accounts together on Monday; review coverage weekly.",
        "why": "right focus, concrete, specific",
    }
    record.update(changes)
    return record


def test_there_is_validity_data() -> None:
    assert FILES, f"no labelled answers in {DATA_DIR}"


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_file_is_valid_and_covers_the_scale(path: Path) -> None:
    answers = load_file(path)
    labels = Counter(a.label for a in answers)
    hard = [a for a in answers if a.hard_case is not None]
    assert len(answers) >= MIN_ANSWERS, f"{path.name}: {len(answers)} answers"
    assert len(hard) >= MIN_HARD_CASES, f"{path.name}: {len(hard)} hard cases"
    assert set(labels) == {0, 1, 2}, f"{path.name}: labels present {sorted(labels)}"
    assert {a.split for a in answers} == {"dev", "test"}, f"{path.name}: both splits needed"


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_hard_cases_follow_the_rubric(path: Path) -> None:
    for answer in load_file(path):
        where = f"{path.name}:{answer.line} ({answer.id})"
        if answer.hard_case in ALWAYS_ZERO:
            assert answer.label == 0, f"{where}: {answer.hard_case} is always label 0"
        if answer.hard_case == "empty":
            assert not answer.response.strip(), f"{where}: an 'empty' answer must be blank"
        if answer.hard_case == "very_long":
            assert len(answer.response.split()) >= 2000, f"{where}: very_long needs 2,000+ words"


def test_ids_are_unique_across_files() -> None:
    answers = load_answers()
    assert len({a.id for a in answers}) == len(answers)


def test_split_rule_is_the_sha256_third() -> None:
    assert split_for("territory-rep-300-accounts-001") in {"dev", "test"}
    ids = [f"x-{n}" for n in range(300)]
    share = sum(split_for(i) == "test" for i in ids) / len(ids)
    assert 0.25 < share < 0.42


def test_parse_record_accepts_a_good_record() -> None:
    answer = parse_record(_good_record(), "demo-scenario.jsonl", 1)
    assert isinstance(answer, LabelledAnswer)
    assert answer.label == 2


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"label": 3}, "label: must be one of"),
        ({"label": True}, "label: must be one of"),
        ({"split": "test" if split_for("demo-scenario-001") == "dev" else "dev"}, "id hash"),
        ({"hard_case": "sarcasm"}, "hard_case: must be null or one of"),
        ({"step": "focus"}, "step: must be 'plan'"),
        ({"id": "other-001"}, "must start with the scenario id"),
        ({"response": None}, "response: must be a string"),
        ({"why": "  "}, "why: must not be empty"),
    ],
)
def test_parse_record_rejects_bad_records(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValidityDataError, match=message) as caught:
        parse_record(_good_record(**changes), "demo-scenario.jsonl", 7)
    assert str(caught.value).startswith("demo-scenario.jsonl:7: ")


def test_missing_field_is_named() -> None:
    record = _good_record()
    del record["label"]
    with pytest.raises(ValidityDataError, match="missing required field"):
        parse_record(record, "demo-scenario.jsonl", 1)


def test_duplicate_id_across_files_is_rejected(tmp_path: Path) -> None:
    line = json.dumps(_good_record())
    (tmp_path / "demo-scenario.jsonl").write_text(line + "\n" + line + "\n", encoding="utf-8")
    with pytest.raises(ValidityDataError, match="already used at demo-scenario.jsonl:1"):
        load_answers(tmp_path)


def test_scenario_must_match_file_name(tmp_path: Path) -> None:
    (tmp_path / "elsewhere.jsonl").write_text(json.dumps(_good_record()) + "\n", encoding="utf-8")
    with pytest.raises(ValidityDataError, match="does not match the file name"):
        load_answers(tmp_path)


def test_bench_exits_2_on_bad_data(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "demo-scenario.jsonl").write_text("{not json\n", encoding="utf-8")
    assert main(["--data-dir", str(tmp_path)]) == 2
    assert "demo-scenario.jsonl:1: invalid JSON" in capsys.readouterr().err


def test_bench_exits_2_on_unknown_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--scenario", "no-such-scenario"]) == 2
    assert "no labelled answers for scenario 'no-such-scenario'" in capsys.readouterr().err


def _graded(answer_id: str, label: int, predicted: int) -> Graded:
    answer = parse_record(
        _good_record(id=answer_id, label=label, split=split_for(answer_id)),
        "demo-scenario.jsonl",
        1,
    )
    return Graded(answer, score=predicted / 2, predicted=predicted, needs_review=False)


def test_report_lists_label_zero_answers_scored_two() -> None:
    graded = [
        _graded("demo-scenario-001", 0, 2),
        _graded("demo-scenario-002", 0, 0),
        _graded("demo-scenario-003", 2, 2),
        _graded("demo-scenario-004", 1, 1),
    ]
    text = "\n".join(report("demo-scenario", graded))
    assert "n                   4" in text
    assert "exact agreement     0.750" in text
    assert "label 0 scored 2    1\n      demo-scenario-001" in text
    assert "h=0       1     0     1" in text


def test_report_of_nothing_says_so() -> None:
    assert report("empty", []) == ["== empty", "   n = 0 (nothing to compare)"]


def test_second_rater_agreement_is_reported() -> None:
    graded = [_graded("demo-scenario-001", 0, 2), _graded("demo-scenario-002", 1, 1),
              _graded("demo-scenario-003", 2, 2), _graded("demo-scenario-004", 2, 1)]
    second = {"demo-scenario-001": 0, "demo-scenario-002": 2, "demo-scenario-003": 2,
              "demo-scenario-004": 2}
    text = "\n".join(rater_lines(graded, second))
    assert "rater 1 (file labels) vs rater 2   n=4    QWK" in text
    assert "exact 0.750" in text.splitlines()[1]
    assert "grader where the raters agree      n=3" in text
    assert "label 0 by both raters scored 2: 1" in text


def test_second_rater_file_must_cover_every_answer(tmp_path: Path) -> None:
    answers = [_graded("demo-scenario-001", 0, 0).answer, _graded("demo-scenario-002", 1, 1).answer]
    path = tmp_path / "second.jsonl"
    path.write_text('{"id": "demo-scenario-001", "label": 1}\n', encoding="utf-8")
    with pytest.raises(ValidityDataError, match="no second label for 1 selected answers"):
        load_second_rater(path, answers)
    path.write_text('{"id": "demo-scenario-001", "label": 3}\n', encoding="utf-8")
    with pytest.raises(ValidityDataError, match="label: 3 is not 0, 1 or 2"):
        load_second_rater(path, answers)
