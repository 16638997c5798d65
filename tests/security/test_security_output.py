"""Content and output: hostile Markdown and hostile answers reach every page escaped; the
security headers; cookies; templates carry no inline script (the CSP forbids it)."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from lti_tool import db
from lti_tool.models import Attempt
from lti_tool.platforms import PlatformSpec, add_platform
from lti_tool.security import forget_platform_origins, platform_origins
from tests.conftest import CLAIM, Launcher, PlatformInfo, landing, make_app
from tests.lti_tool.flows import attempt_scenario, correct_answers, open_player, submit

ROOT = Path(__file__).resolve().parents[2]
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>"><svg/onload=alert(2)>'

HOSTILE_MARKDOWN = """
Raw HTML: <script>alert("md")</script> <iframe src="https://evil.test"></iframe>

<div onclick="alert(3)">block</div>

[click me](javascript:alert(4)) [data](data:text/html;base64,PHNjcmlwdD4=)
[fine](https://example.com/ok) ![pixel](javascript:alert(5))
"""


def _hostile_content(tmp_path: Path) -> Path:
    source = (ROOT / "tests/data/valid/minimal-territory.md").read_text(encoding="utf-8")
    text = source.replace("id: minimal-territory", "id: hostile-content", 1)
    text = text.replace("{{ seller }} owns 300 accounts.",
                        "{{ seller }} owns 300 accounts.\n" + HOSTILE_MARKDOWN, 1)
    text = text.replace("Coach coverage, not negotiation.",
                        "Coach coverage.\n" + HOSTILE_MARKDOWN, 1)
    folder = tmp_path / "content" / "scenarios"
    folder.mkdir(parents=True)
    (folder / "hostile-content.md").write_text(text, encoding="utf-8")
    return tmp_path / "content"


def _assert_inert(page: str) -> None:
    """No executable markup from content or answers made it into the page."""
    assert "<script>alert" not in page and "<iframe" not in page
    assert not re.search(r"<[a-z]+[^>]*\son(error|load|click)=", page), page
    assert not re.search(r"(href|src|action)\s*=\s*[\"']?\s*(javascript|data|vbscript):",
                         page, re.I), page


def test_markdown_in_content_is_rendered_without_raw_html_or_unsafe_links(
    tmp_path: Path, platform_keys: Any
) -> None:
    app = make_app(tmp_path, CONTENT_DIR=str(_hostile_content(tmp_path)))
    from tests.conftest import PlatformInfo as Info

    info = Info(keys=platform_keys)
    with db.database(app).sessions() as session:
        add_platform(session, PlatformSpec(
            issuer=info.issuer, client_id=info.client_id, deployment_ids=(info.deployment_id,),
            auth_login_url=f"{info.issuer}/auth", auth_token_url=f"{info.issuer}/token",
            key_set_url=f"{info.issuer}/jwks", key_set=info.keys.jwks()))
        session.commit()
    client = app.test_client()
    launch = Launcher(client, info)
    page, token = open_player(launch, client, custom={"scenario": "hostile-content"})
    _assert_inert(page)
    assert "&lt;script&gt;alert(&#34;md&#34;)" in page or "&lt;script&gt;alert(&quot;md" in page
    assert 'href="https://example.com/ok"' in page
    from lti_tool import content

    with db.database(app).sessions() as session, app.app_context():
        attempt = session.scalars(select(Attempt)).one()
        scenario = content.library().scenario(attempt.scenario_id, attempt.variant_seed)
    submitted = submit(client, page, correct_answers(scenario))
    assert submitted.status_code == 302, submitted.get_data(as_text=True)
    result = client.get(submitted.location).get_data(as_text=True)
    _assert_inert(result)
    assert "Coach coverage." in result  # the teaching notes, rendered safely after submission


def test_learner_text_is_escaped_on_every_page_that_shows_it(
    launch: Launcher, client: FlaskClient, app: Flask
) -> None:
    def hostile_name(claims: dict[str, Any]) -> None:
        claims["name"] = HOSTILE
        claims[CLAIM + "context"] = {"id": "course-1", "title": HOSTILE, "label": HOSTILE}
        claims[CLAIM + "resource_link"] = {"id": "link-1", "title": HOSTILE}

    page, token = open_player(launch, client, tamper=hostile_name)
    # A draft with hostile text comes back into the player form.
    draft = submit(client, page, {"plan": HOSTILE, "situation": HOSTILE})
    assert draft.status_code == 400
    pages = {"player after draft": draft.get_data(as_text=True),
             "player": client.get(f"/play?launch={token}").get_data(as_text=True)}
    answers = {**correct_answers(attempt_scenario(app)), "plan": HOSTILE + " territory plan"}
    done = submit(client, pages["player"], answers)
    pages["result"] = client.get(done.location).get_data(as_text=True)
    overview = launch(role="instructor", tamper=hostile_name)
    pages["instructor overview"] = client.get(overview.location).get_data(as_text=True)
    with db.database(app).sessions() as session:
        attempt_id = session.scalars(select(Attempt.id)).first()
    staff_token = overview.location.split("launch=")[1]
    pages["instructor result"] = client.get(
        f"/play/result?launch={staff_token}&attempt={attempt_id}").get_data(as_text=True)
    for name, html_page in pages.items():
        _assert_inert(html_page)
        assert "<svg" not in html_page, name
    assert "&lt;script&gt;" in pages["player"]  # the draft is shown, escaped
    assert "&lt;script&gt;" in pages["instructor overview"]  # the name is shown, escaped


def test_csv_exports_neutralise_formulas_when_they_exist(
    launch: Launcher, client: FlaskClient, app: Flask
) -> None:
    endpoints = [r for r in app.url_map.iter_rules() if "csv" in r.rule or "export" in r.rule]
    if not endpoints:
        pytest.skip("no CSV export on this branch yet (the instructor branch adds it)")
    def formula_name(claims: dict[str, Any]) -> None:
        claims["name"] = "=HYPERLINK(\"https://evil.test\",\"x\")"

    page, _ = open_player(launch, client, tamper=formula_name)
    submit(client, page, correct_answers(attempt_scenario(app)))
    staff = launch(role="instructor").location.split("launch=")[1]
    for rule in endpoints:
        path = re.sub(r"<[^>]+>", "1", rule.rule)  # the first (only) placement
        response = client.get(path, query_string={"launch": staff})
        if rule.rule.endswith(".xlsx"):
            from openpyxl import load_workbook

            sheet = load_workbook(io.BytesIO(response.get_data())).active
            assert sheet is not None
            values = [c for row in sheet.iter_rows() for c in row]
            assert any("HYPERLINK" in str(c.value) for c in values), rule.rule
            for cell in values:
                assert cell.data_type != "f" and not str(cell.value or "").startswith(
                    ("=", "+", "-", "@")), (rule.rule, cell.value)
            continue
        body = response.get_data(as_text=True)
        assert response.status_code == 200 and "HYPERLINK" in body, (rule.rule, body[:300])
        for cell in re.split(r"[,\n]", body):
            assert not cell.strip('"').startswith(("=", "+", "-", "@")), (rule.rule, cell)


# --- headers ---------------------------------------------------------------------------------


def _csp(response: Any) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return {part.split()[0]: part for part in (p.strip() for p in policy.split(";")) if part}


def test_every_page_has_the_security_headers(
    launch: Launcher, client: FlaskClient, platform: PlatformInfo
) -> None:
    launched = launch(role="learner")  # the player page, answered by the launch itself
    page_response = client.get(landing(launched))
    for response in (client.get("/lti/"), client.get("/lti/jwks.json"), launched, page_response,
                     client.get("/nowhere"), launch.login()):
        csp = _csp(response)
        assert csp["script-src"] == "script-src 'self'"
        assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]
        assert csp["object-src"] == "object-src 'none'"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "no-referrer"


def test_frame_ancestors_are_the_registered_platforms(
    app: Flask, client: FlaskClient, platform: PlatformInfo
) -> None:
    ancestors = _csp(client.get("/lti/"))["frame-ancestors"].split()[1:]
    assert ancestors == ["'self'", "https://lms.example.test"]
    with db.database(app).sessions() as session:
        add_platform(session, PlatformSpec(
            issuer="https://canvas.instructure.com", client_id="1000",
            deployment_ids=("d",), auth_login_url="https://sso.canvaslms.com/api/lti/authorize",
            auth_token_url="https://sso.canvaslms.com/login/oauth2/token",
            key_set_url="https://sso.canvaslms.com/api/lti/security/jwks"))
        session.commit()
    # Cached until the registrations change in this process (or the cache lifetime ends).
    assert "https://canvas.instructure.com" not in platform_origins(app)
    forget_platform_origins(app)
    ancestors = _csp(client.get("/lti/"))["frame-ancestors"].split()[1:]
    assert "https://canvas.instructure.com" in ancestors
    assert "https://*.instructure.com" in ancestors  # schools' own Canvas hosts
    assert "https://sso.canvaslms.com" in ancestors
    assert "https://evil.test" not in ancestors
    # Deep Linking responses post back to the platform.
    assert "https://sso.canvaslms.com" in _csp(client.get("/lti/"))["form-action"]


def test_a_new_registration_may_frame_the_tool_at_once(
    app: Flask, client: FlaskClient, platform: PlatformInfo
) -> None:
    assert "https://new-lms.test" not in _csp(client.get("/lti/"))["frame-ancestors"]
    with db.database(app).sessions() as session:
        add_platform(session, PlatformSpec(
            issuer="https://new-lms.test", client_id="c", deployment_ids=("d",),
            auth_login_url="https://new-lms.test/auth", auth_token_url="https://new-lms.test/t",
            key_set_url="https://new-lms.test/jwks"))
        session.commit()
    # The login of its first launch reads the registrations afresh (no 60 s wait).
    assert "https://new-lms.test" in _csp(client.get("/lti/login"))["frame-ancestors"]
    if "registration.register" in app.view_functions:
        page = client.get("/lti/register", query_string={
            "openid_configuration": "https://opener.test/openid-configuration"})
        assert "https://opener.test" in _csp(page)["frame-ancestors"]


def test_extra_frame_ancestors_come_from_the_setting(tmp_path: Path) -> None:
    app = make_app(tmp_path, FRAME_ANCESTORS="https://moodle.school.test")
    csp = _csp(app.test_client().get("/lti/"))
    assert csp["frame-ancestors"] == "frame-ancestors 'self' https://moodle.school.test"


def test_no_template_or_page_has_inline_script() -> None:
    for path in (ROOT / "lti_tool" / "templates").rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        for tag in re.findall(r"<script\b[^>]*>", text):
            # Data blocks (type="application/json") are never executed.
            assert "src=" in tag or 'type="application/json"' in tag, (path, tag)
        assert not re.search(r"\son[a-z]+\s*=", text), path
        assert "javascript:" not in text, path
        assert " style=" not in text, path


def test_cookies_are_httponly_and_secure_behind_a_tls_proxy(
    tmp_path: Path, platform_keys: Any
) -> None:
    app = make_app(tmp_path, PROXY_FIX=True, BASE_URL="https://tool.example.test")
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["SESSION_COOKIE_HTTPONLY"]
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    info = PlatformInfo(keys=platform_keys)
    with db.database(app).sessions() as session:
        add_platform(session, PlatformSpec(
            issuer=info.issuer, client_id=info.client_id, deployment_ids=(info.deployment_id,),
            auth_login_url=f"{info.issuer}/auth", auth_token_url=f"{info.issuer}/token",
            key_set_url=f"{info.issuer}/jwks", key_set=info.keys.jwks()))
        session.commit()
    response = app.test_client().get(
        "/lti/login", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"},
        query_string={"iss": info.issuer, "login_hint": "h", "client_id": info.client_id,
                      "target_link_uri": "https://tool.example.test/lti/launch"})
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if "lti1p3-state" in c)
    assert "Secure" in cookie and "SameSite=None" in cookie and "HttpOnly" in cookie
