"""Shared steps of the LTI tests: play a scenario through the test client, check refusals."""

from __future__ import annotations

import html
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from lti_tool import db
from lti_tool.models import Attempt
from scenarios.library import load_library
from scenarios.model import Scenario
from tests.conftest import Launcher, launch_token


def assert_rejected(response: TestResponse, *phrases: str) -> None:
    """A 4xx page that names the reason and shows no traceback."""
    page = html.unescape(response.get_data(as_text=True))
    assert 400 <= response.status_code < 500, (response.status_code, page)
    for phrase in phrases:
        assert phrase in page, (phrase, page)
    assert "Traceback" not in page and 'File "' not in page


SCENARIO = "territory-rep-300-accounts"
GOOD_PLAN = (
    "Coverage is the focus: only a third of her accounts were touched while 64% of her time "
    "goes to the top 20. This month we build a tiering of the C accounts together in a joint "
    "territory plan session, agree a touch plan per tier, and hold a weekly coverage review. "
    "She owns the calls; I coach, I will not take over her accounts."
)


def form_of(page: str, name: str) -> str:
    """The value of a hidden field in a page."""
    marker = f'name="{name}" value="'
    start = page.index(marker) + len(marker)
    return page[start:page.index('"', start)]


def open_player(launch: Launcher, client: FlaskClient, **kwargs: Any) -> tuple[str, str]:
    """Launch as a learner and open the player; return (page, launch token)."""
    response = launch(role="learner", **kwargs)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True), launch_token(response)


def attempt_scenario(app: Flask) -> Scenario:
    """The scenario variant of the newest attempt."""
    with db.database(app).sessions() as session:
        attempt = session.scalars(select(Attempt).order_by(Attempt.id.desc()).limit(1)).one()
        return load_library().scenario(attempt.scenario_id, attempt.variant_seed)


def correct_answers(scenario: Scenario) -> dict[str, str | list[str]]:
    """A form with the right answer to every choice step and a sound plan."""
    form: dict[str, str | list[str]] = {}
    for step in scenario.steps:
        if step.grader == "single_choice":
            form[step.id] = step.key[0]
        elif step.grader == "ranking":
            for rank, option_id in enumerate(step.key, start=1):
                form[f"{step.id}.rank.{option_id}"] = str(rank)
        elif step.grader == "coaching_focus":
            task = next(o.task for o in step.options if o.id == step.key[0])
            form[f"{step.id}.task"] = step.key[0]
            form[f"{step.id}.evidence"] = [
                m.id for m in scenario.profile.metrics if m.task == task]
        else:
            form[step.id] = GOOD_PLAN
    return form


def submit(client: FlaskClient, page: str, answers: dict[str, Any], **extra: str) -> TestResponse:
    data: dict[str, Any] = {
        "launch": form_of(page, "launch"),
        "csrf_token": form_of(page, "csrf_token"),
        "attempt": form_of(page, "attempt"),
        **answers,
        **extra,
    }
    return client.post("/play/submit", data=data)
