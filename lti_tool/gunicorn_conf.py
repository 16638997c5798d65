"""gunicorn settings for production (`coachlab serve --production` uses this file).

    gunicorn -c python:lti_tool.gunicorn_conf 'lti_tool.wsgi:application()'

Every value can be changed with an environment variable (docs/deploy.md lists them); a
command-line option such as `--workers 4` still wins over this file.
"""

from __future__ import annotations

import os
import sys
from typing import Any


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "")
    try:
        return int(raw) if raw.strip() else default
    except ValueError:
        sys.exit(f"{name}={raw!r} is not a whole number")


bind = os.environ.get("COACHLAB_BIND", "127.0.0.1:8000").split()
workers = _int("COACHLAB_WORKERS", 2)
# Threads overlap the waits on PostgreSQL, Redis and the LMS; the GIL limits the CPU work to
# one core per worker, so size workers to cores and threads to waiting.
worker_class = "gthread"
threads = _int("COACHLAB_THREADS", 4)
timeout = _int("COACHLAB_TIMEOUT", 30)
graceful_timeout = _int("COACHLAB_GRACEFUL_TIMEOUT", 30)
# Behind a load balancer that reuses upstream connections, keep them open longer than the
# balancer's idle timeout (nginx: 60 s): if gunicorn closes first, a request the balancer
# sends on the closing connection is reset (the load test saw exactly that at 5 s).
keepalive = _int("COACHLAB_KEEPALIVE", 75)
# Recycle workers now and then (a slow leak never takes a host down); jitter staggers them.
max_requests = _int("COACHLAB_MAX_REQUESTS", 5000)
max_requests_jitter = max(1, max_requests // 10) if max_requests else 0
# The proxy's X-Forwarded-* headers are trusted by the app (COACHLAB_PROXIES), not here.
forwarded_allow_ips = os.environ.get("COACHLAB_FORWARDED_ALLOW_IPS", "127.0.0.1")
# The app logs every request with its request id; gunicorn's own access log would repeat it.
accesslog = os.environ.get("COACHLAB_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("COACHLAB_LOG_LEVEL", "info").lower()
proc_name = "coachlab"


def on_starting(server: Any) -> None:
    """Refuse several workers with the in-process cache before any worker starts; tell the
    workers how many they are (the app factory checks it again)."""
    from lti_tool.config import load_config
    from lti_tool.errors import ConfigError

    count = int(server.cfg.workers)
    os.environ["COACHLAB_WORKERS"] = str(count)
    try:
        config = load_config()
    except ConfigError as error:
        sys.exit(f"coachlab: {error.message}")
    if count > 1 and not config["CACHE_URL"]:
        sys.exit(
            f"coachlab: refusing to start {count} gunicorn workers with the in-process cache: "
            "a login stored by one worker is unknown to the worker that gets the launch. Set "
            "COACHLAB_CACHE_URL=redis://HOST:6379/0, or run one worker (--workers 1)."
        )
