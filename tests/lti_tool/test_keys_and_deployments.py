"""Key rotation and retirement, and registrations that trust any deployment id."""

from __future__ import annotations

import html
from pathlib import Path

import jwt
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select

from lti_tool import db
from lti_tool.cli import main
from lti_tool.keys import load_key_ring
from lti_tool.models import Deployment, PlatformRegistration
from tests.conftest import CLAIM, Launcher, PlatformInfo, make_app
from tests.lti_tool.flows import assert_rejected
from tests.lti_tool.lti_helpers import choose, field, open_picker, verify_tool_jwt


def _kids(client: FlaskClient) -> list[str]:
    return [key["kid"] for key in client.get("/lti/jwks.json").get_json()["keys"]]


def test_rotate_adds_a_signing_key_and_keeps_the_old_one(
    tmp_path: Path, app: Flask, runner: FlaskCliRunner
) -> None:
    old = app.extensions["coachlab_keys"].kid
    result = runner.invoke(main, ["keys", "rotate"])
    assert result.exit_code == 0, result.output
    ring = load_key_ring(Path(app.config["DATA_DIR"]))
    assert ring.current.kid != old and [k.kid for k in ring.previous] == [old]
    assert f"new signing key {ring.current.kid}" in result.output
    for pem in Path(app.config["DATA_DIR"]).rglob("*.pem"):
        assert pem.stat().st_mode & 0o077 == 0, pem

    restarted = make_app(tmp_path, DATABASE_URL=app.config["DATABASE_URL"])  # a restarted process
    client = restarted.test_client()
    assert _kids(client) == [ring.current.kid, old]
    assert restarted.extensions["coachlab_keys"].kid == ring.current.kid

    listed = runner.invoke(main, ["keys", "list"])
    assert f"{ring.current.kid}\tcurrent" in listed.output and f"{old}\tprevious" in listed.output


def test_signatures_use_the_new_key_after_rotation(
    tmp_path: Path, app: Flask, runner: FlaskCliRunner, platform: PlatformInfo
) -> None:
    runner.invoke(main, ["keys", "rotate"])
    restarted = make_app(tmp_path, DATABASE_URL=app.config["DATABASE_URL"])
    client = restarted.test_client()
    picker = open_picker(Launcher(client, platform), client)
    page = html.unescape(choose(client, picker, ["scenario:territory-rep-300-accounts"])
                         .get_data(as_text=True))
    token = field(page, "JWT")
    assert jwt.get_unverified_header(token)["kid"] == restarted.extensions["coachlab_keys"].kid
    verify_tool_jwt(client, token, platform.issuer)


def test_retire_removes_previous_keys_only(
    tmp_path: Path, app: Flask, runner: FlaskCliRunner
) -> None:
    first = app.extensions["coachlab_keys"].kid
    runner.invoke(main, ["keys", "rotate"])
    second = load_key_ring(Path(app.config["DATA_DIR"])).current.kid
    runner.invoke(main, ["keys", "rotate"])
    current = load_key_ring(Path(app.config["DATA_DIR"])).current.kid
    assert [k.kid for k in load_key_ring(Path(app.config["DATA_DIR"])).previous] == [second, first]

    refused = runner.invoke(main, ["keys", "retire", "--kid", current])
    assert refused.exit_code != 0 and "is the current signing key" in refused.output
    unknown = runner.invoke(main, ["keys", "retire", "--kid", "nope"])
    assert unknown.exit_code != 0 and "no previous key has kid nope" in unknown.output

    one = runner.invoke(main, ["keys", "retire", "--kid", first])
    assert one.exit_code == 0 and f"retired {first}" in one.output
    assert _kids(make_app(tmp_path).test_client()) == [current, second]
    rest = runner.invoke(main, ["keys", "retire"])
    assert f"retired {second}" in rest.output
    assert _kids(make_app(tmp_path).test_client()) == [current]
    assert "no previous key to retire" in runner.invoke(main, ["keys", "retire"]).output


def _deployments(app: Flask) -> list[str]:
    with db.database(app).sessions() as session:
        return list(session.scalars(select(Deployment.deployment_id).order_by(Deployment.id)))


def _with_deployment(deployment_id: str):  # type: ignore[no-untyped-def]
    def tamper(claims: dict[str, object]) -> None:
        claims[CLAIM + "deployment_id"] = deployment_id
    return tamper


def test_unknown_deployment_is_refused_unless_trusted(
    app: Flask, launch: Launcher, runner: FlaskCliRunner, platform: PlatformInfo
) -> None:
    assert_rejected(launch(tamper=_with_deployment("course-42")), "Unknown deployment",
                    "coachlab platform deployment add")
    with db.database(app).sessions() as session:
        row = session.scalars(select(PlatformRegistration)).one()
        row.allow_any_deployment = True
        session.commit()
    assert launch(tamper=_with_deployment("course-42")).status_code == 200
    assert launch(tamper=_with_deployment("course-42")).status_code == 200
    assert _deployments(app) == ["deployment-1", "course-42"]  # recorded once, on first use


def test_cli_any_deployment_and_deployment_add_remove(
    app: Flask, runner: FlaskCliRunner
) -> None:
    base = ["platform", "add", "--issuer", "https://canvas.example.test", "--client-id", "10",
            "--auth-login-url", "https://canvas.example.test/auth",
            "--auth-token-url", "https://canvas.example.test/token",
            "--key-set-url", "https://canvas.example.test/jwks"]
    refused = runner.invoke(main, base)
    assert refused.exit_code != 0 and "--any-deployment" in refused.output
    added = runner.invoke(main, [*base, "--any-deployment"])
    assert added.exit_code == 0, added.output
    listed = runner.invoke(main, ["platform", "list"]).output
    assert "deployments any (seen: none yet)" in listed

    issuer = ["--issuer", "https://canvas.example.test"]
    assert "added" in runner.invoke(main, ["platform", "deployment", "add", *issuer, "d1"]).output
    again = runner.invoke(main, ["platform", "deployment", "add", *issuer, "d1"])
    assert "was listed already" in again.output
    assert _deployments(app) == ["d1"]
    removed = runner.invoke(main, ["platform", "deployment", "remove", *issuer, "d1"])
    assert removed.exit_code == 0 and "accepts any deployment" in removed.output
    assert _deployments(app) == []
    missing = runner.invoke(main, ["platform", "deployment", "remove", *issuer, "d9"])
    assert missing.exit_code != 0 and "is not listed" in missing.output
    nobody = runner.invoke(main, ["platform", "deployment", "add", "--issuer", "https://x.test",
                                  "d1"])
    assert nobody.exit_code != 0 and "no platform registered" in nobody.output
