"""The demo LMS flow in headless Chromium: the tool in a cross-origin iframe, learner answers,
submits, sees the score; the demo LMS gradebook shows the score it received over AGS (sent by
the server's in-process outbox worker)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask

from lti_tool import create_app
from tests.lti_tool.flows import attempt_scenario, correct_answers

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="BROWSER TESTS SKIPPED: /usr/bin/chromium is missing. Install Debian's chromium "
               "(`make test` does it when run as root) to run them.",
    ),
]


@dataclass(frozen=True)
class LiveServer:
    """`coachlab serve --demo` running as its own process on a free port."""

    app: Flask
    """An app on the same data dir, to read what the server stored."""
    port: int

    @property
    def tool_origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def lms_origin(self) -> str:
        # Another origin (and another site) than the tool's: the tool runs cross-origin.
        return f"http://localhost:{self.port}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_for(port: int, server: subprocess.Popen[str]) -> None:
    for _ in range(300):
        if server.poll() is not None:
            raise AssertionError(f"coachlab serve exited: {server.communicate()}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError("coachlab serve did not start listening within 30 seconds")


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    port = _free_port()
    data_dir = tmp_path / "data"
    env = {**os.environ, "COACHLAB_DATA_DIR": str(data_dir)}
    for name in ("COACHLAB_BASE_URL", "COACHLAB_ENV", "COACHLAB_DATABASE_URL",
                 "COACHLAB_CACHE_URL"):
        env.pop(name, None)
    server = subprocess.Popen(
        [sys.executable, "-m", "lti_tool.cli", "serve", "--demo", "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        _wait_for(port, server)
        app = create_app({"DATA_DIR": str(data_dir)})
        yield LiveServer(app, port)
    finally:
        server.terminate()
        server.communicate(timeout=30)


def test_learner_plays_in_an_iframe_and_the_gradebook_gets_the_score(
    live_server: LiveServer,
) -> None:
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 1400})
            page.goto(f"{live_server.lms_origin}/demo/")
            page.check("input[value=demo-learner-ada]")
            page.select_option("select[name=scenario]", "territory-rep-300-accounts")
            page.click("#launch")

            frame = page.frame_locator("#tool-frame")
            expect(frame.locator("#submit-attempt")).to_be_visible(timeout=20000)
            tool_frame = next(f for f in page.frames if f.url.startswith(live_server.tool_origin))
            assert "/play" in tool_frame.url
            page.screenshot(path=str(ARTIFACTS / "demo-player.png"), full_page=True)

            answers = correct_answers(attempt_scenario(live_server.app))
            for name, value in answers.items():
                if isinstance(value, list):
                    for item in value:
                        frame.locator(f'input[name="{name}"][value="{item}"]').check()
                elif name.startswith("critical_tasks.rank."):
                    frame.locator(f'select[name="{name}"]').select_option(value)
                elif name == "plan":
                    frame.locator(f'textarea[name="{name}"]').fill(value)
                else:
                    frame.locator(f'input[name="{name}"][value="{value}"]').check()
            frame.locator("#submit-attempt").click()

            score = frame.locator("#total-score")
            expect(score).to_be_visible(timeout=20000)
            shown = score.inner_text()
            assert shown.endswith("%") and int(shown[:-1]) >= 70
            page.screenshot(path=str(ARTIFACTS / "demo-result.png"), full_page=True)

            page.goto(f"{live_server.lms_origin}/demo/gradebook")
            # The server's in-process outbox worker sends the score moments after the submit.
            for _ in range(100):
                if page.locator("#gradebook tbody tr").count():
                    break
                page.wait_for_timeout(200)
                page.reload()
            row = page.locator("#gradebook tbody tr").first
            expect(row).to_contain_text("Ada Learner")
            expect(row).to_contain_text("/ 100")
            given = float(row.locator("td.score").inner_text().split("/")[0])
            assert round(given) == int(shown[:-1])
            page.screenshot(path=str(ARTIFACTS / "demo-gradebook.png"), full_page=True)
        finally:
            browser.close()
