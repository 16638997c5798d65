"""Placement settings: parsing custom parameters, defaults, launch storage, the attempt limit."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from lti_tool import db
from lti_tool.models import ResourceLink
from lti_tool.placements import (
    PlacementSettings,
    PlacementSettingsError,
    placement_settings,
    settings_from_custom,
)
from tests.conftest import Launcher
from tests.lti_tool.flows import (
    assert_rejected,
    attempt_scenario,
    correct_answers,
    form_of,
    open_player,
    submit,
)


def test_defaults_when_nothing_is_said() -> None:
    assert settings_from_custom({}) == PlacementSettings(None, "best", 100.0)
    assert settings_from_custom({}, 10) == PlacementSettings(None, "best", 10.0)
    assert settings_from_custom({"attempts_allowed": "unlimited"}).attempts_allowed is None
    assert settings_from_custom({"attempts_allowed": "0"}).attempts_allowed is None


def test_values_are_read() -> None:
    settings = settings_from_custom({"attempts_allowed": " 3 ", "attempt_policy": "MEAN",
                                     "points": "12.5"})
    assert settings == PlacementSettings(3, "mean", 12.5)
    assert settings_from_custom(settings.as_custom()) == settings
    assert settings.as_json() == {"attempts_allowed": 3, "attempt_policy": "mean",
                                  "points": 12.5}


@pytest.mark.parametrize(("custom", "phrase"), [
    ({"attempts_allowed": "two"}, "custom parameter attempts_allowed is 'two'"),
    ({"attempts_allowed": "101"}, "from 1 to 100"),
    ({"attempt_policy": "first"}, "use one of best, last, mean"),
    ({"points": "-1"}, "custom parameter points is '-1'"),
    ({"points": "inf"}, "greater than 0"),
])
def test_bad_values_name_the_parameter(custom: dict[str, str], phrase: str) -> None:
    with pytest.raises(PlacementSettingsError) as raised:
        settings_from_custom(custom)
    assert phrase in raised.value.message


def test_stored_settings_with_defaults() -> None:
    def link(settings: Any) -> Any:
        return SimpleNamespace(settings=settings)
    assert placement_settings(link({})) == PlacementSettings()
    assert placement_settings(link(None)) == PlacementSettings()
    assert placement_settings(link({"attempts_allowed": 2, "attempt_policy": "last",
                                    "points": 5})) == PlacementSettings(2, "last", 5.0)
    assert placement_settings(link({"attempts_allowed": "x", "attempt_policy": "?",
                                    "points": -3}), 50) == PlacementSettings(None, "best", 50.0)


def test_launch_with_a_bad_setting_is_a_clear_400(launch: Launcher) -> None:
    response = launch(custom={"scenario": "territory-rep-300-accounts",
                              "attempts_allowed": "lots"})
    assert response.status_code == 400
    assert_rejected(response, "attempts_allowed is 'lots'")


def test_relaunch_updates_the_stored_settings(launch: Launcher, app: Flask) -> None:
    launch(custom={"attempts_allowed": "2", "points": "10"})
    launch(custom={"attempt_policy": "last"})
    with db.database(app).sessions() as session:
        link = session.scalars(select(ResourceLink)).one()
        assert link.settings == {"attempts_allowed": None, "attempt_policy": "last",
                                 "points": 100.0}


def test_attempt_limit_counts_down(launch: Launcher, client: FlaskClient, app: Flask) -> None:
    custom = {"scenario": "territory-rep-300-accounts", "attempts_allowed": "2"}
    page, token = open_player(launch, client, custom=custom)
    result = client.get(submit(client, page, correct_answers(attempt_scenario(app))).location)
    assert "1 attempt left on this activity." in result.get_data(as_text=True)
    again = client.post("/play/again", data={"launch": token,
                                             "csrf_token": form_of(page, "csrf_token")})
    assert again.status_code == 302
    page2 = client.get(again.location).get_data(as_text=True)
    result2 = client.get(submit(client, page2, correct_answers(attempt_scenario(app))).location)
    assert "No attempts left" in result2.get_data(as_text=True)
    refused = client.post("/play/again", data={"launch": token,
                                               "csrf_token": form_of(page, "csrf_token")})
    assert refused.status_code == 403
    assert_rejected(refused, "used all 2 attempts")
