"""The shared cache (Flask-Caching): in-process by default, Redis when COACHLAB_CACHE_URL is set.

The tool keeps login states (each with its nonce), staff launch data and platform key sets
here; with several workers or hosts it must be Redis so a login on one worker is known to the
launch on another.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import current_app
from flask_caching import Cache

from lti_tool.errors import ConfigError

if TYPE_CHECKING:
    from flask import Flask


def init_app(app: Flask) -> None:
    """Attach a Cache configured from CACHE_URL to the app."""
    url = app.config["CACHE_URL"]
    if url:
        settings = {"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": url,
                    "CACHE_KEY_PREFIX": "coachlab:"}
    else:
        workers = int(app.config.get("WORKERS") or 1)
        if workers > 1:
            raise ConfigError(
                f"{workers} workers are configured (COACHLAB_WORKERS or gunicorn's --workers) "
                "but the cache is in-process: a login stored by one worker is unknown to the "
                "worker that gets the launch, so about half of all launches would fail "
                "'State not found'. Set COACHLAB_CACHE_URL=redis://HOST:6379/0, or run one "
                "worker."
            )
        # The default SimpleCache threshold (500) would evict live login states under load.
        settings = {"CACHE_TYPE": "SimpleCache", "CACHE_THRESHOLD": 20000}
    cache = Cache()
    cache.init_app(app, config=settings)
    app.extensions["coachlab_cache"] = cache


def get_cache(app: Flask | None = None) -> Cache:
    """The Cache of this (or the current) app."""
    target = app if app is not None else current_app
    cache: Cache = target.extensions["coachlab_cache"]
    return cache
