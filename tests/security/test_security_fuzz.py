"""Property-based fuzzing (hypothesis, bounded example counts): the launch endpoint never
answers 500, the scenario loader raises only ScenarioError, the free-text grader never raises."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graders.base import BoundStep, ResponseError
from graders.registry import get_grader
from lti_tool import db
from lti_tool.platforms import PlatformSpec, add_platform
from scenarios.errors import ScenarioError
from scenarios.library import load_library
from scenarios.loader import build_scenario, parse_template_bytes
from tests.conftest import CLAIM, PlatformInfo, make_app

ROOT = Path(__file__).resolve().parents[2]
FUZZ = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _rs256(body: dict[str, Any], info: PlatformInfo) -> str:
    """Sign any JSON body (PyJWT's encoder refuses ill-typed registered claims)."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding

    header = {"alg": "RS256", "typ": "JWT", "kid": info.keys.kid}
    signing_input = (_b64(json.dumps(header).encode()) + "." +
                     _b64(json.dumps(body).encode())).encode()
    pem = info.keys.private_pem
    key = serialization.load_pem_private_key(
        pem.encode() if isinstance(pem, str) else pem, password=None)
    signature = key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())  # type: ignore[union-attr, call-arg]
    return signing_input.decode() + "." + _b64(signature)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)

CLAIM_NAMES = ["iss", "aud", "sub", "nonce", "exp", "iat", "azp", "name", "email",
               CLAIM + "roles", CLAIM + "custom", CLAIM + "context", CLAIM + "resource_link",
               CLAIM + "message_type", CLAIM + "deployment_id", CLAIM + "version"]

jwtish = st.one_of(
    st.text(max_size=300),
    st.builds(lambda h, b, s: f"{h}.{b}.{s}", st.text(max_size=40), st.text(max_size=80),
              st.text(max_size=40)),
    st.builds(
        lambda header, body: _b64(json.dumps(header).encode()) + "." +
        _b64(json.dumps(body).encode()) + "." + _b64(b"sig"),
        st.dictionaries(st.sampled_from(["alg", "kid", "typ"]), json_values, max_size=3),
        st.dictionaries(st.sampled_from(CLAIM_NAMES), json_values, max_size=8),
    ),
)


def test_launch_endpoint_never_answers_500(tmp_path: Path, platform_keys: Any) -> None:
    app = make_app(tmp_path, RATE_LIMIT="")
    info = PlatformInfo(keys=platform_keys)
    with db.database(app).sessions() as session:
        add_platform(session, PlatformSpec(
            issuer=info.issuer, client_id=info.client_id, deployment_ids=(info.deployment_id,),
            auth_login_url=f"{info.issuer}/auth", auth_token_url=f"{info.issuer}/token",
            key_set_url=f"{info.issuer}/jwks", key_set=info.keys.jwks()))
        session.commit()
    client = app.test_client()

    @FUZZ
    @given(token=jwtish, state=st.text(max_size=60),
           extra=st.dictionaries(st.text(min_size=1, max_size=12), st.text(max_size=40),
                                 max_size=4))
    def post_launch(token: str, state: str, extra: dict[str, str]) -> None:
        response = client.post("/lti/launch", data={**extra, "id_token": token, "state": state})
        assert 400 <= response.status_code < 500, response.get_data(as_text=True)

    @FUZZ
    @given(claims=st.dictionaries(st.sampled_from(CLAIM_NAMES), json_values, max_size=10))
    def signed_garbage(claims: dict[str, Any]) -> None:
        # Properly signed by the registered platform, but with arbitrary claim values: the
        # signature passes, so every claim check after it is exercised.
        login = client.get("/lti/login", query_string={
            "iss": info.issuer, "login_hint": "h", "client_id": info.client_id,
            "target_link_uri": "http://localhost/lti/launch"})
        from urllib.parse import parse_qs, urlsplit

        query = parse_qs(urlsplit(login.location).query)
        body = {**info.claims(query["nonce"][0]), **claims}
        body["nonce"] = query["nonce"][0]
        response = client.post("/lti/launch", data={"id_token": _rs256(body, info),
                                                    "state": query["state"][0]})
        assert response.status_code < 500, response.get_data(as_text=True)

    @FUZZ
    @given(params=st.dictionaries(
        st.sampled_from(["iss", "login_hint", "target_link_uri", "client_id",
                         "lti_deployment_id", "lti_message_hint", "lti_storage_target"]),
        st.text(max_size=60), max_size=7))
    def login(params: dict[str, str]) -> None:
        response = client.get("/lti/login", query_string=params)
        assert response.status_code < 500, response.get_data(as_text=True)

    post_launch()
    signed_garbage()
    login()


VALID = (ROOT / "scenarios/library/scenarios/territory-rep-300-accounts.md").read_bytes()
LIBRARY = load_library()


def _mutate(data: bytes, edits: list[tuple[int, bytes]]) -> bytes:
    for position, chunk in edits:
        at = position % (len(data) + 1)
        data = data[:at] + chunk + data[at + len(chunk):]
    return data


@FUZZ
@given(st.one_of(
    st.binary(max_size=600),
    st.builds(_mutate, st.just(VALID), st.lists(
        st.tuples(st.integers(min_value=0), st.binary(min_size=1, max_size=6)), max_size=4)),
    st.builds(lambda head, tail: b"---\n" + head + b"\n---\n" + tail,
              st.binary(max_size=200), st.binary(max_size=200)),
))
def test_scenario_loader_raises_only_scenario_errors(data: bytes) -> None:
    try:
        template = parse_template_bytes(data, "fuzz.md")
        build_scenario(template, LIBRARY.catalogue, LIBRARY.situations)
    except ScenarioError:
        pass


SCENARIO = LIBRARY.scenario("territory-rep-300-accounts", None)
PLAN = next(step for step in SCENARIO.steps if step.grader == "coaching_plan")


@FUZZ
@given(st.one_of(st.text(max_size=2000), st.text(alphabet=st.characters(), max_size=300)))
def test_free_text_grader_never_raises_on_text(text: str) -> None:
    grader = get_grader(PLAN.grader)
    result = grader.grade(BoundStep(step=PLAN, scenario=SCENARIO, catalogue=LIBRARY.catalogue),
                          text)
    assert 0.0 <= result.score <= 1.0


@FUZZ
@given(json_values)
def test_free_text_grader_refuses_non_text_only_with_response_error(value: object) -> None:
    grader = get_grader(PLAN.grader)
    try:
        result = grader.grade(
            BoundStep(step=PLAN, scenario=SCENARIO, catalogue=LIBRARY.catalogue), value)
    except ResponseError:
        return
    assert 0.0 <= result.score <= 1.0
