"""A lexicon split into PhraseSets (a shared part and a per-variant part) matches exactly as the
same phrases compiled as one list: the split saves memory and compile time, never a verdict."""

from __future__ import annotations

import json
from pathlib import Path

from graders.base import BoundStep
from graders.rubric import _shared_phrases, compile_lexicon
from graders.text import PhraseMatcher, PhraseSet, tokenize
from scenarios.library import load_library

DATA = Path(__file__).resolve().parents[2] / "bench" / "data" / "grader_validity"

# Interleaved segments: shared ranks 0 and 2, per-variant ranks 1 and 3. Same keys and first
# stems across sets, a repeated (key, stems) with other words, and typo-bait words of equal
# distance from words of both sets, so order, de-duplication and fuzzy ties all count.
SEGMENTS: dict[int, list[tuple[str, str]]] = {
    0: [("task:a", "pipeline review"), ("task:a", "review"), ("task:b", "call planning"),
        ("situation", "renewal"), ("task:b", "planning")],
    1: [("situation", "pipeline"), ("situation", "review of renewals"), ("task:a", "reviews"),
        ("situation", "planner"), ("task:b", "call plannings"), ("situation", "parking"),
        ("grader", "plannings"), ("situation", "parker")],
    2: [("action", "ride along"), ("action", "review"), ("situation", "pipeline"),
        ("action", "parking"), ("grader", "planning"), ("grader", "parked")],
    3: [("name", "Dijk"), ("situation", "ride"), ("entity", "review renewal"),
        ("situation", "barking")],
}
TEXTS = (
    "I will review the pipeline review of renewals with her, then call planning and a ride "
    "along; Dijk plans the renewal. Plannings, a planer, pipelyne reveiw, parkex, reviewsx.",
    "The review, the renewal, the ride: planning calls; call of the planning; marking parking.",
)


def whole() -> PhraseMatcher:
    return PhraseMatcher([e for rank in sorted(SEGMENTS) for e in SEGMENTS[rank]])


def split() -> PhraseMatcher:
    shared = PhraseSet({0: SEGMENTS[0], 2: SEGMENTS[2]})
    own = PhraseSet({1: SEGMENTS[1], 3: SEGMENTS[3]})
    return PhraseMatcher(shared, own)


def test_a_split_matcher_finds_what_the_whole_finds_in_the_same_order() -> None:
    for text in TEXTS:
        tokens = tokenize(text)
        assert whole().resolve(tokens) == split().resolve(tokens)
        found = split().find(tokens)
        assert found == whole().find(tokens)
        assert len(found) >= 8


def test_a_typo_as_near_to_two_lexicon_words_reads_as_the_earlier_one() -> None:
    # 'parker' (rank 1, per variant) comes before 'parked' (rank 2, shared) in the lexicon.
    assert split().resolve(tokenize("parkex")) == [("parker", True)]


def test_a_repeated_phrase_in_a_later_set_adds_no_typo_targets() -> None:
    # 'reviews' repeats the earlier 'review' (same key and stems): no word of the lexicon.
    assert split().resolve(tokenize("reviewsx")) == [("reviewsx", False)]


def test_the_library_lexicons_match_as_if_compiled_whole() -> None:
    library = load_library()
    answers = [json.loads(line)["response"]
               for path in sorted(DATA.glob("*.jsonl"))
               for line in path.read_text(encoding="utf-8").splitlines()[::9] if line.strip()]
    for scenario_id in library.scenario_ids():
        for seed in (None, 3):
            scenario = library.scenario(scenario_id, seed)
            for step in scenario.steps:
                if step.grader != "coaching_plan":
                    continue
                bound = BoundStep(step, scenario, library.catalogue)
                layered = compile_lexicon(bound).matcher
                merged = sorted(
                    c for s in layered._sets
                    for candidates in (*s.single.values(), *s.by_pair.values())
                    for c in candidates
                )
                one = PhraseMatcher([(c[2], c[3]) for c in merged])
                assert len(layered._sets) == 2
                for text in answers:
                    tokens = tokenize(text)
                    assert layered.find(tokens) == one.find(tokens)


def test_variants_of_a_scenario_share_its_compiled_task_and_generic_phrases() -> None:
    library = load_library()
    scenario_id = library.scenario_ids()[0]
    shared = set()
    for seed in range(5):
        scenario = library.scenario(scenario_id, seed)
        step = next(s for s in scenario.steps if s.grader == "coaching_plan")
        shared.add(id(_shared_phrases(BoundStep(step, scenario, library.catalogue)).phrases))
    assert len(shared) == 1
