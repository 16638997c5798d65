"""The Flask application: LTI 1.3, persistence, views, CLI and grade sync."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, redirect, url_for
from flask.typing import ResponseReturnValue
from werkzeug.middleware.proxy_fix import ProxyFix

from lti_tool import cache, db, ops, privacy, security
from lti_tool.config import ensure_secret_key, load_config
from lti_tool.errors import ConfigError, register_error_handlers
from lti_tool.keys import KeyFileError, load_key_ring


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: defaults, then COACHLAB_* variables, then `test_config`."""
    app = Flask(__name__)
    app.config.from_mapping(load_config(test_config=test_config))
    security.check_production(app)
    data_dir = Path(app.config["DATA_DIR"])
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = ensure_secret_key(data_dir)
    try:
        key_ring = load_key_ring(data_dir, str(app.config["TOOL_PRIVATE_KEY"]))
    except KeyFileError as error:
        raise ConfigError(str(error)) from None
    app.extensions["coachlab_keys"] = key_ring.current
    app.extensions["coachlab_key_ring"] = key_ring
    if app.config["PROXIES"]:
        # Behind a TLS-terminating proxy, request.is_secure must see the original https.
        n = int(app.config["PROXIES"])
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n
        )

    db.init_app(app)
    cache.init_app(app)
    from lti_tool.lti import launch as lti_launch

    lti_launch.init_app(app)
    ops.init_app(app)
    register_error_handlers(app)
    security.init_app(app)
    privacy.init_app(app)

    from lti_tool import admin, instructor, learner
    from lti_tool.lti import picker, registration
    from lti_tool.lti import views as lti_views

    app.register_blueprint(lti_views.bp)
    app.register_blueprint(picker.bp)
    app.register_blueprint(registration.bp)
    app.register_blueprint(learner.bp)
    app.register_blueprint(instructor.bp)
    app.register_blueprint(admin.bp)
    if app.config["DEMO"]:
        from lti_tool import demo_lms

        app.register_blueprint(demo_lms.bp)
    security.limit_launch_endpoints(app)

    @app.get("/")
    def index() -> ResponseReturnValue:
        if app.config["DEMO"]:
            return redirect(url_for("demo_lms.home"))
        return redirect(url_for("lti.about"))

    return app
