"""A load driver that plays the LMS platform and the learners' browsers over real HTTP.

Every benchmark and load test in bench/ goes through this module, so the learner's HTTP steps
live in one place: `Learner.launch()`, `Learner.autosave()`, `Learner.submit()`. The platform
side (a key pair, a JWKS server, signed id_tokens) is `TestPlatform`. Each Learner has its own
cookie jar, as a browser does: the tool binds the login to the browser with pylti1p3's state
cookie, and a launch without it is refused.
"""

from __future__ import annotations

import html.parser
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lti_tool.keys import KeyPair, generate_private_pem, key_pair_from_private_pem  # noqa: E402

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
LEARNER_ROLE = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
GOOD_PLAN = (
    "Coverage is the focus: only a third of her accounts were touched while 64% of her time "
    "goes to the top 20. This month we build a tiering of the C accounts together in a joint "
    "territory plan session, agree a touch plan per tier, and hold a weekly coverage review. "
    "She owns the calls; I coach, I will not take over her accounts."
)
POSTGRES_URL = os.environ.get(
    "COACHLAB_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("COACHLAB_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")


class DriverError(Exception):
    """A step of the learner's flow got an answer a browser would show as an error."""


def free_port() -> int:
    """A TCP port free right now on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class TestPlatform:
    """The LMS: its key, its JWKS served over HTTP, and the id_tokens it signs."""

    issuer: str = "https://lms.bench.test"
    client_id: str = "coachlab-bench"
    deployment_id: str = "deployment-1"
    keys: KeyPair = field(default_factory=lambda: key_pair_from_private_pem(
        generate_private_pem()))
    jwks_fetches: int = 0
    _signing_key: Any = None
    _server: ThreadingHTTPServer | None = None
    jwks_url: str = ""

    def serve_jwks(self) -> str:
        """Start the platform's JWKS endpoint; counts fetches (the tool should cache it)."""
        platform = self
        body = json.dumps(self.keys.jwks()).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                platform.jwks_fetches += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                """Quiet."""

        port = free_port()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.jwks_url = f"http://127.0.0.1:{port}/jwks"
        return self.jwks_url

    def stop(self) -> None:
        """Stop the JWKS endpoint."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def register_args(self) -> list[str]:
        """`coachlab platform add` arguments registering this platform."""
        return ["platform", "add", "--issuer", self.issuer, "--client-id", self.client_id,
                "--deployment-id", self.deployment_id,
                "--auth-login-url", f"{self.issuer}/auth",
                "--auth-token-url", f"{self.issuer}/token", "--key-set-url", self.jwks_url]

    def id_token(self, nonce: str, subject: str, target: str, resource_link: str = "link-1",
                 course: str = "course-1", ags: dict[str, Any] | None = None,
                 custom: dict[str, str] | None = None) -> str:
        """A signed resource link launch for a learner."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer, "aud": self.client_id, "sub": subject, "iat": now,
            "exp": now + 300, "nonce": nonce, "name": f"Learner {subject}",
            "email": f"{subject}@example.test",
            CLAIM + "message_type": "LtiResourceLinkRequest", CLAIM + "version": "1.3.0",
            CLAIM + "deployment_id": self.deployment_id, CLAIM + "target_link_uri": target,
            CLAIM + "resource_link": {"id": resource_link, "title": "Coach the territory rep"},
            CLAIM + "roles": [LEARNER_ROLE],
            CLAIM + "context": {"id": course, "title": "Coaching 101", "label": "C101"},
            CLAIM + "custom": custom or {"scenario": "territory-rep-300-accounts"},
        }
        if ags is not None:
            claims[AGS_CLAIM] = ags
        if self._signing_key is None:
            # Parsing the PEM costs ~30 ms: an LMS keeps its key loaded, and so do we, or the
            # driver's own CPU would be what the benchmark measures.
            from cryptography.hazmat.primitives.serialization import load_pem_private_key

            self._signing_key = load_pem_private_key(self.keys.private_pem.encode(), None)
        return jwt.encode(claims, self._signing_key, algorithm="RS256",
                          headers={"kid": self.keys.kid})


class _FormReader(html.parser.HTMLParser):
    """Reads the player's form: hidden fields, radio/checkbox groups, rank selects, text areas."""

    def __init__(self) -> None:
        super().__init__()
        self.hidden: dict[str, str] = {}
        self.choices: dict[str, list[str]] = {}
        self.selects: list[str] = []
        self.textareas: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        name = values.get("name", "")
        if tag == "input" and values.get("type") == "hidden":
            self.hidden[name] = values.get("value", "")
        elif tag == "input" and values.get("type") in ("radio", "checkbox"):
            self.choices.setdefault(name, []).append(values.get("value", ""))
        elif tag == "select" and name:
            self.selects.append(name)
        elif tag == "textarea" and name:
            self.textareas.append(name)


@dataclass
class PlayerForm:
    """What the learner sees in the player and can fill in."""

    hidden: dict[str, str]
    choices: dict[str, list[str]]
    selects: list[str]
    textareas: list[str]

    @classmethod
    def parse(cls, page: str) -> PlayerForm:
        """Read the form out of the player page."""
        reader = _FormReader()
        reader.feed(page)
        if "launch" not in reader.hidden or "attempt" not in reader.hidden:
            raise DriverError("the page has no player form")
        return cls(reader.hidden, reader.choices, reader.selects, reader.textareas)

    def answers(self, text: str) -> dict[str, Any]:
        """A complete answer: the first choice of each group, ranks 1..n, `text` in every
        free-text step."""
        data: dict[str, Any] = dict(self.hidden)
        for name, values in self.choices.items():
            data[name] = values[0]
        groups: dict[str, list[str]] = {}
        for name in self.selects:
            groups.setdefault(name.split(".rank.")[0], []).append(name)
        for names in groups.values():
            for rank, name in enumerate(names, start=1):
                data[name] = str(rank)
        for name in self.textareas:
            data[name] = text
        return data

    def merge(self, other: PlayerForm) -> None:
        """Add the fields of another page of the same attempt (the next step)."""
        self.hidden.update(other.hidden)
        for name, values in other.choices.items():
            self.choices.setdefault(name, values)
        self.selects.extend(n for n in other.selects if n not in self.selects)
        self.textareas.extend(n for n in other.textareas if n not in self.textareas)


@dataclass
class Learner:
    """One learner's browser: a cookie jar and the tool's pages, step by step."""

    base_url: str
    platform: TestPlatform
    subject: str
    resource_link: str = "link-1"
    course: str = "course-1"
    ags: dict[str, Any] | None = None
    timeout: float = 30.0
    http: requests.Session = field(default_factory=requests.Session)
    form: PlayerForm | None = None
    player_url: str = ""

    def _check(self, response: requests.Response, expected: tuple[int, ...], step: str) -> None:
        if response.status_code not in expected:
            raise DriverError(f"{step}: HTTP {response.status_code}: {response.text[:300]}")

    def login_and_launch(self) -> requests.Response:
        """OIDC login initiation, then the signed launch; returns the launch's answer: the
        player page itself (a learner's launch) or a redirect (staff, a submitted attempt)."""
        target = f"{self.base_url}/lti/launch"
        query = {"iss": self.platform.issuer, "login_hint": self.subject,
                 "target_link_uri": target, "client_id": self.platform.client_id,
                 "lti_deployment_id": self.platform.deployment_id}
        login = self.http.get(f"{self.base_url}/lti/login?{urlencode(query)}",
                              allow_redirects=False, timeout=self.timeout)
        self._check(login, (302, 303), "login")
        auth = {k: v[0] for k, v in parse_qs(urlsplit(login.headers["Location"]).query).items()}
        token = self.platform.id_token(auth["nonce"], self.subject, target, self.resource_link,
                                       self.course, self.ags)
        launch = self.http.post(target, data={"id_token": token, "state": auth["state"]},
                                allow_redirects=False, timeout=self.timeout)
        self._check(launch, (200, 302, 303), "launch")
        return launch

    def landing(self) -> requests.Response:
        """Login and launch, then the page the launch opens, as the browser shows it
        (following the launch's redirect when it answers with one). Sets player_url."""
        launch = self.login_and_launch()
        if launch.status_code == 200:
            address = launch.headers.get("Content-Location", "")
            if not address:
                raise DriverError("launch: a page without its address (Content-Location)")
            self.player_url = self._absolute(address)
            return launch
        self.player_url = self._absolute(launch.headers.get("Location", ""))
        page = self.http.get(self.player_url, timeout=self.timeout)
        self._check(page, (200,), "player")
        return page

    def _absolute(self, url: str) -> str:
        if not url:
            raise DriverError("launch: neither a page nor a redirect to one")
        return url if url.startswith("http") else self.base_url + url

    def launch(self) -> PlayerForm:
        """Login, launch and the player page it opens, then every step page."""
        return self.open_player(self.player_url, self.landing())

    def open_player(self, url: str, page: requests.Response | None = None) -> PlayerForm:
        """Open the player as a learner reads it: the page the tool resumes at (`page`, when
        the launch answered with it), then every step page (one step per page), collecting
        the fields a complete answer fills in."""
        if page is None:
            page = self.http.get(url, timeout=self.timeout)
            self._check(page, (200,), "player")
        if urlsplit(page.url).path.startswith("/play/result"):
            raise DriverError("player: the attempt is submitted (the result page opened)")
        form = PlayerForm.parse(page.text)
        token = form.hidden["launch"]
        number = 1
        while True:
            step = self.http.get(f"{self.base_url}/play/step/{number}",
                                 params={"launch": token}, timeout=self.timeout)
            if step.status_code == 404:
                break
            self._check(step, (200,), f"step {number}")
            form.merge(PlayerForm.parse(step.text))
            number += 1
        if not form.textareas:
            raise DriverError("player: no free-text step found")
        self.form = form
        return form

    def autosave(self, text: str) -> None:
        """What static/player.js sends after the learner types: the free text as JSON."""
        assert self.form is not None, "launch first"
        step = self.form.textareas[-1]
        payload = {"launch": self.form.hidden["launch"],
                   "csrf_token": self.form.hidden["csrf_token"],
                   "attempt": self.form.hidden["attempt"], "step": step,
                   "fields": {step: text}}
        response = self.http.post(f"{self.base_url}/play/draft", json=payload,
                                  allow_redirects=False, timeout=self.timeout)
        self._check(response, (200,), "autosave")
        if not response.json().get("saved"):
            raise DriverError(f"autosave: not saved: {response.text[:300]}")

    def submit(self, text: str = GOOD_PLAN) -> str:
        """Submit a complete answer and open the result page; returns the result page."""
        assert self.form is not None, "launch first"
        response = self.http.post(f"{self.base_url}/play/submit", data=self.form.answers(text),
                                  allow_redirects=False, timeout=self.timeout)
        self._check(response, (302, 303), "submit")
        location = response.headers["Location"]
        result = self.http.get(location if location.startswith("http")
                               else self.base_url + location, timeout=self.timeout)
        self._check(result, (200,), "result")
        return result.text

    def again(self) -> None:
        """Start a new attempt after a submitted one and open it."""
        assert self.form is not None
        data = {"launch": self.form.hidden["launch"],
                "csrf_token": self.form.hidden["csrf_token"]}
        response = self.http.post(f"{self.base_url}/play/again", data=data,
                                  allow_redirects=False, timeout=self.timeout)
        self._check(response, (302, 303), "again")
        location = response.headers["Location"]
        self.open_player(location if location.startswith("http") else self.base_url + location)


@dataclass
class Server:
    """A gunicorn (or any) server process started by a benchmark."""

    process: subprocess.Popen[bytes]
    base_url: str
    log: Path

    def worker_pids(self) -> list[int]:
        """gunicorn's worker processes (children of the master)."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(pid) for pid in children.read_text().split()]
        except OSError:
            return []

    def cpu_seconds(self) -> float:
        """User + system CPU of the master and its workers so far, including workers that
        exited (gunicorn recycles one after max_requests): the master's cutime and cstime
        hold what its reaped children used; without them a recycled worker's CPU vanished
        from the sum and a round could even show negative CPU."""
        total = 0.0
        for pid in [self.process.pid, *self.worker_pids()]:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            ticks = int(fields[11]) + int(fields[12])
            if pid == self.process.pid:
                ticks += int(fields[13]) + int(fields[14])
            total += ticks / os.sysconf("SC_CLK_TCK")
        return total

    def peak_rss_mb(self) -> list[float]:
        """Each worker's peak resident memory (VmHWM), in MB."""
        peaks = []
        for pid in self.worker_pids():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        peaks.append(int(line.split()[1]) / 1024)
            except OSError:
                continue
        return peaks

    def stop(self) -> None:
        """SIGTERM, then wait (SIGKILL after 10 s)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path,
                  seconds: float = 60.0) -> None:
    """Poll `url` until it answers 200; fail with the server's log when it dies."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise DriverError(f"server exited ({process.returncode}):\n{log.read_text()[-3000:]}")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise DriverError(f"server not up after {seconds:.0f} s:\n{log.read_text()[-3000:]}")


def tool_env(data_dir: Path, database_url: str, cache_url: str, base_url: str,
             **extra: str) -> dict[str, str]:
    """The environment of a production-like tool process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COACHLAB_")}
    env.update({
        "COACHLAB_ENV": "production", "COACHLAB_DATA_DIR": str(data_dir),
        "COACHLAB_DATABASE_URL": database_url, "COACHLAB_CACHE_URL": cache_url,
        "COACHLAB_BASE_URL": base_url, "COACHLAB_SECRET_KEY": "bench-" + uuid.uuid4().hex,
        "COACHLAB_RATE_LIMIT": "", "COACHLAB_INPROCESS_WORKER": "0",
        "COACHLAB_LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT),
    })
    env.update(extra)
    return env


def coachlab(env: dict[str, str], *args: str) -> str:
    """Run a `coachlab` command with `env`; its output (raises on failure)."""
    done = subprocess.run([str(Path(sys.executable).parent / "coachlab"), *args], env=env,
                          capture_output=True, text=True, cwd=ROOT, check=False)
    if done.returncode != 0:
        raise DriverError(f"coachlab {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def start_gunicorn(app_spec: str, env: dict[str, str], port: int, log: Path,
                   workers: int = 2, threads: int = 4, config: bool = True) -> Server:
    """gunicorn with the tool's settings file (or plain settings for the floor app)."""
    env = dict(env)
    env.update({"COACHLAB_BIND": f"127.0.0.1:{port}", "COACHLAB_WORKERS": str(workers),
                "COACHLAB_THREADS": str(threads)})
    args = [sys.executable, "-m", "gunicorn"]
    if config:
        args += ["-c", "python:lti_tool.gunicorn_conf"]
    else:
        args += ["-b", f"127.0.0.1:{port}", "-w", str(workers), "-k", "gthread",
                 "--threads", str(threads)]
    with log.open("ab") as handle:  # the child keeps its own descriptor
        process = subprocess.Popen([*args, app_spec], env=env, cwd=ROOT, stdout=handle,
                                   stderr=subprocess.STDOUT)
    server = Server(process, f"http://127.0.0.1:{port}", log)
    wait_until_up(f"{server.base_url}/healthz", process, log)
    return server


def percentile(values: list[float], fraction: float) -> float:
    """The `fraction` quantile (nearest rank) of `values`; 0 when empty."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


if __name__ == "__main__" and len(sys.argv) > 1 and sys.argv[1] == "--selftest":
    form = PlayerForm.parse('<input type="hidden" name="launch" value="x">'
                            '<input type="hidden" name="attempt" value="1">')
    print(form.answers("t"))
