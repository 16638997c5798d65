"""Launch and protocol rejections the skeleton's tests (tests/lti_tool/test_launch.py) do not
cover yet: each is a 4xx page naming the reason, logged without the token, never a 500."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from flask import Flask
from flask.testing import FlaskClient

from lti_tool import db
from lti_tool.keys import KeyPair
from lti_tool.platforms import PlatformSpec, add_platform
from tests.conftest import CLAIM, Launcher, PlatformInfo
from tests.lti_tool.flows import assert_rejected


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    head = _b64(json.dumps(header).encode())
    body = _b64(json.dumps(claims).encode())
    return f"{head}.{body}.{_b64(signature)}"


def _logged(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(record.getMessage() for record in caplog.records)


def test_alg_none_is_rejected(launch: Launcher, caplog: pytest.LogCaptureFixture) -> None:
    login = launch.start()
    token = _unsigned({"alg": "none", "typ": "JWT", "kid": launch.platform.keys.kid},
                      launch.platform.claims(login.nonce))
    with caplog.at_level(logging.WARNING):
        response = launch.post(token, login.state)
    assert_rejected(response, "Bad signature")
    assert "rejected" in _logged(caplog) and token not in _logged(caplog)


def test_hs256_signed_with_the_platform_public_key_is_rejected(launch: Launcher) -> None:
    # The classic key-confusion attack: the public key (anyone can fetch it) as HMAC secret,
    # once as PEM and once as the JWK JSON.
    from cryptography.hazmat.primitives import serialization

    jwk = launch.platform.keys.jwks()["keys"][0]
    pem = jwt.PyJWK(jwk).key.public_bytes(serialization.Encoding.PEM,
                                          serialization.PublicFormat.SubjectPublicKeyInfo)
    for secret in (pem, json.dumps(jwk).encode()):
        login = launch.start()
        header = {"alg": "HS256", "typ": "JWT", "kid": launch.platform.keys.kid}
        signing_input = (_b64(json.dumps(header).encode()) + "." +
                         _b64(json.dumps(launch.platform.claims(login.nonce)).encode()))
        signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        assert_rejected(launch.post(signing_input + "." + _b64(signature), login.state),
                        "Bad signature")


def test_token_issued_in_the_future_is_rejected(launch: Launcher) -> None:
    def future_iat(claims: dict[str, Any]) -> None:
        claims["iat"] = int(time.time()) + 3600

    assert_rejected(launch(tamper=future_iat), "could not be verified", "iat")


def test_token_not_yet_valid_is_rejected(launch: Launcher) -> None:
    def future_nbf(claims: dict[str, Any]) -> None:
        claims["nbf"] = int(time.time()) + 3600

    assert_rejected(launch(tamper=future_nbf), "could not be verified", "not yet valid")


def test_wrong_azp_with_several_audiences_is_rejected(launch: Launcher) -> None:
    def other_azp(claims: dict[str, Any]) -> None:
        claims["aud"] = [launch.platform.client_id, "another-tool"]
        claims["azp"] = "another-tool"

    assert_rejected(launch(tamper=other_azp), "Wrong azp", "another-tool")


def test_several_audiences_without_azp_are_rejected(launch: Launcher) -> None:
    def no_azp(claims: dict[str, Any]) -> None:
        claims["aud"] = [launch.platform.client_id, "another-tool"]

    assert_rejected(launch(tamper=no_azp), "Wrong azp", "no azp")


def test_matching_azp_with_several_audiences_is_accepted(launch: Launcher) -> None:
    def our_azp(claims: dict[str, Any]) -> None:
        claims["aud"] = [launch.platform.client_id, "another-tool"]
        claims["azp"] = launch.platform.client_id

    response = launch(tamper=our_azp)
    assert response.status_code == 200, response.get_data(as_text=True)


def test_oversized_id_token_is_refused_with_413(launch: Launcher) -> None:
    login = launch.start()
    claims = launch.platform.claims(login.nonce, custom={"padding": "x" * 70_000})
    response = launch.post(launch.platform.sign(claims), login.state)
    assert response.status_code == 413
    assert "at most 65536" in response.get_data(as_text=True)


def test_oversized_request_body_is_refused_with_413(client: FlaskClient, app: Flask) -> None:
    response = client.post("/lti/launch", data={"id_token": "x" * (app.config[
        "MAX_CONTENT_LENGTH"] + 10), "state": "s"})
    assert response.status_code == 413
    assert "larger than the 262144 bytes" in response.get_data(as_text=True)


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def tamper(claims: dict[str, Any]) -> None:
        claims[path] = value
    return tamper


def _drop(path: str) -> Callable[[dict[str, Any]], None]:
    def tamper(claims: dict[str, Any]) -> None:
        claims.pop(path, None)
    return tamper


@pytest.mark.parametrize(("tamper", "reason"), [
    (_set(CLAIM + "roles", "Learner"), "roles must be a list of strings"),
    (_set(CLAIM + "roles", [{"role": "Instructor"}]), "roles must be a list of strings"),
    (_set(CLAIM + "custom", ["scenario"]), "custom must be a JSON object"),
    (_set(CLAIM + "custom", {"scenario": {"nested": 1}}), "custom must be strings"),
    (_set(CLAIM + "context", "course-1"), "context must be a JSON object"),
    (_set(CLAIM + "resource_link", ["link-1"]), "resource_link must be a JSON object"),
    (_set(CLAIM + "resource_link", {"id": {"x": 1}}), "resource_link.id must be a string"),
    (_set("name", 42), "name must be a string"),
    (_set("email", ["a@b"]), "email must be a string"),
    (_set("https://purl.imsglobal.org/spec/lti-ags/claim/endpoint", "x"),
     "endpoint must be a JSON object"),
    (_drop("sub"), "sub is missing"),
    (_set("sub", ""), "sub is missing"),
    (_set(CLAIM + "version", 1.3), "version must be a string"),
    (_drop(CLAIM + "message_type"), "message_type is missing"),
])
def test_malformed_claims_are_rejected_by_name(
    launch: Launcher, tamper: Callable[[dict[str, Any]], None], reason: str
) -> None:
    assert_rejected(launch(tamper=tamper), "Malformed claims", reason)


def _second_platform(app: Flask, keys: KeyPair) -> PlatformInfo:
    other = PlatformInfo(keys=keys, issuer="https://other-lms.example.test",
                         client_id="other-client", deployment_id="other-deployment")
    with db.database(app).sessions() as session:
        add_platform(session, PlatformSpec(
            issuer=other.issuer, client_id=other.client_id,
            deployment_ids=(other.deployment_id,), auth_login_url=f"{other.issuer}/auth",
            auth_token_url=f"{other.issuer}/token", key_set_url=f"{other.issuer}/jwks",
            key_set=other.keys.jwks()))
        session.commit()
    return other


def test_launch_of_one_platform_replayed_against_another_registration(
    launch: Launcher, app: Flask, other_keys: KeyPair, client: FlaskClient
) -> None:
    other = _second_platform(app, other_keys)
    other_launcher = Launcher(client, other)
    # A token platform A signed for its own login, posted with the state of a login for B.
    login_a, login_b = launch.start(), other_launcher.start()
    token_a = launch.platform.sign(launch.platform.claims(login_a.nonce))
    assert_rejected(launch.post(token_a, login_b.state), "State mismatch")
    # Platform A answering a login that was started for platform B (it learnt B's nonce).
    login_b = other_launcher.start()
    stolen = launch.platform.sign(launch.platform.claims(login_b.nonce))
    assert_rejected(launch.post(stolen, login_b.state), "Platform mismatch", other.issuer)
    # A's token re-signed... is impossible; A's claims with B's issuer fail B's key.
    login_b = other_launcher.start()
    forged = dict(launch.platform.claims(login_b.nonce), iss=other.issuer,
                  aud=other.client_id)
    forged[CLAIM + "deployment_id"] = other.deployment_id
    assert_rejected(launch.post(launch.platform.sign(forged, kid=other.keys.kid),
                                login_b.state), "Bad signature")


def test_deep_linking_request_of_one_platform_is_not_accepted_for_another(
    launch: Launcher, app: Flask, other_keys: KeyPair, client: FlaskClient
) -> None:
    other = _second_platform(app, other_keys)
    login_b = Launcher(client, other).start()
    claims = launch.platform.claims(login_b.nonce)
    claims[CLAIM + "message_type"] = "LtiDeepLinkingRequest"
    claims["https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"] = {
        "deep_link_return_url": f"{launch.platform.issuer}/dl", "accept_types": ["ltiResourceLink"],
        "accept_presentation_document_targets": ["iframe"]}
    assert_rejected(launch.post(launch.platform.sign(claims), login_b.state),
                    "Platform mismatch")


@pytest.mark.parametrize("make_body", [
    lambda: {"id_token": "not.a.jwt", "state": "x"},
    lambda: {"id_token": "a.b", "state": "x"},
    lambda: {"state": "x"},
    lambda: {"id_token": _unsigned({"alg": "RS256"}, {"iss": 5}), "state": "x"},
    lambda: {"id_token": "eyJ.eyJ.sig", "state": ""},
])
def test_garbage_launch_bodies_are_4xx(
    client: FlaskClient, platform: PlatformInfo, make_body: Callable[[], dict[str, str]]
) -> None:
    assert_rejected(client.post("/lti/launch", data=make_body()))


def test_rejections_are_logged_with_the_reason_but_not_the_token(
    launch: Launcher, caplog: pytest.LogCaptureFixture
) -> None:
    login = launch.start()
    token = launch.platform.sign(launch.platform.claims(login.nonce))
    assert launch.post(token, login.state).status_code == 200
    with caplog.at_level(logging.WARNING):
        assert_rejected(launch.post(token, login.state))  # replayed
        assert_rejected(launch(tamper=_set(CLAIM + "roles", "x")), "Malformed claims")
    logged = _logged(caplog)
    assert "rejected" in logged and "roles must be a list" in logged
    assert token not in logged and "eyJ" not in logged
