"""App factory, configuration layers, keys, JWKS, the Canvas configuration and the schema."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from lti_tool import create_app, db
from lti_tool.config import load_config
from lti_tool.errors import ConfigError
from lti_tool.keys import TOOL_KEY_FILE
from lti_tool.models import Base
from tests.conftest import make_app


def test_config_layers_defaults_then_environment_then_test_mapping(tmp_path: Path) -> None:
    env = {"COACHLAB_DATA_DIR": str(tmp_path), "COACHLAB_DEMO": "1",
           "COACHLAB_LAUNCH_MAX_AGE": "60", "COACHLAB_TOOL_TITLE": "from env"}
    config = load_config(env, {"TOOL_TITLE": "from test"})
    assert config["DEMO"] is True
    assert config["LAUNCH_MAX_AGE"] == 60
    assert config["TOOL_TITLE"] == "from test"
    assert config["DATABASE_URL"] == f"sqlite:///{tmp_path / 'coachlab.sqlite3'}"
    assert load_config({}, None)["CACHE_URL"] == ""


@pytest.mark.parametrize(
    ("env", "message"),
    [({"COACHLAB_DEMO": "maybe"}, "COACHLAB_DEMO='maybe' is not a boolean"),
     ({"COACHLAB_POINTS": "ten"}, "COACHLAB_POINTS='ten' is not a whole number"),
     ({"COACHLAB_ENV": "staging"}, "COACHLAB_ENV='staging' is not known")],
)
def test_bad_environment_values_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(env, None)


def test_demo_refuses_production(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="refuses to start with COACHLAB_ENV=production"):
        create_app({"DATA_DIR": str(tmp_path), "DEMO": True, "ENV": "production"})


def test_tool_key_is_generated_private_and_stable(app: Flask, tmp_path: Path) -> None:
    key_file = Path(app.config["DATA_DIR"]) / TOOL_KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    again = create_app({"DATA_DIR": app.config["DATA_DIR"], "SECRET_KEY": "x"})
    assert again.extensions["coachlab_keys"] == app.extensions["coachlab_keys"]


def test_jwks_is_a_single_key_set_with_kid(client: FlaskClient, app: Flask) -> None:
    jwks = client.get("/lti/jwks.json").get_json()
    assert list(jwks) == ["keys"]
    (key,) = jwks["keys"]
    assert "keys" not in key
    assert key["kid"] == app.extensions["coachlab_keys"].kid
    assert (key["kty"], key["alg"], key["use"]) == ("RSA", "RS256", "sig")
    assert "d" not in key


def test_canvas_config_has_the_registration_urls_and_placements(client: FlaskClient) -> None:
    config = client.get("/lti/config.json").get_json()
    assert config["oidc_initiation_url"] == "http://localhost/lti/login"
    assert config["target_link_uri"] == "http://localhost/lti/launch"
    assert config["public_jwk_url"] == "http://localhost/lti/jwks.json"
    assert config["title"] and config["description"]
    assert "https://purl.imsglobal.org/spec/lti-ags/scope/score" in config["scopes"]
    assert ("https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
            in config["scopes"])
    (extension,) = config["extensions"]
    assert extension["privacy_level"] == "public"
    placements = {p["placement"]: p for p in extension["settings"]["placements"]}
    assert set(placements) == {"link_selection", "assignment_selection"}
    assert all(p["message_type"] == "LtiDeepLinkingRequest" for p in placements.values())
    assert isinstance(config["custom_fields"], dict)


def test_about_page_shows_registration_values(client: FlaskClient) -> None:
    page = client.get("/lti/").get_data(as_text=True)
    assert "http://localhost/lti/login" in page and "http://localhost/lti/jwks.json" in page


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    app = make_app(tmp_path)  # SQLite whatever COACHLAB_TEST_DATABASES says
    with db.database(app).engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_migrations_match_the_models(app: Flask) -> None:
    assert db.current_revision(app) is not None
    with db.database(app).engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []


def test_unknown_page_is_a_plain_404(client: FlaskClient) -> None:
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "Traceback" not in response.get_data(as_text=True)


def test_readme_documents_every_setting() -> None:
    from lti_tool.config import DEFAULTS

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert readme.startswith("# coachlab\n\n```sh\nmake run")
    for name in DEFAULTS:
        assert f"`COACHLAB_{name}`" in readme, name
