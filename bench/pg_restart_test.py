"""Restart PostgreSQL under load: requests during the outage get a clean 503 page, and the tool
recovers without a restart (pool pre-ping). Exit 1 otherwise.

    .venv/bin/python bench/pg_restart_test.py [--learners 20] [--down-after 8] [--down-for 6]

The shared PostgreSQL server on :5432 is never touched: this starts a private throwaway
cluster (initdb + pg_ctl from /usr/lib/postgresql/*/bin, run as the postgres user, data under
/tmp, a free port), serves the tool from it with gunicorn (2 workers) and Redis, drives
learners (bench/driver.py) that launch, autosave and submit continuously, stops the cluster
with `pg_ctl stop -m fast` and starts it again. A learner that gets the 503 page retries the
same step after a second, as a person would.
"""

from __future__ import annotations

import argparse
import functools
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

from driver import GOOD_PLAN, DriverError, Learner, free_port  # noqa: E402
from stack import stack  # noqa: E402


class Cluster:
    """A private PostgreSQL cluster owned by the postgres user."""

    def __init__(self) -> None:
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
        if not found:
            raise SystemExit("no PostgreSQL binaries under /usr/lib/postgresql/*/bin")
        self.bin = Path(found[-1]).parent
        self.dir = Path(tempfile.mkdtemp(prefix="coachlab-pg-"))
        self.port = free_port()
        shutil.chown(self.dir, "postgres", "postgres")
        self.data = self.dir / "data"

    def _as_postgres(self, *args: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", *args], check=True,
                       capture_output=True, cwd="/tmp")

    def init(self) -> str:
        self._as_postgres(str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust",
                          "-U", "postgres", "--no-sync")
        self.start()
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres?connect_timeout=2"

    def start(self) -> None:
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir} "
                   "-c fsync=off -c max_connections=100")
        self._as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options,
                          "-l", str(self.dir / "log"), "-w", "start")

    def stop(self) -> None:
        self._as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast",
                          "-w", "stop")

    def remove(self) -> None:
        try:
            self.stop()
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=20)
    parser.add_argument("--down-after", type=float, default=8.0)
    parser.add_argument("--down-for", type=float, default=6.0)
    parser.add_argument("--after", type=float, default=10.0, help="seconds of load after")
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("needs root (runuser) to run a private PostgreSQL cluster")
    cluster = Cluster()
    try:
        url = cluster.init()
        with stack(database_url=url) as bench:
            tool = bench.start_tool()
            return drive(bench, tool.base_url, cluster, args)
    finally:
        cluster.remove()


def drive(bench: object, base_url: str, cluster: Cluster, args: argparse.Namespace) -> int:
    platform = bench.platform  # type: ignore[attr-defined]
    phase = {"name": "before"}
    outcomes: Counter[tuple[str, str]] = Counter()
    bad: list[str] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + args.down_after + args.down_for + args.after

    def record(kind: str, detail: str = "") -> None:
        with lock:
            outcomes[(phase["name"], kind)] += 1
            if kind == "error" and len(bad) < 10:
                bad.append(f"[{phase['name']}] {detail}"[:300])

    def attempt(step: object) -> bool:
        """Run a step; True when done. A clean 503 page is retried after a second."""
        try:
            step()  # type: ignore[operator]
            record("ok")
            return True
        except (DriverError, requests.RequestException) as error:
            text = str(error)
            if "HTTP 503" in text and "briefly unavailable" in text:
                record("503 page")
            else:
                record("error", f"{type(error).__name__}: {text}")
            time.sleep(1.0)
            return False

    def resync(learner: Learner) -> None:
        """Reload the player, as a person does after an error page: the open attempt's form,
        or, when the last submission went through before its result page failed, a new
        attempt."""
        try:
            learner.open_player(learner.player_url)
        except DriverError:
            learner.again()

    def learner_loop(n: int) -> None:
        learner = Learner(base_url, platform, subject=f"restart-{n}")
        while time.monotonic() < stop_at and not attempt(learner.launch):
            pass
        k = 0
        while time.monotonic() < stop_at:
            k += 1
            time.sleep(0.3)
            draft, final = f"{GOOD_PLAN} draft {k}", f"{GOOD_PLAN} final {k}"
            done = attempt(functools.partial(learner.autosave, draft))
            if done:
                time.sleep(0.3)
                done = attempt(functools.partial(learner.submit, final))
                done = done and attempt(learner.again)
            while not done and time.monotonic() < stop_at:
                done = attempt(lambda: resync(learner))

    readiness: list[tuple[str, int]] = []

    def probe() -> None:
        while time.monotonic() < stop_at:
            try:
                status = requests.get(f"{base_url}/readyz", timeout=5).status_code
            except requests.RequestException:
                status = 0
            with lock:
                readiness.append((phase["name"], status))
            time.sleep(0.5)

    threads = [threading.Thread(target=learner_loop, args=(n,)) for n in range(args.learners)]
    threads.append(threading.Thread(target=probe))
    for thread in threads:
        thread.start()
    time.sleep(args.down_after)
    phase["name"] = "outage"
    cluster.stop()
    time.sleep(args.down_for)
    phase["name"] = "restarting"
    cluster.start()
    phase["name"] = "after"
    for thread in threads:
        thread.join()

    print(f"PostgreSQL restart under load: {args.learners} learners, gunicorn 2 workers, "
          f"private cluster on :{cluster.port} stopped after {args.down_after:g} s for "
          f"{args.down_for:g} s (+ restart time), then {args.after:g} s more")
    for name in ("before", "outage", "restarting", "after"):
        counts = {kind: outcomes[(name, kind)] for kind in ("ok", "503 page", "error")}
        ready = Counter(status for phase_name, status in readiness if phase_name == name)
        print(f"  {name:10} requests ok {counts['ok']:5}  clean 503 {counts['503 page']:4}  "
              f"other errors {counts['error']:3}   /readyz {dict(ready)}")
    for line in bad:
        print(f"    {line}")
    errors = sum(count for (name, kind), count in outcomes.items() if kind == "error")
    recovered = outcomes[("after", "ok")] > 0 and any(
        status == 200 for name, status in readiness if name == "after")
    print(f"  recovered without restarting gunicorn: {'yes' if recovered else 'NO'}; "
          f"errors other than the 503 page: {errors}")
    return 0 if recovered and errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
