"""pylti1p3 state kept server-side, so login and launch work in a cross-origin iframe.

pylti1p3 binds the nonce to a `lti1p3-session-id` cookie and the state to a `lti1p3-state-*`
cookie. Inside an LMS iframe those are third-party cookies, which browsers block (or never set
over plain HTTP). Instead the login stores the state with the nonce it issued in the shared
cache; the launch must post that state and a token carrying that very nonce, and each nonce is
accepted once. The state is thereby bound to the token, and replays fail.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from flask_caching import Cache
from pylti1p3.contrib.flask.launch_data_storage.cache import FlaskCacheDataStorage
from pylti1p3.contrib.flask.session import FlaskSessionService
from pylti1p3.exception import LtiException

STATE_LIFETIME = 5 * 60
"""Seconds between the OIDC login and the launch it leads to (pylti1p3 uses the same)."""


class CookielessCacheStorage(FlaskCacheDataStorage):
    """Launch data storage in the Flask cache that never relies on a session cookie."""

    def __init__(self, cache: Cache) -> None:
        super().__init__(cache)
        self._coachlab_cache = cache

    def get_session_cookie_name(self) -> str | None:
        """No session cookie: keys are random nonces, launch ids and states (unguessable)."""
        return None

    def consume(self, key: str) -> bool:
        """Delete `key`; True only for the one caller that found it (single use)."""
        return bool(self._coachlab_cache.delete(self._prepare_key(key)))

    def set_many(self, values: dict[str, Any], exp: int | None = None) -> None:
        """Write several values in one round trip (a Redis pipeline)."""
        self._coachlab_cache.set_many(
            {self._prepare_key(key): value for key, value in values.items()}, exp)

    def remember_state(self, state: str, nonce: str, nonce_key: str | None = None,
                       **login: Any) -> None:
        """Record that this tool's login issued `state` together with `nonce` (and how the
        login reached us: `login` holds its storage target, binding secret and parameters);
        with `nonce_key`, the single-use nonce is written in the same round trip. Both live
        STATE_LIFETIME: a nonce is only accepted with its state, so it need not outlive it."""
        values: dict[str, Any] = {f"coachlab-state-{state}": {"nonce": nonce, **login}}
        if nonce_key is not None:
            values[nonce_key] = True
        self.set_many(values, STATE_LIFETIME)

    def login_record(self, state: str) -> dict[str, Any] | None:
        """What the login that issued `state` recorded; None when never issued here."""
        record = self.get_value(f"coachlab-state-{state}")
        return record if isinstance(record, dict) else None

    def nonce_for_state(self, state: str) -> Any:
        """The nonce issued with `state`; None when never issued here (or too long ago)."""
        record = self.login_record(state)
        return record.get("nonce") if record else None


class SingleUseNonceSessionService(FlaskSessionService):
    """pylti1p3's session service, except that a nonce is accepted once (replays fail), and
    the login's nonce is written together with its state (one round trip, see
    CookielessCacheStorage.remember_state). A nonce never written fails closed."""

    _deferred_nonce_key: str | None = None

    def save_nonce(self, nonce: str) -> None:
        """Hold the nonce until the login records its state with it."""
        self._deferred_nonce_key = self._get_key("nonce", nonce)

    def take_deferred_nonce(self) -> str | None:
        """The key of the nonce the login issued (once)."""
        key, self._deferred_nonce_key = self._deferred_nonce_key, None
        return key

    def check_nonce(self, nonce: str) -> bool:
        """Consume the nonce: True the first time it is presented, False afterwards."""
        storage = self.data_storage
        if not isinstance(storage, CookielessCacheStorage):
            raise LtiException("single-use nonces need the cookieless cache storage")
        return storage.consume(self._get_key("nonce", nonce))


def state_and_nonce(auth_url: str) -> tuple[str, str]:
    """Read back the state and nonce pylti1p3 put into the platform's auth request URL."""
    query = parse_qs(urlsplit(auth_url).query)
    return query["state"][0], query["nonce"][0]
