"""Profile the launch round trip in one process (cProfile), to find the hot path.

    .venv/bin/python bench/profile_launch.py [--launches 300] [--sort tottime]

Same stack as bench/launch_bench.py (PostgreSQL schema, Redis, the test platform), but the
tool runs in this process under the Werkzeug test client so cProfile sees all of it. Prints
the top functions and the SQL statements and Redis round trips per launch (a pipeline: one).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

from stack import stack  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--launches", type=int, default=300)
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--cpu", action="store_true",
                        help="time with process CPU, not wall time (waits on PostgreSQL and "
                             "Redis then cost nothing, as in the benchmark's server CPU)")
    parser.add_argument("--time-only", action="store_true",
                        help="no profiler: print the process CPU per launch (best of 5 runs "
                             "of --launches), to compare changes without cProfile's overhead")
    args = parser.parse_args()
    with stack() as bench:
        os.environ.update(bench.env)
        from redis import Redis
        from sqlalchemy import event

        from lti_tool import create_app, db

        app = create_app()
        counts = {"sql": 0, "redis": 0}
        event.listen(db.database(app).engine, "before_cursor_execute",
                     lambda *a: counts.__setitem__("sql", counts["sql"] + 1))
        original = Redis.execute_command

        def counted(self: Redis, *a: object, **k: object) -> object:
            counts["redis"] += 1
            return original(self, *a, **k)

        Redis.execute_command = counted  # type: ignore[method-assign]
        from redis.client import Pipeline

        original_pipeline = Pipeline.execute

        def counted_pipeline(self: Pipeline, *a: object, **k: object) -> object:
            counts["redis"] += 1  # one round trip, however many commands
            return original_pipeline(self, *a, **k)

        Pipeline.execute = counted_pipeline  # type: ignore[method-assign]
        platform = bench.platform
        base = "http://127.0.0.1"

        def launch(i: int) -> None:
            client = app.test_client()
            query = {"iss": platform.issuer, "login_hint": "x", "target_link_uri":
                     f"{base}/lti/launch", "client_id": platform.client_id,
                     "lti_deployment_id": platform.deployment_id}
            login = client.get("/lti/login?" + urlencode(query), base_url=base)
            auth = {k: v[0] for k, v in parse_qs(urlsplit(login.location).query).items()}
            token = platform.id_token(auth["nonce"], f"learner-{i % 200}", f"{base}/lti/launch")
            launched = client.post("/lti/launch", data={"id_token": token,
                                                        "state": auth["state"]}, base_url=base)
            # A learner's launch answers with the player page itself (no redirect).
            assert launched.status_code == 200, launched.get_data(as_text=True)[:500]
            assert "Content-Location" in launched.headers

        for i in range(200):  # every learner launched once: the profile sees relaunches
            launch(i)
        counts.update(sql=0, redis=0)
        if args.time_only:
            runs = []
            for _ in range(5):
                started = time.process_time()
                for i in range(args.launches):
                    launch(i)
                runs.append((time.process_time() - started) / args.launches * 1000)
            print(f"CPU per launch (login + launch + player page, in process): best "
                  f"{min(runs):.2f} ms, runs {', '.join(f'{r:.2f}' for r in runs)}")
            db.database(app).engine.dispose()
            return 0
        profile = cProfile.Profile(time.process_time) if args.cpu else cProfile.Profile()
        profile.enable()
        for i in range(args.launches):
            launch(i)
        profile.disable()
        print(f"per launch (login + launch + player page): {counts['sql'] / args.launches:.1f} "
              f"SQL statements, {counts['redis'] / args.launches:.1f} Redis round trips")
        if os.environ.get("PROFILE_DUMP"):
            profile.dump_stats(os.environ["PROFILE_DUMP"])
        stats = pstats.Stats(profile)
        stats.sort_stats(args.sort).print_stats(args.top)
        db.database(app).engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
