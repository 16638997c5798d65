"""pylti1p3 state kept server-side, so login and launch work in a cross-origin iframe.

pylti1p3 binds the nonce to a `lti1p3-session-id` cookie and the state to a `lti1p3-state-*`
cookie. Inside an LMS iframe those are third-party cookies, which browsers block (or never set
over plain HTTP). Instead the login stores the state with the nonce it issued in the shared
cache; the launch must post that state and a token carrying that very nonce, and its first
launch consumes the state (Redis GETDEL). The state is thereby bound to the token, each nonce
is accepted once, and replays fail.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from cachelib.redis_base import BaseRedisCache
from cachelib.simple import SimpleCache
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

    def set_many(self, values: dict[str, Any], exp: int | None = None) -> None:
        """Write several values in one round trip (a Redis pipeline)."""
        self._coachlab_cache.set_many(
            {self._prepare_key(key): value for key, value in values.items()}, exp)

    def remember_state(self, state: str, nonce: str, **login: Any) -> None:
        """Record that this tool's login issued `state` together with `nonce` (and how the
        login reached us: `login` holds its storage target, binding secret and parameters),
        for STATE_LIFETIME. The nonce lives only in this record: a launch must carry the
        nonce of the state it posts, and a state is consumed by its first launch (see
        take_login_record), so each nonce is accepted once without a record of its own."""
        self._coachlab_cache.set(self._prepare_key(f"coachlab-state-{state}"),
                                 {"nonce": nonce, **login}, STATE_LIFETIME)

    def login_record(self, state: str) -> dict[str, Any] | None:
        """What the login that issued `state` recorded; None when never issued here."""
        record = self.get_value(f"coachlab-state-{state}")
        return record if isinstance(record, dict) else None

    def take_login_record(self, state: str) -> dict[str, Any] | None:
        """Like login_record, but the record is deleted in the same step: of several
        launches posting one state, only the first gets it (replays find nothing)."""
        record = take(self._coachlab_cache, self._prepare_key(f"coachlab-state-{state}"))
        return record if isinstance(record, dict) else None


def take(cache: Cache, key: str) -> Any:
    """Read and delete `key` atomically (Redis GETDEL: one round trip); None when absent.
    Two concurrent takers never both get the value."""
    backend = cache.cache
    if isinstance(backend, BaseRedisCache):
        raw = backend._write_client.getdel(f"{backend._get_prefix()}{key}")
        return backend.serializer.loads(raw)
    if isinstance(backend, SimpleCache):
        with backend._lock:
            value = backend.get(key)
            backend.delete(key)
            return value
    value = backend.get(key)
    # Other backends: the value counts only for the caller whose delete removed it.
    return value if backend.delete(key) else None


class StateBoundNonceSessionService(FlaskSessionService):
    """pylti1p3's session service, except that nonces are not stored apart: the login keeps
    the nonce in its state record (CookielessCacheStorage.remember_state), and the launch
    checks the token's nonce against the state it consumes (CoachlabMessageLaunch)."""

    def save_nonce(self, nonce: str) -> None:
        """Nothing to store: the state record carries the nonce."""

    def check_nonce(self, nonce: str) -> bool:
        """Never reached: CoachlabMessageLaunch.validate_nonce checks against the state."""
        raise LtiException("nonces are checked against their state record")


def state_and_nonce(auth_url: str) -> tuple[str, str]:
    """Read back the state and nonce pylti1p3 put into the platform's auth request URL."""
    query = parse_qs(urlsplit(auth_url).query)
    return query["state"][0], query["nonce"][0]
