"""Every instructor and admin route, read from app.url_map so a new one cannot be forgotten,
refuses a learner, an instructor of another course and an instructor of another platform."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from lti_tool.keys import KeyPair
from tests.conftest import Launcher
from tests.lti_tool.flows import assert_rejected
from tests.lti_tool.instructor_steps import csrf_for, other_platform, play, staff_token

GUARDED = ("instructor", "admin")
"""Blueprints whose every route is for staff or admins only."""
OWN_PLACEMENT_ONLY = {"instructor.overview"}
"""Routes that name no placement: they show the launch's own placement, nothing else."""


def _guarded_rules(app: Flask) -> list[Any]:
    rules = [r for r in app.url_map.iter_rules() if r.endpoint.split(".")[0] in GUARDED]
    assert len(rules) >= 12, [r.rule for r in rules]
    return rules


def _call(client: FlaskClient, app: Flask, rule: Any, token: str,
          ids: dict[str, int]) -> Any:
    unknown = set(rule.arguments) - set(ids)
    assert not unknown, f"{rule.rule}: add the argument(s) {unknown} to this test"
    path = rule.rule
    for name in rule.arguments:
        path = path.replace(f"<int:{name}>", str(ids[name]))
    if "POST" in rule.methods:
        return client.post(path, data={"launch": token, "csrf_token": csrf_for(app, token),
                                       "action": "confirm", "step": "plan"})
    return client.get(path, query_string={"launch": token})


@pytest.fixture
def target(launch: Launcher, client: FlaskClient, app: Flask) -> dict[str, int]:
    """A graded attempt on course-1's placement, and that placement's id."""
    attempt_id = play(launch, client, app, "learner-target", name="Tara Target")
    token = staff_token(launch)
    from tests.lti_tool.instructor_steps import link_id_of

    return {"attempt_id": attempt_id, "placement_id": link_id_of(app, token)}


@pytest.fixture
def outsiders(launch: Launcher, app: Flask, other_keys: KeyPair,
              client: FlaskClient) -> dict[str, str]:
    """Launch tokens of the three people who must see nothing of the target course."""
    learner = launch(role="learner", subject="learner-target")
    from tests.lti_tool.instructor_steps import token_of

    other_course = staff_token(launch, subject="teacher-2", link_id="link-course-2",
                               context={"id": "course-2", "title": "Other course"})
    foreign = Launcher(client, other_platform(app, other_keys))
    other_platform_token = staff_token(foreign, subject="user-instructor")
    return {"learner": token_of(learner.location), "other course": other_course,
            "other platform": other_platform_token}


def test_every_instructor_and_admin_route_refuses_outsiders(
    client: FlaskClient, app: Flask, target: dict[str, int], outsiders: dict[str, str]
) -> None:
    for who, token in outsiders.items():
        for rule in _guarded_rules(app):
            response = _call(client, app, rule, token, target)
            page = response.get_data(as_text=True)
            if rule.endpoint in OWN_PLACEMENT_ONLY and who != "learner":
                # Their own (empty) placement: nothing of the target course shows.
                assert response.status_code == 200, (who, rule.rule, page)
                assert "Tara Target" not in page, (who, rule.rule)
                continue
            assert response.status_code == 403, (who, rule.rule, response.status_code, page)
            assert "Tara Target" not in page
            assert_rejected(response)


def test_the_target_instructor_reaches_every_instructor_route(
    client: FlaskClient, app: Flask, launch: Launcher, target: dict[str, int]
) -> None:
    token = staff_token(launch)
    for rule in _guarded_rules(app):
        if rule.endpoint.startswith("admin."):
            assert _call(client, app, rule, token, target).status_code == 403, rule.rule
            continue
        response = _call(client, app, rule, token, target)
        assert response.status_code in (200, 302), (rule.rule, response.get_data(as_text=True))


def test_a_second_placement_of_the_same_course_is_reachable(
    client: FlaskClient, app: Flask, launch: Launcher, target: dict[str, int]
) -> None:
    token = staff_token(launch, link_id="link-1b")
    page = client.get(f"/instructor/placement/{target['placement_id']}",
                      query_string={"launch": token})
    assert page.status_code == 200 and "Tara Target" in page.get_data(as_text=True)


def test_lms_administrators_and_the_allow_list_reach_every_admin_route(
    client: FlaskClient, app: Flask, launch: Launcher, target: dict[str, int]
) -> None:
    admin = staff_token(launch, role="admin", subject="it-admin")
    for rule in _guarded_rules(app):
        if rule.endpoint.startswith("admin."):
            response = _call(client, app, rule, admin, target)
            assert response.status_code == 200, (rule.rule, response.get_data(as_text=True))
    app.config["ADMIN_SUBJECTS"] = "https://lms.example.test|l-and-d-lead, other|x"
    listed = staff_token(launch, subject="l-and-d-lead")
    assert client.get("/admin/", query_string={"launch": listed}).status_code == 200
    unlisted = staff_token(launch, subject="someone-else")
    assert client.get("/admin/", query_string={"launch": unlisted}).status_code == 403
