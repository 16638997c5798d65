"""The WSGI entry point for production servers: `lti_tool.wsgi:application()` (a factory
call, so importing this module does nothing)."""

from __future__ import annotations

from flask import Flask

from lti_tool import create_app
from lti_tool.errors import LtiToolError
from lti_tool.ops import configure_from_app


def application() -> Flask:
    """Build the app from the environment, with the process's logs set up from its config."""
    try:
        app = create_app()
    except LtiToolError as error:
        # gunicorn shows this line and stops: the message says what to fix.
        raise SystemExit(f"coachlab: {error.message}") from None
    configure_from_app(app)
    return app
