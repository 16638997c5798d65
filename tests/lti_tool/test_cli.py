"""The coachlab command: db upgrade and platform add / list / remove."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select

from lti_tool import db
from lti_tool.cli import main
from lti_tool.models import PlatformRegistration

ADD = [
    "platform", "add", "--issuer", "https://moodle.example.test", "--client-id", "Xy12",
    "--deployment-id", "1", "--deployment-id", "7",
    "--auth-login-url", "https://moodle.example.test/mod/lti/auth.php",
    "--auth-token-url", "https://moodle.example.test/mod/lti/token.php",
    "--key-set-url", "https://moodle.example.test/mod/lti/certs.php",
]


def test_db_upgrade_reports_the_revision(runner: FlaskCliRunner) -> None:
    result = runner.invoke(main, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    # The newest migration, whichever number the wave's merges end on.
    from alembic.script import ScriptDirectory

    from lti_tool.db import MIGRATIONS_DIR

    head = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
    assert head is not None and head != "0001"
    assert f"database at revision {head}\n" in result.output


def test_platform_add_list_remove(runner: FlaskCliRunner, app: Flask) -> None:
    result = runner.invoke(main, ADD)
    assert result.exit_code == 0, result.output
    assert "deployments: 1, 7" in result.output
    with db.database(app).sessions() as session:
        row = session.scalars(select(PlatformRegistration)).one()
        assert (row.issuer, row.client_id) == ("https://moodle.example.test", "Xy12")
        assert row.audience is None

    listed = runner.invoke(main, ["platform", "list"])
    assert "https://moodle.example.test\tclient Xy12\tdeployments 1, 7" in listed.output

    again = runner.invoke(main, [*ADD[:6], "--deployment-id", "9", *ADD[10:]])
    assert again.exit_code == 0, again.output
    assert "deployments: 1, 7, 9" in again.output

    removed = runner.invoke(main, ["platform", "remove", "--issuer", "https://moodle.example.test"])
    assert removed.exit_code == 0 and "removed 1 registration" in removed.output
    assert "no platform registered" in runner.invoke(main, ["platform", "list"]).output


def test_platform_add_with_audience(runner: FlaskCliRunner, app: Flask) -> None:
    result = runner.invoke(main, [*ADD, "--audience", "https://moodle.example.test/aud"])
    assert result.exit_code == 0, result.output
    with db.database(app).sessions() as session:
        assert session.scalars(select(PlatformRegistration)).one().audience == (
            "https://moodle.example.test/aud"
        )


def test_platform_add_rejects_a_non_url(runner: FlaskCliRunner) -> None:
    bad = [*ADD]
    bad[bad.index("--auth-login-url") + 1] = "moodle/auth.php"
    result = runner.invoke(main, bad)
    assert result.exit_code != 0
    assert "--auth-login-url 'moodle/auth.php' must be an http(s) URL" in result.output


def test_removing_an_unknown_platform_says_so(runner: FlaskCliRunner) -> None:
    result = runner.invoke(main, ["platform", "remove", "--issuer", "https://nowhere.test"])
    assert result.exit_code != 0
    assert "no platform registered with issuer 'https://nowhere.test'" in result.output


def test_console_script_upgrades_a_fresh_data_dir(tmp_path: Path) -> None:
    env = {"COACHLAB_DATA_DIR": str(tmp_path / "d"), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-m", "lti_tool.cli", "db", "upgrade"], env=env,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "d" / "coachlab.sqlite3").exists()


def test_serve_refuses_demo_in_production(tmp_path: Path) -> None:
    env = {"COACHLAB_DATA_DIR": str(tmp_path), "COACHLAB_ENV": "production", "PATH": "/usr/bin"}
    done = subprocess.run([sys.executable, "-m", "lti_tool.cli", "serve", "--demo"], env=env,
                          capture_output=True, text=True, check=False, timeout=60)
    assert done.returncode != 0
    assert "refuses to start with COACHLAB_ENV=production" in done.stderr


def test_content_and_grade_commands_are_mounted() -> None:
    assert {"content", "grade", "db", "platform", "serve"} <= set(main.commands)
