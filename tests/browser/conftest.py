"""Browser test fixtures: `coachlab serve --demo` as a live server, and Debian's Chromium.

The demo LMS on http://localhost:<port> embeds the tool from http://127.0.0.1:<port>: another
origin and another site, as Moodle or Canvas embed the tool in a cross-origin iframe."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from lti_tool import create_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
"""Screenshots of every page of the flow (git-ignored)."""
AXE = Path(__file__).resolve().parents[2] / ".cache" / "npm" / "node_modules" / "axe-core" / (
    "axe.min.js")
"""axe-core, installed by `make axe` (part of `make test`) from the npm registry."""

CSP_LISTENER = """document.addEventListener("securitypolicyviolation", e => console.error(
    "CSP violation: " + e.effectiveDirective + " blocked " + (e.blockedURI || "?") + " in "
    + e.documentURI.split("?")[0] + ":" + e.lineNumber));"""
"""Runs in every document before its own scripts (an init script, which CSP does not govern)."""


def watch_csp(page: Any) -> list[str]:
    """Collect every Content-Security-Policy violation in any frame of `page`, from now on.

    Two witnesses: Chromium's console report ("Refused to ...") and the document's
    securitypolicyviolation event, relayed to the console by CSP_LISTENER.
    """
    refused: list[str] = []
    page.add_init_script(CSP_LISTENER)
    page.on("console", lambda message: refused.append(message.text)
            if message.text.startswith(("Refused to", "CSP violation:")) else None)
    return refused


def assert_csp_enforced(page: Any, frame: Any, refused: list[str]) -> None:
    """The canary: an inline script added to `frame` is blocked, and `refused` hears of it.

    Proves both that the page runs under its real policy (not a bypass_csp context) and that
    watch_csp sees violations in the tool's cross-origin iframe; the canary's report is
    removed from `refused` afterwards.
    """
    before = len(refused)
    ran = frame.evaluate("""() => {
        const canary = document.createElement("script");
        canary.textContent = "window.coachlabCanary = true";
        document.body.appendChild(canary);
        return window.coachlabCanary === true;
    }""")
    assert not ran, "an inline script ran: this page is not under its Content-Security-Policy"
    for _ in range(100):  # the violation event is queued, then relayed through the console
        if len(refused) > before:
            break
        page.wait_for_timeout(50)
    assert [r.split(" blocked")[0] for r in refused[before:]] == [
        "CSP violation: script-src-elem"], refused[before:]
    del refused[before:]


def inject_axe(frame: Any) -> None:
    """Load axe-core into `frame` with the page's real CSP in force.

    A <script> tag with axe's text would be inline script, which the tool's CSP refuses (as it
    should). Evaluating the text through the DevTools protocol is not a page script, so CSP
    leaves it alone and reports nothing; the pages are checked under the policy they ship with.
    """
    loaded = frame.evaluate(AXE.read_text(encoding="utf-8") + "\n;typeof window.axe")
    assert loaded == "object", f"axe-core did not load: typeof window.axe is {loaded}"


SKIP_WITHOUT_CHROMIUM = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="BROWSER TESTS SKIPPED: /usr/bin/chromium is missing. Install Debian's chromium "
           "(`make test` does it when run as root) to run them.",
)


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


def _wait_for(port: int, server: subprocess.Popen[str], log: Path) -> None:
    for _ in range(300):
        if server.poll() is not None:
            raise AssertionError(f"coachlab serve exited: {log.read_text(errors='replace')}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError("coachlab serve did not start listening within 30 seconds")


@pytest.fixture
def browser() -> Iterator[Any]:
    """Debian's Chromium, started headless with the flags this closed network needs."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    port = _free_port()
    data_dir = tmp_path / "data"
    env = {**os.environ, "COACHLAB_DATA_DIR": str(data_dir)}
    for name in ("COACHLAB_BASE_URL", "COACHLAB_ENV", "COACHLAB_DATABASE_URL",
                 "COACHLAB_CACHE_URL"):
        env.pop(name, None)
    log = tmp_path / "server.log"
    # The request log goes to a file: a pipe nobody reads fills up and stalls the server.
    with log.open("w") as sink:
        server = subprocess.Popen(
            [sys.executable, "-m", "lti_tool.cli", "serve", "--demo", "--port", str(port)],
            env=env, stdout=sink, stderr=subprocess.STDOUT, text=True,
        )
    try:
        _wait_for(port, server, log)
        app = create_app({"DATA_DIR": str(data_dir)})
        yield LiveServer(app, port)
    finally:
        server.terminate()
        server.wait(timeout=30)
