"""200 simulated learners for 60 s against gunicorn + PostgreSQL + Redis: launch, autosave,
submit, again. Zero errors and zero lost answers, or it exits 1.

    .venv/bin/python bench/load_test.py [--learners 200] [--seconds 60] [--think 2:6]

Each learner is a browser (own cookie jar) driven by bench/driver.py: it launches, then
repeats: a few autosaves of its free-text answer (each text unique), a submission, a new
attempt; with a random think time between actions. Afterwards the database must hold, for
every submission answered 302, a submitted attempt whose free-text answer is exactly the text
sent; and for every learner's open attempt, the last autosaved text. Prints p50/p99 per action.
"""

from __future__ import annotations

import argparse
import random
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))

from driver import GOOD_PLAN, Learner, percentile  # noqa: E402
from stack import stack  # noqa: E402


@dataclass
class Tally:
    """What the learners did and saw."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    submitted: dict[int, str] = field(default_factory=dict)
    """attempt id -> free text submitted (answered 302)."""
    drafts: dict[int, str] = field(default_factory=dict)
    """open attempt id -> last free text autosaved (answered 400 + form)."""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def timed(self, action: str, started: float) -> None:
        with self.lock:
            self.latencies[action].append(time.perf_counter() - started)


def learner_loop(learner: Learner, tally: Tally, stop: float, think: tuple[float, float],
                 rng: random.Random) -> None:
    """One learner until `stop`; every failure is recorded, never retried silently."""
    try:
        time.sleep(rng.uniform(0, think[1]))  # arrivals spread out, as a class's would
        started = time.perf_counter()
        learner.launch()
        tally.timed("launch", started)
        n = 0
        while time.monotonic() < stop:
            for _ in range(rng.randint(1, 3)):
                time.sleep(rng.uniform(*think))
                if time.monotonic() >= stop:
                    return
                n += 1
                text = f"{GOOD_PLAN} [{learner.subject} draft {n}]"
                started = time.perf_counter()
                learner.autosave(text)
                tally.timed("autosave", started)
                assert learner.form is not None
                with tally.lock:
                    tally.drafts[int(learner.form.hidden["attempt"])] = text
            time.sleep(rng.uniform(*think))
            if time.monotonic() >= stop:
                return
            assert learner.form is not None
            attempt = int(learner.form.hidden["attempt"])
            n += 1
            text = f"{GOOD_PLAN} [{learner.subject} final {n}]"
            started = time.perf_counter()
            learner.submit(text)
            tally.timed("submit", started)
            with tally.lock:
                tally.submitted[attempt] = text
                tally.drafts.pop(attempt, None)
            started = time.perf_counter()
            learner.again()
            tally.timed("again", started)
    except Exception as error:  # every error counts; the run fails on any
        with tally.lock:
            tally.errors.append(f"{learner.subject}: {type(error).__name__}: {error}"[:300])


def check_database(url: str, tally: Tally, text_step: str) -> list[str]:
    """Every answer the tool acknowledged is in the database, exactly as sent."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.connect() as connection:
        rows = connection.execute(sa.text(
            "SELECT r.attempt_id, r.value, r.state, a.status FROM step_responses r "
            "JOIN attempts a ON a.id = r.attempt_id WHERE r.step_id = :step"),
            {"step": text_step}).all()
    engine.dispose()
    stored = {row[0]: (row[1], row[2], row[3]) for row in rows}
    problems = []
    for attempt, text in tally.submitted.items():
        found = stored.get(attempt)
        if found is None or found[0] != text or found[1] != "submitted":
            problems.append(f"attempt {attempt}: submitted answer lost or changed: {found}")
    for attempt, text in tally.drafts.items():
        found = stored.get(attempt)
        if found is None or found[0] != text:
            problems.append(f"attempt {attempt}: autosaved draft lost or changed: {found}")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--think", default="2:6", help="seconds between actions, min:max")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    think = tuple(float(x) for x in args.think.split(":"))
    assert len(think) == 2
    with stack() as bench:
        tool = bench.start_tool(args.workers, args.threads)
        tally = Tally()
        stop = time.monotonic() + args.seconds
        rng = random.Random(8)
        threads = [
            threading.Thread(target=learner_loop, args=(
                Learner(tool.base_url, bench.platform, subject=f"load-{i}",
                        course=f"course-{i % 4}", resource_link=f"link-{i % 8}"),
                tally, stop, think, random.Random(rng.random())))
            for i in range(args.learners)
        ]
        cpu_before = tool.cpu_seconds()
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        cpu = tool.cpu_seconds() - cpu_before
        problems = check_database(bench.database_url, tally, "plan")
        total = sum(len(v) for v in tally.latencies.values())
        print(f"load test: {args.learners} learners, {args.seconds:g} s, think "
              f"{think[0]:g}-{think[1]:g} s, gunicorn {args.workers} workers x {args.threads} "
              f"threads, PostgreSQL + Redis")
        print(f"  {total} requests answered in {elapsed:.1f} s ({total / elapsed:.1f}/s), "
              f"server CPU {cpu:.1f} s ({100 * cpu / elapsed:.0f}% of one core)")
        for action in ("launch", "autosave", "submit", "again"):
            values = tally.latencies.get(action, [])
            print(f"  {action:9} {len(values):6} ok   p50 {percentile(values, .5) * 1000:7.1f} ms"
                  f"   p99 {percentile(values, .99) * 1000:7.1f} ms")
        print(f"  errors: {len(tally.errors)}")
        for error in tally.errors[:10]:
            print(f"    {error}")
        print(f"  answers acknowledged: {len(tally.submitted)} submissions, "
              f"{len(tally.drafts)} open drafts; missing or changed in the database: "
              f"{len(problems)}")
        for problem in problems[:10]:
            print(f"    {problem}")
        peaks = tool.peak_rss_mb()
        print(f"  peak RSS per worker: {', '.join(f'{p:.0f} MB' for p in peaks)}")
    return 1 if tally.errors or problems or not tally.submitted else 0


if __name__ == "__main__":
    sys.exit(main())
