"""Login CSRF: the OIDC state is bound to the browser that started the login - by the state
cookie, else by the platform's client-side postMessage storage, else the launch is refused
with an open-in-a-new-window page (SECURITY.md, "Binding the launch to the browser")."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit

from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import Launcher, PlatformInfo
from tests.lti_tool.flows import assert_rejected


def _data(page: str, name: str) -> str:
    match = re.search(rf'data-{name}="([^"]*)"', page)
    assert match, (name, page)
    return html.unescape(match.group(1))


def _field(page: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert match, (name, page)
    return html.unescape(match.group(1))


def test_login_sets_an_httponly_state_cookie_and_the_launch_accepts_it(
    launch: Launcher, client: FlaskClient
) -> None:
    response = launch.login()
    state = parse_qs(urlsplit(response.location).query)["state"][0]
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if state in c)
    assert "HttpOnly" in cookie and "Path=/" in cookie
    assert client.get_cookie(f"lti1p3-{state}") is not None
    assert launch(role="learner").status_code == 200  # same browser: bound by the cookie


def test_state_cookie_is_secure_and_samesite_none_over_https(
    app: Flask, platform: PlatformInfo
) -> None:
    client = app.test_client()
    response = client.get("/lti/login", base_url="https://localhost", query_string={
        "iss": platform.issuer, "login_hint": "h", "target_link_uri": "https://localhost/lti/launch",
        "client_id": platform.client_id})
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if "lti1p3-state-" in c)
    assert "Secure" in cookie and "SameSite=None" in cookie and "HttpOnly" in cookie


def test_launch_into_a_browser_holding_other_state_cookies_is_login_csrf(
    launch: Launcher, app: Flask
) -> None:
    # The attacker runs a login in their own browser and forces the victim's browser (which
    # has state cookies of its own, so it keeps cookies) to post the attacker's launch.
    attacker = Launcher(app.test_client(), launch.platform)
    login = attacker.start()
    token = launch.platform.sign(launch.platform.claims(login.nonce, subject="attacker"))
    launch.start()  # the victim's own earlier login left a state cookie
    assert_rejected(launch.post(token, login.state), "State mismatch",
                    "did not start the login")


def test_client_side_storage_binds_the_launch_when_cookies_are_blocked(
    launch: Launcher, app: Flask
) -> None:
    login_page = launch.login(lti_storage_target="_parent")
    assert login_page.status_code == 200
    page = login_page.get_data(as_text=True)
    assert _data(page, "mode") == "put" and _data(page, "target") == "_parent"
    assert _data(page, "origin") == launch.platform.issuer  # postMessage targetOrigin
    key, secret = _data(page, "key"), _data(page, "value")
    auth = parse_qs(urlsplit(_data(page, "next")).query)
    assert key == f"coachlab-{auth['state'][0]}" and secret
    assert "<script>" not in page and 'src="/static/lti_storage.js"' in page

    # The platform posts the launch; the iframe's cookies were blocked.
    cookieless = Launcher(app.test_client(), launch.platform)
    token = launch.platform.sign(launch.platform.claims(auth["nonce"][0]))
    check = cookieless.post(token, auth["state"][0])
    assert check.status_code == 200
    check_page = check.get_data(as_text=True)
    assert _data(check_page, "mode") == "get" and _data(check_page, "key") == key
    assert secret not in check_page  # the page must fetch it from the platform
    pending = _field(check_page, "pending")

    # The script read the secret back from the platform's storage and posts it.
    done = cookieless.client.post("/lti/launch/confirm",
                                  data={"pending": pending, "value": secret})
    assert done.status_code == 200 and urlsplit(done.headers["Content-Location"]).path == "/play"
    # Single use.
    assert_rejected(cookieless.client.post("/lti/launch/confirm",
                                           data={"pending": pending, "value": secret}),
                    "already used")


def test_client_side_storage_with_a_foreign_secret_is_rejected(
    launch: Launcher, app: Flask
) -> None:
    page = launch.login(lti_storage_target="_parent").get_data(as_text=True)
    auth = parse_qs(urlsplit(_data(page, "next")).query)
    cookieless = Launcher(app.test_client(), launch.platform)
    check = cookieless.post(launch.platform.sign(launch.platform.claims(auth["nonce"][0])),
                            auth["state"][0]).get_data(as_text=True)
    refused = cookieless.client.post("/lti/launch/confirm", data={
        "pending": _field(check, "pending"), "value": "the-attackers-secret"})
    assert_rejected(refused, "State mismatch", "another browser")
    assert_rejected(cookieless.client.post("/lti/launch/confirm",
                                           data={"pending": "forged", "value": "x"}),
                    "unknown")


def test_platform_storage_without_the_value_falls_back_to_a_new_window(
    launch: Launcher, app: Flask
) -> None:
    page = launch.login(lti_storage_target="_parent").get_data(as_text=True)
    auth = parse_qs(urlsplit(_data(page, "next")).query)
    cookieless = Launcher(app.test_client(), launch.platform)
    check = cookieless.post(launch.platform.sign(launch.platform.claims(auth["nonce"][0])),
                            auth["state"][0]).get_data(as_text=True)
    refused = cookieless.client.post("/lti/launch/confirm", data={
        "pending": _field(check, "pending"), "value": ""})
    assert refused.status_code == 401
    assert "Open coachlab in a new window" in refused.get_data(as_text=True)


def test_no_cookie_and_no_storage_offers_a_new_window_instead_of_accepting(
    launch: Launcher, app: Flask
) -> None:
    login = launch.start()
    cookieless = Launcher(app.test_client(), launch.platform)
    response = cookieless.post(launch.platform.sign(launch.platform.claims(login.nonce)),
                               login.state)
    assert response.status_code == 401
    page = response.get_data(as_text=True)
    match = re.search(r'<a href="([^"]+)" target="_blank" rel="noopener"', page)
    assert match, page
    again = urlsplit(html.unescape(match.group(1)))
    params = {k: v[0] for k, v in parse_qs(again.query).items()}
    assert again.path == "/lti/login"
    assert params["iss"] == launch.platform.issuer and params["login_hint"] == "hint-1"
    assert "lti_storage_target" not in params
    assert "/play" not in page and "launch=" not in page  # nothing of the launch leaks
    # The new window is first-party: the login there sets its cookie, and the launch passes.
    window = Launcher(app.test_client(), launch.platform)
    fresh = window.client.get(again.path + "?" + again.query)
    state = parse_qs(urlsplit(fresh.location).query)
    token = launch.platform.sign(launch.platform.claims(state["nonce"][0]))
    assert window.post(token, state["state"][0]).status_code == 200
