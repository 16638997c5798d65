"""Every benchmark, one after the other (`make bench`); each prints its own ratios.

    .venv/bin/python bench/run_all.py [--quick]
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

BENCHMARKS = [
    ("launch round trip vs floor", ["launch_bench.py"]),
    ("submit + grade + outbox write vs floor", ["submit_bench.py"]),
    ("graders", ["grader_speed.py"]),
    ("instructor pages", ["instructor_speed.py"]),
]
QUICK = {"launch_bench.py": ["--seconds", "4", "--rounds", "1"],
         "submit_bench.py": ["--seconds", "4", "--rounds", "1"]}


def main() -> int:
    quick = "--quick" in sys.argv
    failed = []
    for title, (script, *args) in BENCHMARKS:
        if not (HERE / script).exists():
            continue
        print(f"\n===== {title}: bench/{script}", flush=True)
        extra = QUICK.get(script, []) if quick else []
        done = subprocess.run([sys.executable, str(HERE / script), *args, *extra], check=False)
        if done.returncode != 0:
            failed.append(script)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
