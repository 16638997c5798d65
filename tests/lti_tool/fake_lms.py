"""A fake LMS for the grade passback tests: a Flask app served over real HTTP on 127.0.0.1 in a
thread (so timeouts and refused connections are real), with a token endpoint, line items and
a score endpoint that can be scripted to fail, and optional Moodle semantics."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import jwt
from flask import Flask, Response, jsonify, request
from sqlalchemy import select
from werkzeug.serving import BaseWSGIServer, make_server

from lti_tool import db
from lti_tool.models import Attempt, OutboxItem, ResourceLink, User
from lti_tool.platforms import PlatformSpec, add_platform

CLIENT_ID = "outbox-client"
AGS_SCOPES = [
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
]


@dataclass(frozen=True)
class Scripted:
    """One programmed answer to the next score POST (instead of the normal handling)."""

    status: int
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    """Seconds to sleep before answering (longer than the tool's timeout = a timeout)."""


@dataclass
class FakeLms:
    """The LMS's state: issued tokens, line items, received scores, the gradebook."""

    client_id: str = CLIENT_ID
    """The client id the token endpoint accepts (the assertion's iss)."""
    moodle: bool = False
    """Moodle semantics: 409 for a timestamp not newer than the stored one; only a FullyGraded
    score sets a grade (any other gradingProgress clears it)."""
    canvas: bool = False
    """Canvas semantics: a Pending or PendingManual score is accepted (200) but not graded."""
    token_lifetime: int = 3600
    tokens: set[str] = field(default_factory=set)
    token_requests: int = 0
    score_posts: list[dict[str, Any]] = field(default_factory=list)
    """Every score POST that reached the score handling (lineitem, payload, answer status)."""
    gradebook: dict[tuple[str, str], dict[str, Any] | None] = field(default_factory=dict)
    lineitems: list[dict[str, Any]] = field(default_factory=list)
    lineitem_queries: list[str] = field(default_factory=list)
    script: deque[Scripted] = field(default_factory=deque)
    not_gradable: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: BaseWSGIServer | None = None
    port: int = 0

    @property
    def base(self) -> str:
        """The LMS's base URL."""
        return f"http://127.0.0.1:{self.port}"

    def lineitem_url(self, name: str = "li-1") -> str:
        """URL of a line item of this LMS."""
        return f"{self.base}/lineitems/{name}"

    def stored(self, user_id: str, lineitem: str = "li-1") -> dict[str, Any] | None:
        """The score the gradebook holds for the user (None: no grade)."""
        return self.gradebook.get((lineitem, user_id))

    def revoke_tokens(self) -> None:
        """Forget every issued token (the next call with one answers 401)."""
        with self.lock:
            self.tokens.clear()

    def app(self) -> Flask:
        """The LMS as a Flask app."""
        app = Flask("fake_lms")

        @app.post("/token")
        def token() -> Any:
            assertion = request.form.get("client_assertion", "")
            claims = jwt.decode(assertion, options={"verify_signature": False})
            if request.form.get("grant_type") != "client_credentials" or (
                claims.get("iss") != self.client_id
            ):
                return jsonify(error="invalid_client"), 401
            with self.lock:
                self.token_requests += 1
                value = f"token-{self.token_requests}"
                self.tokens.add(value)
            return jsonify(access_token=value, token_type="Bearer",
                           expires_in=self.token_lifetime, scope=request.form.get("scope"))

        def authorised() -> bool:
            header = request.headers.get("Authorization", "")
            with self.lock:
                return header.startswith("Bearer ") and header[7:] in self.tokens

        @app.get("/lineitems")
        def list_lineitems() -> Any:
            if not authorised():
                return "unauthorised", 401
            link = request.args.get("resource_link_id", "")
            self.lineitem_queries.append(link)
            return jsonify([i for i in self.lineitems if not link or i["resourceLinkId"] == link])

        @app.post("/lineitems")
        def create_lineitem() -> Any:
            if not authorised():
                return "unauthorised", 401
            item = dict(request.get_json(force=True))
            item["id"] = self.lineitem_url(f"created-{len(self.lineitems) + 1}")
            self.lineitems.append(item)
            return jsonify(item), 201

        @app.post("/lineitems/<name>/scores")
        def scores(name: str) -> Any:
            if not authorised():
                return "unauthorised", 401
            with self.lock:
                scripted = self.script.popleft() if self.script else None
            if scripted is not None:
                time.sleep(scripted.delay)
                if scripted.status:
                    return Response(scripted.body, scripted.status, headers=scripted.headers)
            payload = request.get_json(force=True)
            status = self._store(name, payload)
            with self.lock:
                self.score_posts.append({"lineitem": name, "payload": payload,
                                         "status": status,
                                         "content_type": request.content_type})
            if status == 409:
                return "Refusing score with an earlier timestamp", 409
            if status == 400:
                return "Incorrect score received", 400
            return "", status

        return app

    def _store(self, name: str, payload: dict[str, Any]) -> int:
        user = str(payload["userId"])
        if user in self.not_gradable:
            return 400
        key = (name, user)
        if self.canvas and payload.get("gradingProgress") in ("Pending", "PendingManual"):
            return 200
        with self.lock:
            held = self.gradebook.get(key)
            stamp = datetime.fromisoformat(payload["timestamp"])
            if held is not None and self.moodle:
                # Moodle compares whole seconds and refuses what is not newer.
                if int(stamp.timestamp()) <= int(held["_stamp"].timestamp()):
                    return 409
            elif held is not None and stamp <= held["_stamp"]:
                return 200  # the spec: a platform ignores a score that is not newer
            grade = dict(payload, _stamp=stamp)
            if self.moodle and payload.get("gradingProgress") != "FullyGraded":
                grade["scoreGiven"] = None  # Moodle clears the grade until fully graded
            self.gradebook[key] = grade
        return 200

    def start(self) -> FakeLms:
        """Serve (again, on the same port once it had one)."""
        self.server = make_server("127.0.0.1", self.port, self.app(), threaded=True)
        self.port = self.server.server_port
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop serving: connections are refused (the LMS is down)."""
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


@contextmanager
def serving(**options: Any) -> Iterator[FakeLms]:
    """A running fake LMS, stopped afterwards."""
    fake = FakeLms(**options).start()
    try:
        yield fake
    finally:
        fake.stop()


def register(app: Flask, lms: FakeLms, issuer: str = "https://fake-lms.test") -> int:
    """Register the fake LMS with the tool; returns the registration id."""
    with db.database(app).sessions() as session:
        row = add_platform(session, PlatformSpec(
            issuer=issuer, client_id=CLIENT_ID, deployment_ids=("d-1",),
            auth_login_url=f"{lms.base}/auth", auth_token_url=f"{lms.base}/token",
            key_set_url=None, key_set={"keys": []}))
        session.commit()
        return row.id


def endpoint(lms: FakeLms, *, lineitem: str | None = "li-1", lineitems: bool = True,
             scopes: list[str] | None = None) -> dict[str, Any]:
    """An AGS endpoint claim pointing at the fake LMS."""
    claim: dict[str, Any] = {"scope": list(AGS_SCOPES if scopes is None else scopes)}
    if lineitem:
        claim["lineitem"] = lms.lineitem_url(lineitem)
    if lineitems:
        claim["lineitems"] = f"{lms.base}/lineitems"
    return claim


def seed_attempt(
    app: Flask, registration_id: int, ags_endpoint: dict[str, Any] | None, *,
    subject: str = "learner-1", link_id: str = "link-1", score: float = 0.75,
    status: str = "graded", graded_at: datetime | None = None,
) -> int:
    """A graded attempt on a placement with this AGS claim (no score queued yet)."""
    from lti_tool.models import utcnow

    with db.database(app).sessions() as session:
        link = session.scalar(select(ResourceLink).where(
            ResourceLink.registration_id == registration_id,
            ResourceLink.resource_link_id == link_id))
        if link is None:
            link = ResourceLink(registration_id=registration_id, resource_link_id=link_id,
                                deployment_id="d-1", title="Coach the rep", settings={},
                                scenario_id="territory-rep-300-accounts")
            session.add(link)
        link.ags_endpoint = ags_endpoint
        user = session.scalar(select(User).where(User.registration_id == registration_id,
                                                 User.subject == subject))
        if user is None:
            user = User(registration_id=registration_id, subject=subject, name=subject)
            session.add(user)
        attempt = Attempt(resource_link=link, user=user, scenario_id="territory-rep-300-accounts",
                          content_hash="h", status=status, score=score,
                          graded_at=graded_at or utcnow())
        session.add(attempt)
        session.commit()
        return attempt.id


def enqueue(app: Flask, attempt_id: int, **kwargs: Any) -> int | None:
    """enqueue_score for a stored attempt, committed; returns the outbox row id."""
    from lti_tool.outbox import enqueue_score

    with app.app_context(), db.database(app).sessions() as session:
        attempt = session.get(Attempt, attempt_id)
        assert attempt is not None
        item = enqueue_score(session, attempt, **kwargs)
        session.commit()
        return item.id if item is not None else None


def outbox_row(app: Flask, row_id: int) -> OutboxItem:
    """A fresh copy of an outbox row."""
    with db.database(app).sessions() as session:
        row = session.get(OutboxItem, row_id)
        assert row is not None
        session.expunge(row)
        return row


def link_of(app: Flask, registration_id: int, link_id: str = "link-1") -> ResourceLink:
    """A fresh copy of a placement."""
    with db.database(app).sessions() as session:
        link = session.scalar(select(ResourceLink).where(
            ResourceLink.registration_id == registration_id,
            ResourceLink.resource_link_id == link_id))
        assert link is not None
        session.expunge(link)
        return link
