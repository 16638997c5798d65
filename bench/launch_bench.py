"""Launch round trip through gunicorn (2 workers) against a floor app, measured in one run.

    .venv/bin/python bench/launch_bench.py [--seconds 8] [--clients 8] [--rounds 2]

A load driver plays the platform (bench/driver.py): OIDC login initiation, a signed id_token,
the form_post launch, ending on the page the launch opens. The floor (bench/floor_app.py)
issues state and nonce in the same Redis, verifies the same RS256 token and answers the launch
with a tiny page. The tool answers a learner's launch with the player page itself (where the
learner left off: registration lookup, upserts, the attempt, the render); when it redirects
instead, the driver follows, and that request counts too. Rounds alternate floor and tool so
both see the same machine load. Prints launches/s, p50/p99 and server CPU per launch, and the
ratios tool/floor. --steps also reads every step page (what bench/driver.py's
Learner.launch does for the load test), which is more than a launch.
Targets (issue 8): throughput >= 0.6x the floor, CPU per launch <= 2x the floor.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from driver import Learner, Server, TestPlatform, percentile  # noqa: E402
from stack import stack  # noqa: E402


@dataclass
class Round:
    """One timed round against one server."""

    name: str
    done: int = 0
    errors: int = 0
    seconds: float = 0.0
    cpu: float = 0.0
    latencies: list[float] = field(default_factory=list)
    first_error: str = ""


def run_round(name: str, server: Server, seconds: float, clients: int,
              step: Callable[[int], None]) -> Round:
    """`clients` threads call step(i) for `seconds`; records latency, errors and server CPU."""
    result = Round(name)
    counter = itertools.count()
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client() -> None:
        while time.monotonic() < stop:
            i = next(counter)
            started = time.perf_counter()
            try:
                step(i)
            except Exception as error:  # the round reports errors, it never hides them
                with lock:
                    result.errors += 1
                    result.first_error = result.first_error or f"{type(error).__name__}: {error}"
                continue
            elapsed = time.perf_counter() - started
            with lock:
                result.done += 1
                result.latencies.append(elapsed)

    cpu_before = server.cpu_seconds()
    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.seconds = time.perf_counter() - started
    result.cpu = server.cpu_seconds() - cpu_before
    return result


def tool_launch(platform: TestPlatform, base_url: str, learners: int,
                steps: bool = False) -> Callable[[int], None]:
    """A full launch into the tool: login, launch and the player page it opens (a new
    browser each time; a redirect is followed); with `steps`, then every step page too
    (Learner.launch)."""
    def step(i: int) -> None:
        learner = Learner(base_url, platform, subject=f"learner-{i % learners}")
        if steps:
            learner.launch()
        else:
            learner.landing()
    return step


def floor_launch(platform: TestPlatform, base_url: str, learners: int) -> Callable[[int], None]:
    """The floor's login and launch (its launch answers with the tiny page itself)."""
    def step(i: int) -> None:
        learner = Learner(base_url, platform, subject=f"learner-{i % learners}")
        learner.login_and_launch()
    return step


def summarise(rounds: list[Round]) -> dict[str, float]:
    """Throughput, latency quantiles and CPU per operation over a list of rounds."""
    done = sum(r.done for r in rounds)
    seconds = sum(r.seconds for r in rounds)
    latencies = [x for r in rounds for x in r.latencies]
    return {
        "done": done, "errors": sum(r.errors for r in rounds),
        "per_second": done / seconds if seconds else 0.0,
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "cpu_ms": 1000 * sum(r.cpu for r in rounds) / done if done else 0.0,
    }


def report(title: str, tool: dict[str, float], floor: dict[str, float],
           targets: tuple[float, float] | None) -> dict[str, float]:
    """Print both rows and the ratios; return the ratios."""
    print(f"\n{title}")
    print(f"  {'':6} {'ops':>6} {'err':>4} {'ops/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
          f"{'CPU ms/op':>10}")
    for name, row in (("floor", floor), ("tool", tool)):
        print(f"  {name:6} {row['done']:6.0f} {row['errors']:4.0f} {row['per_second']:8.1f} "
              f"{row['p50_ms']:8.1f} {row['p99_ms']:8.1f} {row['cpu_ms']:10.2f}")
    throughput = tool["per_second"] / floor["per_second"] if floor["per_second"] else 0.0
    cpu = tool["cpu_ms"] / floor["cpu_ms"] if floor["cpu_ms"] else 0.0
    line = f"  ratio tool/floor: throughput {throughput:.2f}x, server CPU per op {cpu:.2f}x"
    if targets:
        ok = throughput >= targets[0] and cpu <= targets[1]
        line += (f"  (target >= {targets[0]}x and <= {targets[1]}x: "
                 f"{'MET' if ok else 'NOT MET'})")
    print(line)
    return {"throughput": throughput, "cpu": cpu}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="per round")
    parser.add_argument("--clients", type=int, default=8, help="concurrent browsers")
    parser.add_argument("--rounds", type=int, default=2, help="rounds per server")
    parser.add_argument("--learners", type=int, default=200, help="distinct learners")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--steps", action="store_true",
                        help="the tool's full launch also reads every step page of the player")
    args = parser.parse_args()
    with stack() as bench:
        tool = bench.start_tool(args.workers, args.threads)
        floor = bench.start_floor(args.workers, args.threads)
        platform = bench.platform
        # Warm both (imports, first JWKS fetch, template compilation, the learners' rows).
        run_round("warm", floor, 2, args.clients, floor_launch(platform, floor.base_url, 50))
        run_round("warm", tool, 3, args.clients,
                  tool_launch(platform, tool.base_url, args.learners))
        tool_rounds: list[Round] = []
        floor_rounds: list[Round] = []
        for _ in range(args.rounds):
            floor_rounds.append(run_round("floor", floor, args.seconds, args.clients,
                                          floor_launch(platform, floor.base_url, 50)))
            tool_rounds.append(run_round("tool", tool, args.seconds, args.clients,
                                         tool_launch(platform, tool.base_url, args.learners,
                                                     args.steps)))
        print(f"launch benchmark: gunicorn {args.workers} workers x {args.threads} threads, "
              f"{args.clients} concurrent browsers, {args.rounds} x {args.seconds:g} s per "
              f"server, PostgreSQL + Redis; platform JWKS fetched "
              f"{platform.jwks_fetches} time(s) in all")
        for r in tool_rounds + floor_rounds:
            if r.errors:
                print(f"  {r.name}: {r.errors} errors, first: {r.first_error}")
        ratios = report("OIDC login + launch, ending on the page the launch opens (the floor's "
                        "tiny page; the tool's player page"
                        + (", then every step page)" if args.steps else ")"),
                        summarise(tool_rounds), summarise(floor_rounds), (0.6, 2.0))
        peaks = tool.peak_rss_mb()
        print(f"\npeak RSS per tool worker: {', '.join(f'{p:.0f} MB' for p in peaks)}; "
              f"floor: {', '.join(f'{p:.0f} MB' for p in floor.peak_rss_mb())}")
        errors = sum(r.errors for r in tool_rounds + floor_rounds)
    return 1 if errors or not ratios["throughput"] else 0


if __name__ == "__main__":
    sys.exit(main())
