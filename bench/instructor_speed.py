"""How fast are the instructor views on PostgreSQL? The dashboard of a placement with 5,000
learners and the item analysis over 100,000 graded attempts, each against a trivial page
(the tool's about page) timed in the same run.

    python bench/instructor_speed.py [--url postgresql+psycopg://postgres@127.0.0.1:5432/test]
                                     [--learners 5000] [--attempts 100000] [--repeat 7]

Works in a schema of its own (created, then dropped). Data are generated in SQL
(generate_series), so the set-up takes seconds. Targets: dashboard <= 20x the trivial page;
item analysis under 2 s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from lti_tool import create_app, db  # noqa: E402
from lti_tool.lti.references import LaunchRef, sign_launch  # noqa: E402

SCENARIO = "territory-rep-300-accounts"
STEPS = (("situation", 0.1), ("critical_tasks", 0.2), ("focus", 0.35), ("plan", 0.35))
CRITERIA = ("focus", "situation", "actions", "ownership", "follow_up")
RANKING = ("coverage", "prospecting", "qualification", "pipeline", "negotiation", "executive")


def _fill(connection: sa.Connection, learners: int, attempts: int) -> dict[str, int]:
    """Two placements in one course: A with `learners` learners, B with `attempts` attempts."""
    run = connection.execute
    reg = run(sa.text(
        "INSERT INTO platform_registrations (issuer, client_id, auth_login_url, auth_token_url, "
        "created_at) VALUES ('https://bench.example', 'bench', 'x', 'x', now()) RETURNING id"
    )).scalar_one()
    ctx = run(sa.text("INSERT INTO contexts (registration_id, context_id, title, label) "
                      "VALUES (:r, 'course', 'Bench course', 'B') RETURNING id"), {"r": reg}
              ).scalar_one()
    links = {}
    for name in ("A", "B"):
        links[name] = run(sa.text(
            "INSERT INTO resource_links (registration_id, context_pk, deployment_id, "
            "resource_link_id, title, scenario_id, settings) VALUES (:r, :c, 'd', :l, :l, :s, "
            "'{}') RETURNING id"), {"r": reg, "c": ctx, "l": f"link-{name}", "s": SCENARIO}
        ).scalar_one()
    users = max(learners, attempts)
    run(sa.text("INSERT INTO users (registration_id, subject, name, email, updated_at) "
                "SELECT :r, 'u' || g, 'Learner ' || lpad(g::text, 6, '0'), "
                "'u' || g || '@bench.example', now() FROM generate_series(1, :n) g"),
        {"r": reg, "n": users})
    staff = run(sa.text("INSERT INTO users (registration_id, subject, name, email, updated_at) "
                        "VALUES (:r, 'teacher', 'Teacher', '', now()) RETURNING id"),
                {"r": reg}).scalar_one()
    # A: every learner has 1-3 attempts (the last one in progress for a third of them).
    run(sa.text(
        "INSERT INTO attempts (resource_link_pk, user_pk, scenario_id, scenario_version, "
        "content_hash, status, score, created_at, submitted_at, graded_at, grade_sync_status) "
        "SELECT :l, u.id, :s, '1', 'h', "
        "CASE WHEN k = 3 THEN 'in_progress' WHEN u.id % 17 = 0 THEN 'needs_review' "
        "ELSE 'graded' END, CASE WHEN k = 3 THEN NULL ELSE random() END, "
        "now() - interval '2 hours', CASE WHEN k = 3 THEN NULL "
        "ELSE now() - interval '2 hours' + (random() * 1800) * interval '1 second' END, "
        "now(), 'delivered' "
        "FROM users u CROSS JOIN generate_series(1, 3) k "
        "WHERE u.registration_id = :r AND u.subject <> 'teacher' "
        "AND substr(u.subject, 2)::int <= :n AND k <= 1 + substr(u.subject, 2)::int % 3"),
        {"l": links["A"], "s": SCENARIO, "r": reg, "n": learners})
    # B: one graded attempt per user; abilities spread so the statistics are not degenerate.
    run(sa.text(
        "INSERT INTO attempts (resource_link_pk, user_pk, scenario_id, scenario_version, "
        "content_hash, status, created_at, submitted_at, graded_at, grade_sync_status) "
        "SELECT :l, u.id, :s, '1', 'h', 'graded', now() - interval '1 hour', now(), now(), "
        "'delivered' FROM users u WHERE u.registration_id = :r AND u.subject <> 'teacher' "
        "AND substr(u.subject, 2)::int <= :n"),
        {"l": links["B"], "s": SCENARIO, "r": reg, "n": attempts})
    for step_id, weight in STEPS:
        run(sa.text(
            "INSERT INTO step_results (attempt_id, step_id, score, weight, criteria, feedback, "
            "confidence, needs_review, grader, grader_version, graded_at, machine_score) "
            "SELECT a.id, :step, s.v, :w, '[]', '[]', 0.9, false, 'bench', '1', now(), s.v "
            "FROM attempts a CROSS JOIN LATERAL (SELECT greatest(0, least(1, "
            "(a.id % 100) / 100.0 + (random() - 0.5) * 0.8)) AS v) s "
            "WHERE a.resource_link_pk = :l"), {"step": step_id, "w": weight, "l": links["B"]})
    run(sa.text(
        "UPDATE attempts a SET score = t.total FROM (SELECT attempt_id, sum(score * weight) AS "
        "total FROM step_results GROUP BY attempt_id) t WHERE t.attempt_id = a.id"))
    for criterion in CRITERIA:
        run(sa.text(
            "INSERT INTO step_criterion_results (attempt_id, step_id, criterion_id, label, "
            "status, points, max_points) SELECT r.attempt_id, 'plan', :c, :c, "
            "CASE WHEN r.score > 0.66 THEN 'met' WHEN r.score > 0.33 THEN 'partial' "
            "ELSE 'missed' END, r.score, 1 FROM step_results r JOIN attempts a ON "
            "a.id = r.attempt_id WHERE r.step_id = 'plan' AND a.resource_link_pk = :l"),
            {"c": criterion, "l": links["B"]})
    run(sa.text(
        "INSERT INTO step_option_choices (attempt_id, step_id, option_id, position, correct) "
        "SELECT r.attempt_id, 'situation', CASE WHEN r.score > 0.5 THEN 'territory' "
        "ELSE (ARRAY['global', 'hunter', 'inside'])[1 + r.attempt_id % 3] END, 1, r.score > 0.5 "
        "FROM step_results r JOIN attempts a ON a.id = r.attempt_id "
        "WHERE r.step_id = 'situation' AND a.resource_link_pk = :l"), {"l": links["B"]})
    run(sa.text(
        "INSERT INTO step_option_choices (attempt_id, step_id, option_id, position, correct) "
        "SELECT r.attempt_id, 'focus', CASE WHEN r.score > 0.5 THEN 'coverage' "
        "ELSE (ARRAY['prospecting', 'qualification', 'pipeline'])[1 + r.attempt_id % 3] END, "
        "1, r.score > 0.5 FROM step_results r JOIN attempts a ON a.id = r.attempt_id "
        "WHERE r.step_id = 'focus' AND a.resource_link_pk = :l"), {"l": links["B"]})
    for position, option in enumerate(RANKING, start=1):
        run(sa.text(
            "INSERT INTO step_option_choices (attempt_id, step_id, option_id, position, correct) "
            "SELECT a.id, 'critical_tasks', :o, :p, random() < 0.6 FROM attempts a "
            "WHERE a.resource_link_pk = :l"), {"o": option, "p": position, "l": links["B"]})
    return {"registration": reg, "staff": staff, "A": links["A"], "B": links["B"]}


def _paired(call: Callable[[], object], floor: Callable[[], object], repeat: int
            ) -> tuple[float, float, float]:
    """Median seconds of `call`, of `floor`, and median ratio, timed alternately so that a
    shared machine's load drifts onto both (the ratio is what is reported)."""
    call()
    floor()
    pairs = []
    for _ in range(repeat):
        start = time.perf_counter()
        floor()
        middle = time.perf_counter()
        call()
        pairs.append((time.perf_counter() - middle, middle - start))
    return (statistics.median(p[0] for p in pairs), statistics.median(p[1] for p in pairs),
            statistics.median(p[0] / p[1] for p in pairs))


def _median_seconds(call: Callable[[], object], repeat: int) -> float:
    call()  # warm caches, templates and the connection pool
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    """Build the data, time the pages, print the ratios; drop the schema."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--learners", type=int, default=5000)
    parser.add_argument("--attempts", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv)

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(args.url)
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in args.url else "?"
    url = f"{args.url}{separator}options={quote(f'-csearch_path={schema}')}"
    try:
        with tempfile.TemporaryDirectory() as data_dir:
            app = create_app({"DATABASE_URL": url, "DATA_DIR": data_dir, "SECRET_KEY": "bench",
                              "BASE_URL": "http://localhost", "INPROCESS_WORKER": False})
            # The data go in before the learner-summary migration, so its backfill is timed too.
            db.upgrade(app, "0008-1")
            start = time.perf_counter()
            with db.database(app).engine.begin() as connection:
                ids = _fill(connection, args.learners, args.attempts)
            print(f"data: {args.learners} learners on placement A, {args.attempts} graded "
                  f"attempts on placement B ({time.perf_counter() - start:.1f} s to build)")
            start = time.perf_counter()
            db.upgrade(app)
            print(f"migration 0008 backfill of the learner summary: "
                  f"{time.perf_counter() - start:.1f} s")
            # What autovacuum does on a live database: statistics and the visibility map (so
            # counts can be answered from the index alone).
            with db.database(app).engine.connect() as connection:
                tables = ("users", "resource_links", "attempts", "step_results",
                          "step_criterion_results", "step_option_choices", "learner_progress")
                connection.execution_options(isolation_level="AUTOCOMMIT").execute(
                    sa.text(f"VACUUM ANALYZE {', '.join(tables)}"))
            with app.test_request_context():
                token = sign_launch(LaunchRef("bench", ids["registration"], ids["staff"],
                                              ids["A"], True))
            client = app.test_client()

            def get(path: str, **params: str) -> Callable[[], object]:
                def call() -> object:
                    response = client.get(path, query_string={"launch": token, **params})
                    if response.status_code != 200:
                        raise SystemExit(f"{path} answered {response.status_code}: "
                                         f"{response.get_data(as_text=True)[:400]}")
                    data = response.get_data()
                    response.close()
                    return data
                return call

            trivial = _median_seconds(get("/lti/"), args.repeat)
            print(f"trivial page (/lti/ about page): {trivial * 1000:.1f} ms")
            cases = [
                ("dashboard, 5,000 learners, by name", get("/overview")),
                ("dashboard, sorted by score desc", get("/overview", sort="score", dir="desc")),
                ("dashboard, filter needs review + search",
                 get("/overview", review="1", q="learner 00")),
                ("dashboard, last page", get("/overview", page=str(-(-args.learners // 50)))),
            ]
            for label, call in cases:
                seconds, floor, ratio = _paired(call, get("/lti/"), args.repeat * 3)
                print(f"{label}: {seconds * 1000:.1f} ms, trivial {floor * 1000:.2f} ms alongside "
                      f"= {ratio:.1f}x trivial (target <= 20x)")
            analysis = _median_seconds(
                get(f"/instructor/placement/{ids['B']}/analysis"), max(3, args.repeat // 2))
            print(f"item analysis page, {args.attempts} attempts: {analysis:.3f} s = "
                  f"{analysis / trivial:.0f}x trivial (target < 2 s)")
            export_start = time.perf_counter()
            response = client.get(f"/instructor/placement/{ids['B']}/export.csv",
                                  query_string={"launch": token})
            lines = response.get_data().count(b"\n")
            response.close()  # ends the streamed request: its session and cursor close
            print(f"CSV export, {lines - 1} attempts streamed: "
                  f"{time.perf_counter() - export_start:.2f} s")
            db.database(app).engine.dispose()
    finally:
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
