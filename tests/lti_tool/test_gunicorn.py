"""Two real gunicorn servers (2 workers each) sharing PostgreSQL and Redis: the login on one,
the launch on the other, the pages alternating, as behind a load balancer without sticky
sessions. Uses the benchmark driver (bench/driver.py), so it runs the production entry point."""

from __future__ import annotations

import sys
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from driver import GOOD_PLAN, Learner  # noqa: E402


@pytest.mark.slow
@pytest.mark.postgres
def test_login_on_one_gunicorn_launch_on_another_and_submit(tmp_path: Path) -> None:
    from stack import stack

    from tests.conftest import postgres_schema
    from tests.lti_tool.test_production import _redis_or_skip

    _redis_or_skip()
    with postgres_schema() as url, stack(database_url=url) as bench:
        first, second = bench.start_tool(), bench.start_tool()
        browser = Learner(first.base_url, bench.platform, subject="two-servers")
        platform = bench.platform
        query = {"iss": platform.issuer, "login_hint": "h",
                 "target_link_uri": f"{second.base_url}/lti/launch",
                 "client_id": platform.client_id,
                 "lti_deployment_id": platform.deployment_id}
        login = browser.http.get(f"{first.base_url}/lti/login?{urlencode(query)}",
                                 allow_redirects=False)
        assert login.status_code == 302
        auth = {k: v[0] for k, v in parse_qs(urlsplit(login.headers["Location"]).query).items()}
        token = platform.id_token(auth["nonce"], "two-servers", f"{second.base_url}/lti/launch")
        launched = browser.http.post(f"{second.base_url}/lti/launch",
                                     data={"id_token": token, "state": auth["state"]},
                                     allow_redirects=False)
        assert launched.status_code == 200, launched.text[:500]  # the player page itself
        player = urlsplit(launched.headers["Content-Location"])
        browser.open_player(f"{first.base_url}{player.path}?{player.query}")  # a third request
        browser.base_url = second.base_url
        browser.autosave("a first draft")
        browser.base_url = first.base_url
        result = browser.submit(GOOD_PLAN)
        browser.http.close()
        assert "score" in result.lower()
        assert first.cpu_seconds() > 0 and len(first.worker_pids()) == 2


@pytest.mark.slow
def test_coachlab_serve_production_migrates_and_serves_with_gunicorn(tmp_path: Path) -> None:
    import json
    import os
    import signal
    import subprocess

    import requests
    from driver import ROOT, coachlab, free_port, wait_until_up

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("COACHLAB_")}
    env.update(COACHLAB_ENV="production", COACHLAB_DATA_DIR=str(tmp_path / "data"),
               COACHLAB_SECRET_KEY="s", COACHLAB_LOG_FORMAT="json", PYTHONPATH=str(ROOT))
    log = tmp_path / "serve.log"
    with log.open("ab") as output:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "coachlab"), "serve", "--production",
             "--port", str(port), "--workers", "1"],
            env=env, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/healthz", process, log)
        with requests.Session() as http:
            ready = http.get(f"http://127.0.0.1:{port}/readyz",
                             headers={"X-Request-ID": "probe-1"}, timeout=10)
        assert ready.status_code == 200 and ready.headers["X-Request-ID"] == "probe-1"
        assert "database at revision" in coachlab(env, "db", "upgrade")
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    lines = [json.loads(line) for line in log.read_text().splitlines()
             if line.startswith("{")]
    assert any(line.get("request_id") == "probe-1" and line.get("path") == "/readyz"
               for line in lines), log.read_text()[-2000:]
