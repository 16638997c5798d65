"""OIDC login initiation and the launch, with pylti1p3 doing the protocol."""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass
from http.cookiejar import DefaultCookiePolicy
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests
from flask import current_app
from flask import request as flask_request
from pylti1p3.contrib.flask.message_launch import FlaskMessageLaunch
from pylti1p3.contrib.flask.oidc_login import FlaskOIDCLogin
from pylti1p3.contrib.flask.request import FlaskRequest
from pylti1p3.exception import LtiException
from pylti1p3.launch_data_storage.base import DisableSessionId

from lti_tool.cache import get_cache
from lti_tool.db import get_session
from lti_tool.errors import LaunchRejected
from lti_tool.keys import KeyPair
from lti_tool.lti.storage import (
    CookielessCacheStorage,
    StateBoundNonceSessionService,
    state_and_nonce,
)
from lti_tool.lti.tool_config import DbToolConf, RegistrationCache

if TYPE_CHECKING:
    from flask import Flask

STATE_COOKIE_PREFIX = "lti1p3-state-"
"""pylti1p3's state cookie is named lti1p3-<state>, and every state starts with "state-"."""

LOGIN_PARAMS = ("iss", "login_hint", "lti_message_hint", "target_link_uri", "client_id",
                "lti_deployment_id")
"""The login initiation parameters kept to start the same login again in a new window."""

STORAGE_TARGET = "lti_storage_target"
"""LTI Client Side postMessage storage: the frame the platform answers lti.put_data in."""


@dataclass(frozen=True)
class Binding:
    """How the launch is tied to the browser that started the login.

    kind: "cookie" (the login's state cookie came back), "storage" (the platform's
    client-side storage must confirm it; see lti/client_storage.html) or "none" (neither is
    available: the launch is refused with the open-in-a-new-window page).
    """

    kind: str
    state: str
    record: dict[str, Any]


class CoachlabOIDCLogin(FlaskOIDCLogin):
    """pylti1p3's login, which also records the state it issued together with its nonce,
    a browser-binding secret, the platform's storage target and the login parameters."""

    coachlab_state: str = ""

    def _prepare_redirect_url(self, launch_url: str) -> str:
        url: str = super()._prepare_redirect_url(launch_url)
        state, nonce = state_and_nonce(url)
        storage = self._launch_data_storage
        if not isinstance(storage, CookielessCacheStorage):
            raise LtiException("the login needs the cookieless cache storage")
        parts = urlsplit(url)
        storage.remember_state(
            state, nonce,
            binding=secrets.token_urlsafe(24),
            storage_target=str(flask_request.values.get(STORAGE_TARGET) or ""),
            platform_origin=f"{parts.scheme}://{parts.netloc}",
            login={name: str(flask_request.values[name]) for name in LOGIN_PARAMS
                   if flask_request.values.get(name)},
        )
        self.coachlab_state = state
        return url


class CoachlabMessageLaunch(FlaskMessageLaunch):
    """pylti1p3's launch with the state checked against the server-side record of the login,
    and a refetch of the platform's key set when a cached one lacks the token's key."""

    _expected_nonce: str | None = None
    binding: Binding | None = None

    def get_public_key(self) -> tuple[Any, str]:
        """The platform key for this token, parsed once per process; a fetched key set is
        kept in this process for KEY_SET_CACHE_SECONDS (and in the shared cache, which
        pylti1p3 reads on a miss), and fetched again once when it lacks the token's key
        (the platform rotated its keys)."""
        registration = self._registration
        assert registration is not None, "Registration not yet set"
        header = self._jwt.get("header", {})
        kid, alg = header.get("kid"), header.get("alg")
        if not kid:
            raise LtiException("JWT KID not found")
        if not alg:
            raise LtiException("JWT ALG not found")
        inline = registration.get_key_set()
        if inline:
            return _key_from_set(inline, kid, alg), alg
        url = registration.get_key_set_url()
        if not url or not url.startswith(("http://", "https://")):
            raise LtiException(f"Invalid URL: {url}")
        key_sets = _process_key_sets()
        key_set = key_sets.get(url)
        if key_set is None:
            key_set = self.fetch_public_key(url)
            key_sets.put(url, key_set)
        try:
            return _key_from_set(key_set, kid, alg), alg
        except LtiException as error:
            if "Unable to find public key" not in str(error):
                raise
        # The platform rotated its keys since we cached its set: drop the stale copies.
        key_sets.drop(url)
        storage = self._public_key_cache_data_storage
        if storage is not None:
            with DisableSessionId(storage):
                storage.set_value(
                    "key-set-url-" + hashlib.md5(url.encode("utf-8")).hexdigest(), None, 1
                )
        key_set = self.fetch_public_key(url)
        key_sets.put(url, key_set)
        return _key_from_set(key_set, kid, alg), alg

    def save_launch_data(self) -> CoachlabMessageLaunch:
        """pylti1p3's two writes (the launch data, the state's token hash) in one round trip,
        for staff launches only: the instructor pages read the launch data back (the LMS
        product); nothing reads a learner's, so a learner's launch skips the write."""
        from lti_tool.lti.claims import ROLES, is_staff

        roles = self._jwt["body"].get(ROLES)
        if not is_staff(roles if isinstance(roles, list) else []):
            return self
        service = self._session_service
        storage = service.data_storage
        if not isinstance(storage, CookielessCacheStorage):
            raise LtiException("the launch needs the cookieless cache storage")
        state = self._get_request_param("state")
        storage.set_many({
            service._get_key(self._launch_id, add_prefix=False): self._jwt["body"],
            service._get_key(state + "-id-token-hash"): self._get_id_token_hash(),
        }, service._launch_data_lifetime)
        return self

    def validate_jwt_signature(self) -> CoachlabMessageLaunch:
        """pylti1p3's signature check, tolerating a platform clock up to CLOCK_LEEWAY_SECONDS
        fast or slow on iat, nbf and exp (pylti1p3 allows none: an LMS one second ahead
        would be refused 'The token is not yet valid (iat)')."""
        import jwt

        public_key, key_alg = self.get_public_key()
        try:
            jwt.decode(
                self._get_id_token(), public_key, algorithms=[key_alg],
                options=self._jwt_verify_options,  # type: ignore[arg-type]
                leeway=float(current_app.config["CLOCK_LEEWAY_SECONDS"]),
            )
        except jwt.InvalidTokenError as error:
            raise LtiException(f"Can't decode id_token: {error}") from error
        return self

    def validate_state(self) -> CoachlabMessageLaunch:
        """The posted state must be one our login issued in the last five minutes and no
        launch has used yet; this launch uses it up."""
        state = self._get_request_param("state")
        if not state:
            raise LtiException("Missing state param")
        storage = self._session_service.data_storage
        if not isinstance(storage, CookielessCacheStorage):
            raise LtiException("the launch needs the cookieless cache storage")
        record = storage.take_login_record(state)
        if not record or not record.get("nonce"):
            raise LtiException("State not found")
        self._expected_nonce = str(record["nonce"])
        self.binding = Binding(kind=_binding_kind(state, record), state=state, record=record)
        return self

    def validate_nonce(self) -> CoachlabMessageLaunch:
        """The token's nonce must be the one issued with the state. validate_state used the
        state up, so the nonce is accepted this once."""
        nonce = self._get_jwt_body().get("nonce")
        if not nonce:
            raise LtiException('"nonce" is empty')
        if nonce != self._expected_nonce:
            raise LtiException("Nonce does not match state")
        return self

    def validate_jwt_format(self) -> CoachlabMessageLaunch:
        """pylti1p3's format check, then the claims' JSON types before anything uses them."""
        from lti_tool.security import check_claim_shapes

        super().validate_jwt_format()
        check_claim_shapes(dict(self._get_jwt_body()))
        return self

    def validate_message(self) -> CoachlabMessageLaunch:
        """Claim shapes, azp and the login's platform first, then pylti1p3's own checks."""
        from lti_tool.security import check_claims

        record = self.binding.record if self.binding is not None else {}
        check_claims(dict(self._get_jwt_body()), record.get("login") or {})
        super().validate_message()
        return self



class _KeySets:
    """Platform key sets fetched over HTTP, kept in this process until they expire."""

    def __init__(self, lifetime: float) -> None:
        self.lifetime = lifetime
        self._lock = threading.Lock()
        self._sets: dict[str, tuple[float, Any]] = {}

    def get(self, url: str) -> Any:
        """The key set of `url` while it is fresh, else None."""
        with self._lock:
            found = self._sets.get(url)
        if found is None or found[0] < time.monotonic():
            return None
        return found[1]

    def put(self, url: str, key_set: Any) -> None:
        """Keep `key_set` for `lifetime` seconds."""
        with self._lock:
            self._sets[url] = (time.monotonic() + self.lifetime, key_set)

    def drop(self, url: str) -> None:
        """Forget the key set of `url` (the platform rotated its keys)."""
        with self._lock:
            self._sets.pop(url, None)


def _process_key_sets() -> _KeySets:
    key_sets: _KeySets | None = current_app.extensions.get("coachlab_key_sets")
    if key_sets is None:
        key_sets = current_app.extensions.setdefault(
            "coachlab_key_sets", _KeySets(float(current_app.config["KEY_SET_CACHE_SECONDS"])))
    return key_sets


_PARSED_KEYS: dict[str, Any] = {}
"""JWK (as canonical JSON) -> the parsed public key: parsing costs more than verifying."""
_PARSED_KEYS_LIMIT = 256


def _key_from_set(key_set: Any, kid: str, alg: str) -> Any:
    """The parsed public key of `key_set` with this kid and alg; LtiException when none."""
    import jwt

    keys = key_set.get("keys") if isinstance(key_set, dict) else None
    for jwk in keys or []:
        if not isinstance(jwk, dict):
            continue
        if jwk.get("kid") and jwk.get("kid") == kid and jwk.get("alg", "RS256") == alg:
            canonical = json.dumps(jwk, sort_keys=True)
            found = _PARSED_KEYS.get(canonical)
            if found is None:
                try:
                    found = jwt.PyJWK(jwk, algorithm=alg).key
                except (jwt.PyJWKError, ValueError, TypeError, KeyError) as error:
                    raise LtiException("Can't convert JWT key to PEM format") from error
                if len(_PARSED_KEYS) >= _PARSED_KEYS_LIMIT:
                    _PARSED_KEYS.clear()
                _PARSED_KEYS[canonical] = found
            return found
    raise LtiException("Unable to find public key")

def _binding_kind(state: str, record: dict[str, Any]) -> str:
    """Which proof ties this launch to the browser that ran the login (see Binding)."""
    cookies = flask_request.cookies
    if cookies.get("lti1p3-" + state) == state:
        return "cookie"
    if any(name.startswith(STATE_COOKIE_PREFIX) for name in cookies):
        # This browser keeps our state cookies, yet has none for this state: the login was
        # started elsewhere and the launch forced into this browser (login CSRF).
        raise LaunchRejected(
            "State mismatch: this browser did not start the login this launch belongs to "
            "(its state cookie is missing). Start the activity again from your course."
        )
    return "storage" if record.get("storage_target") else "none"


def tool_keys() -> KeyPair:
    """The tool's key pair (loaded or generated by the app factory)."""
    keys: KeyPair = current_app.extensions["coachlab_keys"]
    return keys


_http = threading.local()


def http_session() -> requests.Session:
    """The HTTP session pylti1p3 uses to reach platforms (tests route it into the app): one
    per thread, kept, since a launch rarely fetches anything (key sets are cached) and a new
    requests.Session per launch cost more than the rest of the key handling."""
    factory = current_app.config.get("HTTP_SESSION_FACTORY")
    if factory is not None:
        made: requests.Session = factory()
        return made
    session: requests.Session | None = getattr(_http, "session", None)
    if session is None:
        session = _http.session = requests.Session()
        session.headers["User-Agent"] = "coachlab (pylti1p3)"
        # Shared by every platform this thread talks to: keep no cookies from any of them.
        session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    return session


def init_app(app: Flask) -> None:
    """The process's registration cache, cleared by this app's writes to registrations."""
    from lti_tool.db import database

    cache = RegistrationCache(float(app.config["REGISTRATION_CACHE_SECONDS"]))
    cache.install(database(app).sessions)
    app.extensions["coachlab_registrations"] = cache


def registration_cache() -> RegistrationCache:
    """The app's registration cache (see RegistrationCache)."""
    cache: RegistrationCache = current_app.extensions["coachlab_registrations"]
    return cache


def tool_conf() -> DbToolConf:
    """The database-backed tool configuration for this request."""
    return DbToolConf(get_session(), tool_keys(), registration_cache())


def launch_storage() -> CookielessCacheStorage:
    """pylti1p3 launch data storage in the shared cache."""
    return CookielessCacheStorage(get_cache())


def start_login(launch_url: str) -> Any:
    """Answer an OIDC login initiation with the redirect to the platform's auth endpoint
    (with the state cookie); when the platform offers client-side storage, with a page that
    stores the state there first and then goes on to the same URL."""
    from flask import make_response, render_template

    request = FlaskRequest()
    login = CoachlabOIDCLogin(
        request,
        tool_conf(),
        session_service=StateBoundNonceSessionService(request),
        launch_data_storage=launch_storage(),
    )
    if not flask_request.values.get(STORAGE_TARGET):
        return login.redirect(launch_url)
    redirect_obj = login.get_redirect_object(launch_url)
    auth_url = redirect_obj.get_redirect_url()
    record = launch_storage().login_record(login.coachlab_state) or {}
    response = make_response(render_template(
        "lti/client_storage.html", mode="put", key=storage_key(login.coachlab_state),
        value=record.get("binding", ""), target=record.get("storage_target", ""),
        origin=record.get("platform_origin", ""), next_url=auth_url,
    ))
    login._cookie_service.update_response(response)
    return response


def storage_key(state: str) -> str:
    """The key the state's binding secret is stored under in the platform's storage."""
    return f"coachlab-{state}"


def validate_launch() -> tuple[dict[str, Any], str, Binding]:
    """Validate the posted id_token; return its claims, pylti1p3's launch id and how the
    launch is bound to the browser."""
    request = FlaskRequest()
    storage = launch_storage()
    message_launch = CoachlabMessageLaunch(
        request,
        tool_conf(),
        session_service=StateBoundNonceSessionService(request),
        launch_data_storage=storage,
        requests_session=http_session(),
    )
    # Without this pylti1p3 fetches the platform's key set on every single launch.
    message_launch.set_public_key_caching(
        storage, cache_lifetime=current_app.config["KEY_SET_CACHE_SECONDS"]
    )
    body = dict(message_launch.get_launch_data())
    binding = message_launch.binding
    assert binding is not None  # validate_state ran, or get_launch_data raised
    return body, message_launch.get_launch_id(), binding
