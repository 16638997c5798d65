"""The per-learner placement summary behind the dashboard (table learner_progress).

The dashboard of a placement with thousands of learners must be one indexed query plus a page,
not an aggregation over every attempt. So each (placement, learner) has a row that is recomputed
from that learner's attempts in the same transaction that changes them: session hooks note the
Attempt rows that were added, changed or deleted at each flush and rewrite their rows once,
just before the transaction commits. Statements that change attempts behind the unit of work's
back (bulk `update(Attempt)`) call `touch`.
Roster members (NRPS) who never started get a row too (`sync_roster`), so paging, sorting and
filtering stay in SQL with or without a roster.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Protocol, cast

from sqlalchemy import Connection, Table, delete, event, inspect, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, UOWTransaction

from lti_tool.models import Attempt, LearnerProgress, User

DONE = ("graded", "needs_review", "overridden")
_WATCHED = ("status", "score", "created_at", "submitted_at", "grade_sync_status",
            "resource_link_pk", "user_pk")
"""Attempt columns the summary depends on."""
_PENDING = "coachlab_progress_pending"
_DUE = "coachlab_progress_due"
"""Pairs flushed in this transaction whose rows are rewritten before it commits."""

_TABLE = cast(Table, LearnerProgress.__table__)
Pair = tuple[int, int]
"""(resource_link_pk, user_pk)"""


def touch(session: Session, attempt: Attempt) -> None:
    """Recompute this attempt's learner row when the session commits (call it after a bulk
    UPDATE of the attempt, which the flush hooks cannot see)."""
    session.info.setdefault(_DUE, set()).add((attempt.resource_link_pk, attempt.user_pk))


def _changed(attempt: Attempt) -> bool:
    state = inspect(attempt)
    return any(state.attrs[name].history.has_changes() for name in _WATCHED)


def _pairs_of(attempt: Attempt) -> set[Pair]:
    """The (placement, learner) pairs an attempt belonged to before and after this flush."""
    state = inspect(attempt)
    links = [v for v in state.attrs.resource_link_pk.history.sum() if v is not None]
    users = [v for v in state.attrs.user_pk.history.sum() if v is not None]
    return {(int(link), int(user)) for link in links for user in users}


def _before_flush(session: Session, _context: UOWTransaction, _instances: Any) -> None:
    pending: set[Pair] = session.info.setdefault(_PENDING, set())
    # New attempts get their keys during the flush (a relationship may set them): read them after.
    session.info[_PENDING + "_new"] = [o for o in session.new if isinstance(o, Attempt)]
    for obj in session.dirty:
        if isinstance(obj, Attempt) and _changed(obj):
            pending |= _pairs_of(obj)
    for obj in session.deleted:
        if isinstance(obj, Attempt):
            pending.add((obj.resource_link_pk, obj.user_pk))
    renamed = {obj.id: obj.name for obj in session.dirty
               if isinstance(obj, User) and inspect(obj).attrs.name.history.has_changes()}
    if renamed:
        session.info[_PENDING + "_renamed"] = renamed


def _after_flush(session: Session, _context: UOWTransaction) -> None:
    due: set[Pair] = session.info.setdefault(_DUE, set())
    due |= session.info.pop(_PENDING, set())
    for obj in session.info.pop(_PENDING + "_new", []):
        due.add((obj.resource_link_pk, obj.user_pk))
    session.info.setdefault(_DUE + "_renamed", {}).update(
        session.info.pop(_PENDING + "_renamed", {}))


def _before_commit(session: Session) -> None:
    """Rewrite the learner rows of every attempt this transaction changed, once, just before
    it commits (a submission flushes several times: per flush, the same row was rewritten
    two or three times)."""
    session.flush()  # what commit would flush next: its pairs join the due set now
    due: set[Pair] = session.info.pop(_DUE, set())
    renamed: dict[int, str] = session.info.pop(_DUE + "_renamed", {})
    if due:
        refresh(session.connection(), sorted(due))
    progress = _TABLE.c
    for user_pk, name in renamed.items():
        session.connection().execute(update(_TABLE).where(
            progress.user_pk == user_pk).values(sort_name=sort_name(name)))


def _after_rollback(session: Session) -> None:
    for key in (_PENDING, _PENDING + "_new", _PENDING + "_renamed", _DUE, _DUE + "_renamed"):
        session.info.pop(key, None)


def sort_name(name: str | None) -> str:
    """The dashboard's sort key of a learner's name."""
    return (name or "").lower()[:255]


def install() -> None:
    """Register the session hooks (idempotent; every Session of the process gets them)."""
    if not event.contains(Session, "before_flush", _before_flush):
        event.listen(Session, "before_flush", _before_flush)
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "before_commit", _before_commit)
        event.listen(Session, "after_soft_rollback", lambda s, _t: _after_rollback(s))


def summarise(rows: Sequence[Any]) -> dict[str, Any]:
    """The learner_progress values of one learner's attempts (rows ordered by id)."""
    latest = rows[-1]
    done = [r for r in rows if r.status in DONE]
    scores = [r.score for r in rows if r.score is not None]
    done_scores = [r.score for r in done if r.score is not None]
    spent = [_seconds(r.submitted_at, r.created_at) for r in rows
             if r.submitted_at is not None and r.created_at is not None]
    last_done = done[-1] if done else None
    return {
        "status": latest.status,
        "attempts": len(rows),
        "best_score": max(scores) if scores else None,
        "last_score": last_done.score if last_done is not None else None,
        "mean_score": sum(done_scores) / len(done_scores) if done_scores else None,
        "seconds": sum(spent) if spent else None,
        "needs_review": any(r.status == "needs_review" for r in rows),
        "grade_sync": (last_done.grade_sync_status if last_done is not None else None)
        or latest.grade_sync_status or "",
        "latest_attempt_id": latest.id,
        "graded_attempt_id": last_done.id if last_done is not None else None,
        "submitted_at": latest.submitted_at,
    }


def _seconds(later: datetime, earlier: datetime) -> float:
    # SQLite hands back naive datetimes, PostgreSQL aware ones; never mix the two.
    if (later.tzinfo is None) != (earlier.tzinfo is None):
        later, earlier = later.replace(tzinfo=None), earlier.replace(tzinfo=None)
    return (later - earlier).total_seconds()


NOT_STARTED: dict[str, Any] = {
    "status": "not_started", "attempts": 0, "best_score": None, "last_score": None,
    "mean_score": None, "seconds": None, "needs_review": False, "grade_sync": "",
    "latest_attempt_id": None, "graded_attempt_id": None, "submitted_at": None,
}


def _upsert(connection: Connection, values: list[dict[str, Any]],
            keep: Iterable[str] = ()) -> None:
    """Insert or update learner rows by (placement, learner); `keep` columns are not updated."""
    if not values:
        return
    dialect = connection.dialect.name
    insert_of = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert_of(LearnerProgress)
    skip = {"id", "resource_link_pk", "user_pk", *keep}
    updates = {c.name: stmt.excluded[c.name] for c in _TABLE.columns
               if c.name not in skip and c.name in values[0]}
    connection.execute(stmt.on_conflict_do_update(
        index_elements=["resource_link_pk", "user_pk"], set_=updates), values)


def refresh(connection: Connection, pairs: Sequence[Pair]) -> None:
    """Recompute the rows of these (placement, learner) pairs from their attempts."""
    a = Attempt.__table__.c
    found: dict[Pair, list[Any]] = {pair: [] for pair in pairs}
    users = sorted({user for _, user in pairs})
    for start in range(0, len(users), 500):
        rows = connection.execute(
            select(a.id, a.resource_link_pk, a.user_pk, a.status, a.score, a.created_at,
                   a.submitted_at, a.grade_sync_status)
            .where(a.user_pk.in_(users[start:start + 500]))
            .order_by(a.id)
        )
        for row in rows:
            key = (row.resource_link_pk, row.user_pk)
            if key in found:
                found[key].append(row)
    names = dict(connection.execute(select(User.id, User.name).where(User.id.in_(users))).all()
                 ) if users else {}
    values = []
    for (link, user), attempts in found.items():
        if attempts:
            values.append({"resource_link_pk": link, "user_pk": user, **summarise(attempts),
                           "sort_name": sort_name(names.get(user))})
            continue
        # No attempt left (erased, purged): a roster member goes back to not started, anyone
        # else leaves the dashboard.
        progress = _TABLE.c
        where = (progress.resource_link_pk == link) & (progress.user_pk == user)
        connection.execute(update(_TABLE)
                           .where(where, progress.in_roster.is_(True)).values(**NOT_STARTED))
        connection.execute(delete(_TABLE)
                           .where(where, progress.in_roster.is_not(True)))
    _upsert(connection, values, keep=("in_roster",))


def rebuild(session: Session, link_ids: Sequence[int] | None = None) -> int:
    """Recompute every learner row (of these placements) from the attempts; returns the count."""
    stmt = select(Attempt.resource_link_pk, Attempt.user_pk).distinct()
    if link_ids is not None:
        stmt = stmt.where(Attempt.resource_link_pk.in_(link_ids))
    pairs = [(int(link), int(user)) for link, user in session.execute(stmt)]
    for start in range(0, len(pairs), 2000):
        refresh(session.connection(), pairs[start:start + 2000])
    session.commit()
    return len(pairs)


# --- the course roster (NRPS) ---


class RosterMember(Protocol):
    """What the dashboard needs of an NRPS member (lti_tool.lti.nrps.Member fits)."""

    @property
    def user_id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def email(self) -> str: ...


def roster_digest(members: Sequence[RosterMember]) -> str:
    """A fingerprint of a roster: unchanged rosters need no write."""
    digest = hashlib.sha256()
    for member in sorted(members, key=lambda m: m.user_id):
        digest.update(f"{member.user_id}\x1f{member.name}\x1f{member.email}\x1e".encode())
    return digest.hexdigest()


def sync_roster(session: Session, link_pk: int, registration_id: int,
                members: Sequence[RosterMember]) -> None:
    """Give every active roster learner a row (not_started when they have no attempt), and mark
    who is in the roster; commits. Users unknown so far are created as the LMS names them."""
    by_subject = {m.user_id: m for m in members}
    known: dict[str, int] = {}
    names: dict[int, str] = {}
    subjects = sorted(by_subject)
    for start in range(0, len(subjects), 500):
        chunk = subjects[start:start + 500]
        for subject, user_pk, name in session.execute(
                select(User.subject, User.id, User.name).where(
                    User.registration_id == registration_id, User.subject.in_(chunk))):
            known[subject] = user_pk
            names[user_pk] = name
    missing = [User(registration_id=registration_id, subject=s, name=by_subject[s].name[:255],
                    email=by_subject[s].email[:255]) for s in subjects if s not in known]
    if missing:
        session.add_all(missing)
        session.flush()
        known.update((u.subject, u.id) for u in missing)
        names.update((u.id, u.name) for u in missing)
    connection = session.connection()
    progress = _TABLE.c
    connection.execute(update(_TABLE)
                       .where(progress.resource_link_pk == link_pk).values(in_roster=False))
    # New rows start as not started; existing ones keep their attempt figures.
    _upsert(connection, [{"resource_link_pk": link_pk, "user_pk": known[s], **NOT_STARTED,
                          "in_roster": True, "sort_name": sort_name(names[known[s]])}
                         for s in subjects],
            keep=tuple(NOT_STARTED))
    # Someone who left the roster without ever starting leaves the dashboard too.
    connection.execute(delete(_TABLE).where(
        progress.resource_link_pk == link_pk, progress.in_roster.is_(False),
        progress.attempts == 0))
    session.commit()
