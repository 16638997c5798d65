"""Grade passback through a transactional outbox: enqueue with the result, deliver with retries.

`enqueue_score` adds an OutboxItem to the caller's session, so the score commits or rolls back
together with the result it reports: a learner's submit never waits for the LMS, and a score
is never lost between "graded" and "sent". `deliver_due` (run by `coachlab worker` or the
in-process worker) claims due rows one at a time, so several workers never send the same row,
and sends them through lti_tool.lti.ags.

Ordering: each score carries a timestamp that strictly increases per learner and placement
(line item). Before a row is sent, a newer row of the same learner and placement makes it
`superseded`, and a row waits while a sibling is being sent, so an older score never
overwrites a newer one. Platforms ignore (or, like Moodle, answer 409 to) a score that is not
newer than the one they hold, so delivering the same score twice is harmless.

Statuses: pending (waiting for its first or next try), delivered, superseded, failed (gave up
after OUTBOX_MAX_TRIES tries; `retry_failed` queues it again) and rejected (the LMS refused it
for good, e.g. Moodle's "Incorrect score received" for a user who is not gradable).
"""

from __future__ import annotations

import random
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

import requests
from flask import current_app
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from lti_tool.db import database
from lti_tool.errors import LtiToolError
from lti_tool.lti import ags
from lti_tool.models import Attempt, OutboxItem, ResourceLink, utcnow

if TYPE_CHECKING:
    from flask import Flask

PENDING = "pending"
DELIVERED = "delivered"
SUPERSEDED = "superseded"
FAILED = "failed"
REJECTED = "rejected"
STATUSES = (PENDING, DELIVERED, SUPERSEDED, FAILED, REJECTED)

GRADING_PROGRESS = ("FullyGraded", "Pending", "PendingManual", "Failed", "NotReady")
LINEITEM_TAG = "coachlab"
DEFER_SECONDS = 5
"""How long a row waits while an older sibling of the same learner and line item is in flight."""

SYNC_STATUS = {PENDING: "pending", DELIVERED: "sent", SUPERSEDED: "superseded",
               FAILED: "failed", REJECTED: "rejected"}
"""Outbox status -> the attempt's grade_sync_status (what pages show)."""

# Moodle answers this (with 400) for a user who is not gradable in the course.
MOODLE_NOT_GRADABLE = "Incorrect score received"


class OutboxError(LtiToolError):
    """A caller asked the outbox for something it cannot do (a programming error)."""

    status = 500
    title = "The grade could not be queued"


@dataclass(frozen=True)
class DeliveryReport:
    """What one deliver_due call did, counted per outcome."""

    delivered: int = 0
    superseded: int = 0
    rejected: int = 0
    retrying: int = 0
    """Tries that failed for now and were scheduled again."""
    failed: int = 0
    """Rows given up after the retry limit."""
    deferred: int = 0
    """Rows left for later because a sibling was in flight."""

    @property
    def handled(self) -> int:
        """Rows this call touched."""
        return (self.delivered + self.superseded + self.rejected + self.retrying + self.failed
                + self.deferred)


# ---------------------------------------------------------------------------------------------
# Enqueue (inside the caller's transaction)


def as_utc(moment: datetime) -> datetime:
    """A timezone-aware UTC datetime (SQLite hands back naive ones, which are UTC)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def next_timestamp(result_time: datetime, previous: datetime | None) -> datetime:
    """The score timestamp: the result's time (ms precision), later than `previous` by at least
    one whole second, because Moodle compares timestamps in whole seconds."""
    stamp = as_utc(result_time)
    stamp = stamp.replace(microsecond=stamp.microsecond // 1000 * 1000)
    if previous is not None:
        earliest = as_utc(previous).replace(microsecond=0) + timedelta(seconds=1)
        stamp = max(stamp, earliest)
    return stamp


def score_points(link: ResourceLink) -> float:
    """Maximum score sent: the placement's points, else its line item's, else COACHLAB_POINTS."""
    for value in ((link.settings or {}).get("points"),
                  (link.ags_lineitem or {}).get("scoreMaximum")):
        try:
            if value is not None and float(value) > 0:
                return float(value)
        except (TypeError, ValueError):
            continue
    return float(current_app.config["POINTS"])


def grading_progress_of(attempt: Attempt) -> str:
    """PendingManual while any step awaits review (unless overridden), else FullyGraded."""
    if attempt.status == "overridden":
        return "FullyGraded"
    if attempt.status == "needs_review" or any(row.needs_review for row in attempt.results):
        return "PendingManual"
    return "FullyGraded"


SCORED_STATUSES = ("graded", "needs_review", "overridden")


def placement_score(session: Session, attempt: Attempt) -> float | None:
    """The learner's score on the placement (0..1) by its attempt policy: the best attempt
    (the default), the last one, or the mean of all scored attempts."""
    scores = [score for score in session.scalars(
        select(Attempt.score).where(
            Attempt.resource_link_pk == attempt.resource_link_pk,
            Attempt.user_pk == attempt.user_pk, Attempt.status.in_(SCORED_STATUSES),
            Attempt.score.is_not(None)).order_by(Attempt.id)) if score is not None]
    if not scores:
        return attempt.score
    policy = str((attempt.resource_link.settings or {}).get("attempt_policy") or "best")
    if policy == "last":
        return scores[-1]
    if policy == "mean":
        return sum(scores) / len(scores)
    return max(scores)


def _ags_available(link: ResourceLink) -> bool:
    endpoint = link.ags_endpoint or {}
    return ags.SCORE_SCOPE in (endpoint.get("scope") or []) and bool(
        endpoint.get("lineitem") or endpoint.get("lineitems"))


def enqueue_score(
    session: Session, attempt: Attempt, *, comment: str | None = None,
    grading_progress: str | None = None,
) -> OutboxItem | None:
    """Queue the learner's score for the LMS in the caller's transaction (the caller commits).

    scoreGiven follows the placement's attempt policy (placement_score) and its points.

    Returns None, and marks the attempt `not_available`, when the placement's launch offered
    no AGS score service.
    """
    if grading_progress is not None and grading_progress not in GRADING_PROGRESS:
        raise OutboxError(f"gradingProgress {grading_progress!r} is not one of "
                          f"{', '.join(GRADING_PROGRESS)}")
    link = attempt.resource_link
    if not _ags_available(link):
        attempt.grade_sync_status = "not_available"
        attempt.grade_sync_error = None
        return None
    previous = session.scalar(
        select(func.max(OutboxItem.score_timestamp)).where(
            OutboxItem.resource_link_pk == link.id, OutboxItem.user_pk == attempt.user_pk))
    stamp = next_timestamp(attempt.graded_at or utcnow(), previous)
    progress = grading_progress or grading_progress_of(attempt)
    payload: dict[str, Any] = {
        "userId": attempt.user.subject,
        "activityProgress": "Completed" if progress == "FullyGraded" else "Submitted",
        "gradingProgress": progress,
        "timestamp": stamp.isoformat(timespec="milliseconds"),
    }
    score = placement_score(session, attempt)
    if score is not None:
        points = score_points(link)
        payload["scoreGiven"] = round(score * points, 2)
        payload["scoreMaximum"] = points
    if comment:
        payload["comment"] = comment
    endpoint = link.ags_endpoint or {}
    item = OutboxItem(
        attempt=attempt,
        registration_id=link.registration_id,
        resource_link_pk=link.id,
        user_pk=attempt.user_pk,
        lineitem_url=endpoint.get("lineitem") or (link.ags_lineitem or {}).get("id"),
        payload=payload,
        score_timestamp=stamp,
        status=PENDING,
        attempts=0,
        next_try_at=utcnow(),
        tries=[],
    )
    session.add(item)
    attempt.grade_sync_status = SYNC_STATUS[PENDING]
    attempt.grade_sync_error = None
    return item


def latest_delivery(session: Session, attempt: Attempt) -> OutboxItem | None:
    """The attempt's newest outbox row (its status, tries and last error), None if never queued."""
    return session.scalar(
        select(OutboxItem).where(OutboxItem.attempt_id == attempt.id)
        .order_by(OutboxItem.id.desc()).limit(1))


def latest_deliveries(session: Session, link: ResourceLink) -> dict[int, OutboxItem]:
    """Attempt id -> its newest outbox row, for every attempt of a placement (one query)."""
    rows = session.scalars(
        select(OutboxItem).where(OutboxItem.resource_link_pk == link.id).order_by(OutboxItem.id))
    return {row.attempt_id: row for row in rows}


def retry_failed(session: Session, *, now: datetime | None = None) -> int:
    """Queue every failed row again (after an outage longer than the retry limit)."""
    result = session.execute(
        update(OutboxItem).where(OutboxItem.status == FAILED)
        .values(status=PENDING, attempts=0, next_try_at=now or utcnow(), finished_at=None))
    session.commit()
    return int(getattr(result, "rowcount", 0) or 0)


PENDING_MANUAL_NOTICES = {
    "moodle": "Moodle clears the gradebook entry while this attempt awaits review: it stores a "
              "grade only once the attempt is fully graded, so the learner's grade stays empty "
              "until you review or override it.",
    "canvas": "Canvas ignores scores while an attempt awaits review: the gradebook keeps the "
              "submission as 'needs grading' until you review or override it.",
}


def pending_manual_notice(platform_product: str | None) -> str:
    """What the instructor page says about attempts sent as PendingManual on this LMS."""
    product = (platform_product or "").strip().lower()
    return PENDING_MANUAL_NOTICES.get(
        product,
        "Attempts awaiting review are sent to the gradebook as 'pending manual grading'; many "
        "LMSes (Moodle, Canvas) show no grade for them until you review or override them.")


# ---------------------------------------------------------------------------------------------
# Delivery


def _config_number(app: Flask, name: str) -> float:
    return float(app.config[name])


def backoff_seconds(tries: int, rng: random.Random, *, base: float, cap: float) -> float:
    """Exponential backoff with jitter: half the capped exponential delay plus a random half."""
    delay = min(cap, base * 2 ** max(0, tries - 1))
    return float(delay / 2 + rng.uniform(0, delay / 2))


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """A Retry-After header (seconds or an HTTP date) as seconds from now; None if unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (as_utc(moment) - as_utc(now)).total_seconds())


def _series(row: OutboxItem) -> Any:
    return (OutboxItem.resource_link_pk == row.resource_link_pk,
            OutboxItem.user_pk == row.user_pk, OutboxItem.id != row.id)


def _finish(row: OutboxItem, status: str, now: datetime, error: str | None) -> None:
    row.status = status
    row.finished_at = now
    row.claim_token = None
    row.claimed_until = None
    if error is not None:
        row.last_error = error[:4000]


def _sync_attempt(session: Session, row: OutboxItem) -> None:
    """Mirror the state of the attempt's newest row on the attempt (what pages show)."""
    newest = session.scalar(select(func.max(OutboxItem.id))
                            .where(OutboxItem.attempt_id == row.attempt_id))
    if newest != row.id:
        return
    attempt = session.get(Attempt, row.attempt_id)
    if attempt is not None:
        attempt.grade_sync_status = SYNC_STATUS[row.status]
        attempt.grade_sync_error = None if row.status == DELIVERED else row.last_error


def _supersede_or_defer(session: Session, row: OutboxItem, now: datetime) -> str | None:
    """'superseded' when a newer sibling exists, 'deferred' when one is in flight, else None."""
    newer = session.scalar(select(OutboxItem.id).where(
        *_series(row), OutboxItem.score_timestamp > row.score_timestamp).limit(1))
    if newer is not None:
        _finish(row, SUPERSEDED, now, f"a newer score (outbox row {newer}) replaces this one")
        _sync_attempt(session, row)
        return SUPERSEDED
    in_flight = session.scalar(select(OutboxItem.id).where(
        *_series(row), OutboxItem.claimed_until.is_not(None),
        OutboxItem.claimed_until >= now).limit(1))
    if in_flight is not None:
        row.next_try_at = now + timedelta(seconds=DEFER_SECONDS)
        return "deferred"
    return None


def _due(now: datetime) -> Any:
    return (OutboxItem.status == PENDING, OutboxItem.next_try_at <= now,
            or_(OutboxItem.claimed_until.is_(None), OutboxItem.claimed_until < now))


def _claim_postgresql(session: Session, now: datetime, lease: timedelta) -> tuple[Any, ...]:
    row = session.scalar(select(OutboxItem).where(*_due(now))
                         .order_by(OutboxItem.next_try_at, OutboxItem.id)
                         .limit(1).with_for_update(skip_locked=True))
    if row is None:
        return (None, None)
    # Serialise claims per learner and placement, so the sibling checks below cannot race.
    session.execute(select(func.pg_advisory_xact_lock(row.resource_link_pk, row.user_pk)))
    outcome = _supersede_or_defer(session, row, now)
    if outcome is not None:
        return (row.id, outcome)
    row.claim_token = uuid.uuid4().hex
    row.claimed_until = now + lease
    return (row.id, row.claim_token)


def _claim_sqlite(session: Session, now: datetime, lease: timedelta) -> tuple[Any, ...]:
    # The first statement writes, so SQLite's write lock (waiting up to busy_timeout) is held
    # for the rest of this transaction: the claim and the sibling checks are one atomic step.
    token = uuid.uuid4().hex
    next_due = (select(OutboxItem.id).where(*_due(now))
                .order_by(OutboxItem.next_try_at, OutboxItem.id).limit(1).scalar_subquery())
    session.execute(update(OutboxItem).where(OutboxItem.id == next_due)
                    .values(claim_token=token, claimed_until=now + lease)
                    .execution_options(synchronize_session=False))
    row = session.scalar(select(OutboxItem).where(OutboxItem.claim_token == token))
    if row is None:
        return (None, None)
    outcome = _supersede_or_defer(session, row, now)
    if outcome is not None:
        row.claim_token = None
        row.claimed_until = None
        return (row.id, outcome)
    return (row.id, token)


def claim_next(app: Flask, now: datetime) -> tuple[int | None, str | None]:
    """Claim the next due row: (row id, claim token), or (id, 'superseded'/'deferred') when it
    was settled without sending, or (None, None) when nothing is due."""
    lease = timedelta(seconds=_config_number(app, "OUTBOX_LEASE_SECONDS"))
    db = database(app)
    with db.sessions() as session, session.begin():
        if db.engine.dialect.name == "postgresql":
            row_id, token = _claim_postgresql(session, now, lease)
        else:
            row_id, token = _claim_sqlite(session, now, lease)
    return row_id, token


@dataclass(frozen=True)
class _Outcome:
    status: str
    """pending (try again later), delivered, superseded, rejected."""
    status_code: int | None
    error: str | None
    retry_after: float | None = None
    lineitem: dict[str, Any] | None = None
    token_refreshed: bool = False


def _lineitem_label(link: ResourceLink) -> tuple[str, str]:
    """(label, resourceId) of a placement's line item: the module's or scenario's title."""
    from lti_tool import content

    try:
        if link.module_id:
            from course.catalogue import load_catalogue

            module = load_catalogue(content._content_dir(), content.library()).module(
                link.module_id)
            return module.title, link.module_id
        scenario_id = content.placement_scenario_id(link)
        return content.load_scenario(scenario_id, None).title, scenario_id
    except Exception:  # noqa: BLE001 - a label is cosmetic; never fail a grade over it
        return link.title or link.resource_link_id, link.scenario_id or link.resource_link_id


def _resolve_lineitem(
    client: ags.AgsClient, link: ResourceLink, score_maximum: float
) -> dict[str, Any] | _Outcome:
    """Find the placement's line item through the lineitems URL, or create it."""
    endpoint = link.ags_endpoint or {}
    lineitems_url = endpoint.get("lineitems")
    scopes = endpoint.get("scope") or []
    if not lineitems_url:
        return _Outcome(REJECTED, None, "the launch offered neither a line item nor a lineitems "
                        "URL; check the placement's grading settings in the LMS")
    if ags.LINEITEM_SCOPE not in scopes and ags.LINEITEM_READ_SCOPE not in scopes:
        return _Outcome(REJECTED, None, "the launch offered only the lineitems URL without a "
                        "line item scope; enable 'column management' for the tool in the LMS")
    found = client.find_lineitem(lineitems_url, link.resource_link_id)
    if found is not None:
        return found
    if ags.LINEITEM_SCOPE not in scopes:
        return _Outcome(REJECTED, None, "the LMS has no line item for this placement and does not "
                        "let the tool create one (lineitem scope missing)")
    label, resource_id = _lineitem_label(link)
    return client.create_lineitem(lineitems_url, {
        "label": label, "scoreMaximum": score_maximum, "resourceId": resource_id,
        "tag": LINEITEM_TAG, "resourceLinkId": link.resource_link_id})


def _classify(reply: ags.AgsReply, now: datetime) -> _Outcome:
    """A platform reply -> what happens to the row (the known platform behaviours live here)."""
    code = reply.status_code
    text = reply.text.strip()[:1000]
    if reply.ok:
        return _Outcome(DELIVERED, code, None)
    if code == 409:
        return _Outcome(SUPERSEDED, code, "the LMS already holds a score with this or a newer "
                        f"timestamp (409); not sent again: {text}")
    if code == 429:
        wait = retry_after_seconds(reply.headers.get("Retry-After"), now)
        return _Outcome(PENDING, code, f"the LMS asked to slow down (429): {text}", wait)
    if code in (401, 408) or code >= 500:
        # A 503 may say when to come back, too.
        wait = retry_after_seconds(reply.headers.get("Retry-After"), now) if code == 503 else None
        return _Outcome(PENDING, code, f"the LMS answered {code}: {text}", wait)
    if MOODLE_NOT_GRADABLE.lower() in text.lower():
        return _Outcome(REJECTED, code, "the LMS refused the score for this user (Moodle's "
                        f"'{MOODLE_NOT_GRADABLE}': the user is not gradable in the course, e.g. "
                        f"not enrolled as a student) ({code}): {text}")
    return _Outcome(REJECTED, code, f"the LMS refused the score ({code}): {text}")


def _send(app: Flask, row_id: int, now: datetime) -> _Outcome:
    """Resolve the line item if needed and POST the score; never raises for LMS failures."""
    from lti_tool.lti.launch import http_session

    timeout = _config_number(app, "AGS_TIMEOUT")
    with database(app).sessions() as session:
        row = session.get(OutboxItem, row_id)
        link = session.get(ResourceLink, row.resource_link_pk) if row is not None else None
        if row is None or link is None:
            return _Outcome(REJECTED, None, "the placement of this score was removed")
        payload = dict(row.payload)
        try:
            registration = ags.registration_for(session, row.registration_id)
        except ags.AgsError as error:
            return _Outcome(REJECTED, None, error.message)
        client = ags.AgsClient(registration, list((link.ags_endpoint or {}).get("scope") or []),
                               http_session(), timeout=timeout, now=now)
        try:
            lineitem: dict[str, Any] | None = None
            url = row.lineitem_url or (link.ags_lineitem or {}).get("id")
            if not url:
                resolved = _resolve_lineitem(client, link,
                                             float(payload.get("scoreMaximum") or 1))
                if isinstance(resolved, _Outcome):
                    return resolved
                lineitem = resolved
                url = str(resolved["id"])
            reply = client.post_score(url, payload)
            outcome = _classify(reply, now)
            return _Outcome(outcome.status, outcome.status_code, outcome.error,
                            outcome.retry_after, lineitem, reply.token_refreshed)
        except ags.AgsHttpError as error:
            outcome = _classify(error.reply, now)
            return _Outcome(outcome.status if outcome.status != DELIVERED else PENDING,
                            error.reply.status_code, error.message, outcome.retry_after)
        except ags.AgsTokenError as error:
            return _Outcome(PENDING, error.status_code, error.message)
        except requests.Timeout as error:
            return _Outcome(PENDING, None, f"the LMS did not answer within {timeout:g} s: {error}")
        except requests.RequestException as error:
            return _Outcome(PENDING, None, f"the LMS could not be reached: "
                            f"{type(error).__name__}: {error}")


def _record(app: Flask, row_id: int, token: str, outcome: _Outcome, now: datetime,
            rng: random.Random) -> str:
    """Store the try and the row's new state; returns the report bucket."""
    with database(app).sessions() as session, session.begin():
        # Write first: on SQLite this takes the write lock before anything is read.
        session.execute(update(OutboxItem).where(OutboxItem.id == row_id)
                        .values(attempts=OutboxItem.attempts + 1)
                        .execution_options(synchronize_session=False))
        row = session.get(OutboxItem, row_id)
        if row is None:
            return REJECTED
        row.last_status_code = outcome.status_code
        row.tries = [*row.tries, {"at": now.isoformat(), "status_code": outcome.status_code,
                                  "error": outcome.error, "outcome": outcome.status,
                                  "token_refreshed": outcome.token_refreshed}]
        if outcome.lineitem is not None:
            link = session.get(ResourceLink, row.resource_link_pk)
            if link is not None:
                link.ags_lineitem = outcome.lineitem
            row.lineitem_url = str(outcome.lineitem["id"])
        if row.claim_token != token:
            # Our lease ran out and another worker owns the row now: keep only the log entry.
            return "deferred"
        bucket = outcome.status
        if outcome.status == PENDING:
            row.last_error = (outcome.error or "")[:4000]
            row.claim_token = None
            row.claimed_until = None
            if row.attempts >= int(app.config["OUTBOX_MAX_TRIES"]):
                _finish(row, FAILED, now, f"gave up after {row.attempts} tries; last error: "
                        f"{outcome.error}")
                bucket = FAILED
            else:
                delay = backoff_seconds(
                    row.attempts, rng, base=_config_number(app, "OUTBOX_BACKOFF_SECONDS"),
                    cap=_config_number(app, "OUTBOX_BACKOFF_MAX_SECONDS"))
                if outcome.retry_after is not None:
                    delay = max(outcome.retry_after, 1.0)
                row.next_try_at = now + timedelta(seconds=delay)
                bucket = "retrying"
        else:
            _finish(row, outcome.status, now, outcome.error)
            if outcome.status == DELIVERED:
                row.last_error = None
        _sync_attempt(session, row)
        if outcome.status in (PENDING, REJECTED):
            current_app.logger.warning("AGS score (outbox row %s, try %s): %s", row.id,
                                       row.attempts, outcome.error)
        return bucket


def deliver_due(
    app: Flask, *, now: datetime | None = None, limit: int = 50,
    rng: random.Random | None = None,
) -> DeliveryReport:
    """Deliver up to `limit` due outbox rows, one claimed row at a time; safe to run in
    several threads, processes and hosts at once."""
    rng = rng or random.Random()
    counts = {"delivered": 0, "superseded": 0, "rejected": 0, "retrying": 0, "failed": 0,
              "deferred": 0}
    with app.app_context():
        for _ in range(limit):
            moment = as_utc(now or utcnow())
            row_id, token = claim_next(app, moment)
            if row_id is None or token is None:
                break
            if token in (SUPERSEDED, "deferred"):
                counts[token] += 1
                continue
            outcome = _send(app, row_id, moment)
            counts[_record(app, row_id, token, outcome, moment, rng)] += 1
    return DeliveryReport(**counts)


# ---------------------------------------------------------------------------------------------
# Workers


class BackgroundWorker:
    """A daemon thread delivering the outbox every `interval` seconds (the embedded default)."""

    def __init__(self, app: Flask, interval: float) -> None:
        self.app = app
        self.interval = interval
        self.stopping = threading.Event()
        self.woken = threading.Event()
        self.thread = threading.Thread(target=self._run, name="coachlab-outbox", daemon=True)

    def start(self) -> BackgroundWorker:
        """Start the thread."""
        self.thread.start()
        return self

    def wake(self) -> None:
        """Deliver now instead of at the next interval (a score was just queued)."""
        self.woken.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the thread to stop after its current delivery, and wait for it."""
        self.stopping.set()
        self.woken.set()
        self.thread.join(timeout)

    def _run(self) -> None:
        run_worker(self.app, interval=self.interval, stop=self.stopping, wake=self.woken)


def run_worker(
    app: Flask, *, interval: float, stop: threading.Event, once: bool = False,
    wake: threading.Event | None = None, batch: int = 50,
) -> int:
    """Deliver due rows until `stop` is set (or once); returns the number of rows handled."""
    total = 0
    while not stop.is_set():
        try:
            report = deliver_due(app, limit=batch)
        except Exception:  # noqa: BLE001 - a worker outlives a database hiccup; the log says why
            app.logger.exception("outbox delivery failed; retrying in %s s", interval)
            report = DeliveryReport()
        total += report.handled
        if once:
            break
        if report.handled >= batch:
            continue
        if wake is not None:
            wake.wait(interval)
            wake.clear()
        else:
            stop.wait(interval)
    return total


def start_background_worker(app: Flask) -> BackgroundWorker:
    """Start the in-process worker (once per app) and remember it for `wake_worker`."""
    existing = app.extensions.get("coachlab_outbox_worker")
    if isinstance(existing, BackgroundWorker):
        return existing
    worker = BackgroundWorker(app, _config_number(app, "WORKER_INTERVAL")).start()
    app.extensions["coachlab_outbox_worker"] = worker
    return worker


def wake_worker() -> None:
    """Nudge the in-process worker of the current app, if it runs (after a commit)."""
    worker = current_app.extensions.get("coachlab_outbox_worker")
    if isinstance(worker, BackgroundWorker):
        worker.wake()
