"""The English word list behind typo tolerance and name detection is loaded once per process,
however many threads of a web worker ask for it first: each load holds pyspellchecker's whole
160k-word dictionary, and concurrent loads under gunicorn's threads raised a worker's peak
memory by about 100 MB."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from graders import text

THREADS = 4


@pytest.fixture
def counted_loads(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Start from an unloaded word list; the loader records each call and, without a lock,
    keeps the callers inside it until all of them have arrived, so a race always shows."""
    calls: list[int] = []
    all_inside = threading.Event()

    def load() -> dict[str, int]:
        calls.append(1)
        if len(calls) >= THREADS:
            all_inside.set()
        # Bounded: with a lock the other callers never arrive and this wait simply times out.
        all_inside.wait(timeout=0.5)
        return {"quantification": 5000, "director": 90000}

    monkeypatch.setattr(text, "_load_word_counts", load)
    monkeypatch.setattr(text, "_WORD_COUNTS", None)
    yield calls


def test_concurrent_first_use_loads_the_word_list_once(counted_loads: list[int]) -> None:
    start = threading.Barrier(THREADS)
    seen: list[bool] = []

    def first_use(i: int) -> None:
        start.wait()
        seen.append("quantification" in text.english_words() if i % 2 else
                    text.is_common_word("Director"))

    threads = [threading.Thread(target=first_use, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(counted_loads) == 1
    assert seen == [True] * THREADS


def test_the_word_set_and_the_frequencies_share_one_load(counted_loads: list[int]) -> None:
    assert "director" in text.english_words()
    assert text.is_common_word("director")
    assert not text.is_common_word("dijk")
    assert len(counted_loads) == 1
