"""The floor: the least a launch can do, to measure the tool against in the same run.

It issues a state and a nonce (kept in the same Redis as the tool), sets the state cookie,
verifies the same RS256 id_token (the platform's key fetched once per process), checks state,
cookie and nonce, and renders a tiny page. /submit writes one row and renders a tiny page.
Served by gunicorn with the tool's worker and thread counts:

    gunicorn 'bench.floor_app:create_floor_app()'
"""

from __future__ import annotations

import os
import secrets
import threading
from typing import Any
from urllib.parse import urlencode

import jwt
import redis
import requests
import sqlalchemy as sa
from flask import Flask, abort, make_response, redirect, render_template_string, request

PAGE = "<!doctype html><title>floor</title><p>Hello {{ name }}</p>"


def create_floor_app() -> Flask:
    """The floor app, configured from FLOOR_* variables."""
    app = Flask(__name__)
    store = redis.Redis.from_url(os.environ["FLOOR_REDIS_URL"])
    engine = sa.create_engine(os.environ["FLOOR_DATABASE_URL"], pool_pre_ping=True)
    table = os.environ.get("FLOOR_TABLE", "floor_answers")
    auth_url = os.environ["FLOOR_AUTH_URL"]
    jwks_url = os.environ["FLOOR_JWKS_URL"]
    keys: dict[str, Any] = {}
    lock = threading.Lock()

    def public_key(kid: str) -> Any:
        with lock:
            if kid not in keys:
                for jwk in requests.get(jwks_url, timeout=5).json()["keys"]:
                    keys[jwk["kid"]] = jwt.PyJWK(jwk).key
            return keys[kid]

    @app.get("/healthz")
    def healthz() -> Any:
        return "ok"

    @app.get("/lti/login")
    def login() -> Any:
        state, nonce = "state-" + secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        store.set(f"floor-state-{state}", nonce, ex=300)
        query = urlencode({"state": state, "nonce": nonce, "response_type": "id_token",
                           "redirect_uri": request.args["target_link_uri"],
                           "client_id": request.args["client_id"]})
        response = make_response(redirect(f"{auth_url}?{query}"))
        response.set_cookie("floor-" + state, state, max_age=300, httponly=True)
        return response

    @app.post("/lti/launch")
    def launch() -> Any:
        state = request.form["state"]
        token = request.form["id_token"]
        if request.cookies.get("floor-" + state) != state:
            abort(400)
        nonce = store.getdel(f"floor-state-{state}")
        header = jwt.get_unverified_header(token)
        body = jwt.decode(token, public_key(header["kid"]), algorithms=["RS256"],
                          options={"verify_aud": False})
        if nonce is None or body["nonce"] != nonce.decode():
            abort(400)
        return render_template_string(PAGE, name=body.get("name", ""))

    @app.post("/submit")
    def submit() -> Any:
        with engine.begin() as connection:
            connection.execute(sa.text(f"INSERT INTO {table} (learner, answer) VALUES (:l, :a)"),
                               {"l": request.form["learner"], "a": request.form["answer"]})
        return render_template_string(PAGE, name=request.form["learner"])

    return app
