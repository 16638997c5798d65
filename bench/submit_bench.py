"""Submit + grade + outbox write through gunicorn (2 workers) against a floor, in one run.

    .venv/bin/python bench/submit_bench.py [--seconds 8] [--clients 8] [--rounds 2]

Learners are launched first (not timed; their launches carry an AGS claim, so every graded
submission writes a grade to the outbox). The timed part is the submission alone: POST
/play/submit with a complete answer -> saved, graded (choice steps and the free-text coaching
plan), result and outbox row committed, redirect. The floor's /submit writes one row to the
same PostgreSQL and renders a tiny page. Prints submissions/s, p50/p99, server CPU per
submission and the ratios; checks one outbox row per submission.
"""

from __future__ import annotations

import argparse
import queue
import sys
import threading
from pathlib import Path
from typing import Any

import requests
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))

from driver import GOOD_PLAN, Learner  # noqa: E402
from launch_bench import Round, report, run_round, summarise  # noqa: E402
from stack import stack  # noqa: E402

SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"


def launched_learners(base_url: str, platform: Any, count: int, clients: int,
                      prefix: str) -> queue.Queue[Learner]:
    """`count` learners with an open attempt, launched `clients` at a time."""
    ready: queue.Queue[Learner] = queue.Queue()
    ags = {"scope": [SCORE_SCOPE], "lineitem": f"{platform.issuer}/lineitems/1"}
    numbers = iter(range(count))
    lock = threading.Lock()

    def work() -> None:
        while True:
            with lock:
                n = next(numbers, None)
            if n is None:
                return
            learner = Learner(base_url, platform, subject=f"{prefix}-{n}", ags=ags)
            learner.launch()
            ready.put(learner)

    threads = [threading.Thread(target=work) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return ready


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    # Each learner submits once; at ~75 submissions/s a round of 8 s on 2 rounds used up 1,200
    # and the empty pool then counted as errors. 2,400 leaves headroom (launching them takes
    # about a minute before the timed rounds).
    parser.add_argument("--learners", type=int, default=2400,
                        help="launched up front; each submits once")
    args = parser.parse_args()
    with stack() as bench:
        tool = bench.start_tool()
        floor = bench.start_floor()
        pool = launched_learners(tool.base_url, bench.platform, args.learners, args.clients,
                                 "submitter")
        launched = pool.qsize()

        def tool_submit(_i: int) -> None:
            try:
                learner = pool.get_nowait()
            except queue.Empty:
                raise RuntimeError("ran out of launched learners: raise --learners") from None
            assert learner.form is not None
            response = learner.http.post(f"{tool.base_url}/play/submit",
                                         data=learner.form.answers(GOOD_PLAN),
                                         allow_redirects=False, timeout=30)
            if response.status_code != 302:
                raise RuntimeError(f"submit: HTTP {response.status_code}")

        http = threading.local()

        def floor_submit(i: int) -> None:
            if not hasattr(http, "session"):
                http.session = requests.Session()
            response = http.session.post(f"{floor.base_url}/submit",
                                         data={"learner": f"l{i}", "answer": GOOD_PLAN},
                                         timeout=30)
            if response.status_code != 200:
                raise RuntimeError(f"floor submit: HTTP {response.status_code}")

        run_round("warm", floor, 2, args.clients, floor_submit)
        tool_rounds: list[Round] = []
        floor_rounds: list[Round] = []
        for _ in range(args.rounds):
            floor_rounds.append(run_round("floor", floor, args.seconds, args.clients,
                                          floor_submit))
            tool_rounds.append(run_round("tool", tool, args.seconds, args.clients,
                                         tool_submit))
        submitted = launched - pool.qsize()
        engine = sa.create_engine(bench.database_url, poolclass=sa.pool.NullPool)
        with engine.connect() as connection:
            outbox = connection.scalar(sa.text("SELECT count(*) FROM grade_outbox"))
            graded = connection.scalar(sa.text(
                "SELECT count(*) FROM attempts WHERE status IN ('graded', 'needs_review')"))
        engine.dispose()
        print(f"submit benchmark: gunicorn 2 workers x 4 threads, {args.clients} concurrent "
              f"learners, {args.rounds} x {args.seconds:g} s per server, PostgreSQL + Redis")
        for r in tool_rounds + floor_rounds:
            if r.errors:
                print(f"  {r.name}: {r.errors} errors, first: {r.first_error}")
        report("submit + grade + outbox write (tool) vs one-row insert + tiny page (floor)",
               summarise(tool_rounds), summarise(floor_rounds), None)
        tool_ok = sum(r.done for r in tool_rounds)
        print(f"  graded attempts in the database: {graded}; outbox rows: {outbox}; "
              f"submissions answered 302: {tool_ok} (of {submitted} sent)")
        print(f"peak RSS per tool worker: "
              f"{', '.join(f'{p:.0f} MB' for p in tool.peak_rss_mb())}")
        errors = sum(r.errors for r in tool_rounds + floor_rounds)
        return 1 if errors or outbox != tool_ok or graded != tool_ok else 0


if __name__ == "__main__":
    sys.exit(main())
