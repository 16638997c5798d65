"""The database-backed pylti1p3 tool configuration."""

from __future__ import annotations

import inspect

import pytest
from flask import Flask
from pylti1p3.tool_config.abstract import ToolConfAbstract

from lti_tool import db
from lti_tool.errors import LaunchRejected
from lti_tool.lti.tool_config import DbToolConf
from tests.conftest import PlatformInfo


def _abstract_methods() -> list[str]:
    return [name for name, member in inspect.getmembers(ToolConfAbstract)
            if getattr(member, "__isabstractmethod__", False)]


def test_every_abstract_method_is_implemented() -> None:
    # pylti1p3's __metaclass__ = ABCMeta does nothing on Python 3, so check by hand.
    names = _abstract_methods()
    assert {"find_registration_by_params", "find_deployment_by_params"} <= set(names)
    for name in names:
        assert getattr(DbToolConf, name) is not getattr(ToolConfAbstract, name), name


def test_lookups(app: Flask, platform: PlatformInfo) -> None:
    with db.database(app).sessions() as session:
        conf = DbToolConf(session, app.extensions["coachlab_keys"])
        assert conf.check_iss_has_many_clients(platform.issuer)
        assert not conf.check_iss_has_one_client(platform.issuer)
        registration = conf.find_registration_by_params(platform.issuer, platform.client_id)
        assert registration.get_client_id() == platform.client_id
        assert registration.get_key_set() == platform.keys.jwks()
        assert registration.get_kid() == app.extensions["coachlab_keys"].kid
        assert conf.find_registration_by_issuer(platform.issuer).get_issuer() == platform.issuer
        found = conf.find_deployment_by_params(
            platform.issuer, platform.deployment_id, platform.client_id)
        assert found is not None and found.get_deployment_id() == platform.deployment_id
        assert conf.find_deployment(platform.issuer, "other") is None
        assert conf.get_jwks() == app.extensions["coachlab_keys"].jwks()
        with pytest.raises(LaunchRejected, match="Unknown issuer"):
            conf.find_registration_by_params("https://other.test", platform.client_id)
        with pytest.raises(LaunchRejected, match="Wrong audience"):
            conf.find_registration_by_params(platform.issuer, "not-ours")


def test_relation_types_are_not_shared_between_instances(app: Flask) -> None:
    with db.database(app).sessions() as session:
        keys = app.extensions["coachlab_keys"]
        first, second = DbToolConf(session, keys), DbToolConf(session, keys)
        first.set_iss_has_one_client("https://x.test")
        assert second.issuers_relation_types == {}
        assert ToolConfAbstract.issuers_relation_types == {}
