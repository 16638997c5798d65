"""Absolute URLs of the tool's own endpoints (BASE_URL when configured, else the request)."""

from __future__ import annotations

from typing import Any

from flask import current_app, url_for


def tool_url(endpoint: str, **values: Any) -> str:
    """The public absolute URL of `endpoint`."""
    base = current_app.config["BASE_URL"]
    if base:
        return str(base + url_for(endpoint, **values))
    return str(url_for(endpoint, _external=True, **values))
