"""How many SQL statements a relaunch costs (issue 8's launch target): counts, not timings."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from sqlalchemy import event

from lti_tool import db
from tests.conftest import Launcher


@contextmanager
def statements(app: Flask) -> Iterator[list[str]]:
    """Every SQL statement the app's engine sends while the block runs."""
    engine = db.database(app).engine
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _launch_and_land(launch: Launcher) -> None:
    response = launch(role="learner")  # answered with the player page itself
    assert response.status_code == 200, response.get_data(as_text=True)


def test_a_relaunch_reads_one_statement_and_writes_nothing(
    app: Flask, launch: Launcher
) -> None:
    _launch_and_land(launch)  # the first launch creates the user, link and attempt
    with statements(app) as sent:
        _launch_and_land(launch)
    # login and launch: the registration and its deployment come from the registration
    # cache; the launch reads the user, context and link together with the latest attempt,
    # its answers and how many attempts there are, which is all the page it answers with
    # needs (the lesson page lists earlier attempts only when there are some).
    assert len(sent) == 1, "\n".join(sent)
    writes = [s for s in sent if not s.upper().startswith("SELECT")]
    assert writes == [], "a relaunch with unchanged claims wrote:\n" + "\n".join(writes)


def test_a_changed_claim_is_still_written_on_relaunch(app: Flask, launch: Launcher) -> None:
    _launch_and_land(launch)
    with statements(app) as sent:
        response = launch(role="learner", custom={"scenario": "territory-rep-300-accounts",
                                                  "attempts_allowed": "3"})
        assert response.status_code == 200, response.get_data(as_text=True)
    updates = [s for s in sent if s.upper().startswith("UPDATE RESOURCE_LINKS")]
    assert len(updates) == 1, "\n".join(sent)
