"""Configuration: built-in defaults, then COACHLAB_* environment variables, then a test mapping.

Every setting has a default that gives the embedded single-process setup (SQLite in the data
directory, in-process cache, keys generated on first start). The README lists them all.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lti_tool.errors import ConfigError

ENV_PREFIX = "COACHLAB_"

DEFAULTS: dict[str, Any] = {
    "ENV": "development",
    "DATA_DIR": "coachlab-data",
    "DATABASE_URL": "",
    "CACHE_URL": "",
    "SECRET_KEY": "",
    "BASE_URL": "",
    "DEMO": False,
    "CONTENT_DIR": "",
    "LAUNCH_MAX_AGE": 8 * 3600,
    "KEY_SET_CACHE_SECONDS": 3600,
    "REGISTRATION_CACHE_SECONDS": 15.0,
    "POINTS": 100,
    "TOOL_TITLE": "coachlab",
    "PROXIES": 0,
    "ADMIN_SUBJECTS": "",
    "DYNAMIC_REGISTRATION": True,
    "DYNAMIC_REGISTRATION_HOSTS": "",
    "INPROCESS_WORKER": True,
    "WORKER_INTERVAL": 5.0,
    "AGS_TIMEOUT": 10.0,
    "OUTBOX_MAX_TRIES": 30,
    "OUTBOX_BACKOFF_SECONDS": 30.0,
    "OUTBOX_BACKOFF_MAX_SECONDS": 3600.0,
    "OUTBOX_LEASE_SECONDS": 120.0,
    # security (SECURITY.md)
    "PROXY_FIX": False,
    "DEBUG": False,
    "MAX_REQUEST_BYTES": 256 * 1024,
    "RATE_LIMIT": "120 per minute",
    "RATELIMIT_STORAGE_URL": "",
    "REDIS_URL": "",
    "FRAME_ANCESTORS": "",
    "RETENTION_DAYS": 0,
    # production (docs/deploy.md)
    "TOOL_PRIVATE_KEY": "",
    "WORKERS": 1,
    "CLOCK_LEEWAY_SECONDS": 60,
    "LOG_FORMAT": "text",
    "LOG_LEVEL": "INFO",
}
"""Setting name (without the COACHLAB_ prefix) -> default value; the type of the default is
the type an environment value is converted to. README.md documents each one."""

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _convert(name: str, raw: str, default: Any) -> Any:
    """Convert an environment string to the type of the setting's default."""
    if isinstance(default, bool):
        lowered = raw.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ConfigError(f"{ENV_PREFIX}{name}={raw!r} is not a boolean; use 1 or 0")
    if isinstance(default, float):
        try:
            return float(raw)
        except ValueError:
            raise ConfigError(f"{ENV_PREFIX}{name}={raw!r} is not a number (seconds)") from None
    if isinstance(default, int):
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"{ENV_PREFIX}{name}={raw!r} is not a whole number") from None
    return raw


def _raw_value(environ: Mapping[str, str], name: str) -> str | None:
    """COACHLAB_<NAME>, or the contents of the file COACHLAB_<NAME>_FILE names (Docker and
    Kubernetes secrets are files); both at once is a mistake worth refusing."""
    raw = environ.get(ENV_PREFIX + name)
    file_name = environ.get(f"{ENV_PREFIX}{name}_FILE")
    if file_name is None:
        return raw
    if raw is not None:
        raise ConfigError(
            f"Both {ENV_PREFIX}{name} and {ENV_PREFIX}{name}_FILE are set; keep one of them."
        )
    try:
        return Path(file_name).read_text(encoding="utf-8").strip()
    except OSError as error:
        raise ConfigError(
            f"{ENV_PREFIX}{name}_FILE={file_name!r} cannot be read ({error.strerror}); "
            "point it at a readable file holding the value."
        ) from None


def load_config(
    environ: Mapping[str, str] | None = None, test_config: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Layer the defaults, the COACHLAB_* environment and the test mapping; derive the rest."""
    environ = os.environ if environ is None else environ
    config: dict[str, Any] = dict(DEFAULTS)
    for name, default in DEFAULTS.items():
        raw = _raw_value(environ, name)
        if raw is not None:
            config[name] = _convert(name, raw, default)
    if test_config:
        config.update(test_config)
    if config["ENV"] not in ("development", "production"):
        raise ConfigError(
            f"{ENV_PREFIX}ENV={config['ENV']!r} is not known; use development or production"
        )
    data_dir = Path(config["DATA_DIR"]).expanduser().resolve()
    config["DATA_DIR"] = str(data_dir)
    if not config["DATABASE_URL"]:
        config["DATABASE_URL"] = f"sqlite:///{data_dir / 'coachlab.sqlite3'}"
    config["BASE_URL"] = str(config["BASE_URL"]).rstrip("/")
    if config["LOG_FORMAT"] not in ("text", "json"):
        raise ConfigError(
            f"{ENV_PREFIX}LOG_FORMAT={config['LOG_FORMAT']!r} is not known; use text or json"
        )
    return config


def ensure_secret_key(data_dir: Path) -> str:
    """Return the secret key stored in the data dir, creating it (mode 0600) when missing."""
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key)
    return key
