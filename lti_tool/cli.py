"""The `coachlab` command: serve, worker, db upgrade, platform add/list/remove, content, grade,
regrade."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from flask import Flask
from flask.cli import ScriptInfo

from course.cli import content_group
from graders.cli import grade_command
from lti_tool import create_app, db
from lti_tool.errors import LtiToolError
from lti_tool.keys import KeyFileError, load_key_ring, retire_keys, rotate_keys
from lti_tool.platforms import (
    PlatformSpec,
    add_deployment,
    add_platform,
    find_platform,
    list_platforms,
    remove_deployment,
    remove_platform,
)


def _app(ctx: click.Context, **overrides: Any) -> Flask:
    """The app given by the caller (tests pass one), else one built from the environment."""
    obj = ctx.find_object(ScriptInfo)
    if obj is not None:
        return obj.load_app()
    if isinstance(ctx.obj, Flask):
        return ctx.obj
    try:
        return create_app(overrides or None)
    except LtiToolError as error:
        raise click.ClickException(error.message) from None


@click.group()
def main() -> None:
    """coachlab: an LTI 1.3 tool that teaches sales managers to coach."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.option("--demo", is_flag=True, help="Mount the built-in demo LMS and register it.")
@click.option("--production", is_flag=True,
              help="Serve with gunicorn (lti_tool/gunicorn_conf.py) instead of the development "
                   "server; see docs/deploy.md.")
@click.option("--workers", type=int, default=None,
              help="gunicorn worker processes (--production; default COACHLAB_WORKERS or 2).")
@click.option("--threads", type=int, default=None,
              help="Threads per worker (--production; default COACHLAB_THREADS or 4).")
def serve(host: str, port: int, demo: bool, production: bool, workers: int | None,
          threads: int | None) -> None:
    """Serve the tool (migrates the database first): the development server, or gunicorn
    with --production."""
    import os

    if production:
        _serve_production(host, port, demo, workers, threads)
        return
    overrides: dict[str, Any] = {}
    if demo:
        overrides["DEMO"] = True
    if not os.environ.get("COACHLAB_BASE_URL"):
        # Listening on every interface still needs one address a browser can open.
        public_host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
        overrides["BASE_URL"] = f"http://{public_host}:{port}"
    try:
        app = create_app(overrides)
    except LtiToolError as error:
        raise click.ClickException(error.message) from None
    from lti_tool.ops import configure_from_app

    configure_from_app(app)
    db.upgrade(app)
    base = app.config["BASE_URL"] or f"http://{host}:{port}"
    if app.config["DEMO"]:
        from lti_tool.demo_lms import register_demo_platform

        register_demo_platform(app)
        lms = base.replace("://127.0.0.1", "://localhost")
        click.echo(f"Demo LMS:    {lms}/demo/  (open this; the tool runs in its iframe)")
    click.echo(f"Tool:        {base}/lti/  (registration values)")
    click.echo(f"Canvas JSON: {base}/lti/config.json")
    if app.config["INPROCESS_WORKER"]:
        from lti_tool.outbox import start_background_worker

        start_background_worker(app)
        click.echo("Grades:      delivered by the in-process outbox worker")
    app.run(host=host, port=port, threaded=True, use_reloader=False)


def _serve_production(host: str, port: int, demo: bool, workers: int | None,
                      threads: int | None) -> None:
    """Migrate once (here, not in every worker), then replace this process with gunicorn."""
    import os
    import sys

    if demo:
        raise click.ClickException("--demo is for the development server; drop it or "
                                   "--production.")
    env = dict(os.environ)
    if workers is not None:
        env["COACHLAB_WORKERS"] = str(workers)
    if threads is not None:
        env["COACHLAB_THREADS"] = str(threads)
    env.setdefault("COACHLAB_BIND", f"{host}:{port}")
    # The web workers never deliver grades: `coachlab worker` runs as its own process.
    env["COACHLAB_INPROCESS_WORKER"] = "0"
    os.environ.update(env)
    try:
        app = create_app({"WORKERS": int(env.get("COACHLAB_WORKERS") or 2)})
    except LtiToolError as error:
        raise click.ClickException(error.message) from None
    db.upgrade(app)
    db.database(app).engine.dispose()
    click.echo(f"database at revision {db.current_revision(app)}; starting gunicorn on "
               f"{env['COACHLAB_BIND']}")
    sys.stdout.flush()
    os.execve(sys.executable, [
        sys.executable, "-m", "gunicorn", "-c", "python:lti_tool.gunicorn_conf",
        "lti_tool.wsgi:application()",
    ], env)


@main.command()
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit.")
@click.option("--interval", default=5.0, show_default=True, type=float,
              help="Seconds between polls of the outbox.")
@click.option("--retry-failed", is_flag=True, help="Queue grades that gave up again first.")
@click.pass_context
def worker(ctx: click.Context, once: bool, interval: float, retry_failed: bool) -> None:
    """Deliver queued grades to the LMSes (AGS) until stopped (SIGTERM or Ctrl-C)."""
    import signal
    import threading

    from lti_tool import outbox

    app = _app(ctx)
    if ctx.find_object(ScriptInfo) is None and not isinstance(ctx.obj, Flask):
        from lti_tool.ops import configure_from_app

        configure_from_app(app)
    stop = threading.Event()
    if retry_failed:
        with db.database(app).sessions() as session:
            click.echo(f"worker: {outbox.retry_failed(session)} failed grade(s) queued again")

    def request_stop(signum: int, _frame: object) -> None:
        click.echo(f"worker: signal {signum}, stopping after the current delivery")
        stop.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
    if int(app.config["RETENTION_DAYS"]) > 0:
        from lti_tool.privacy import purge_configured

        purged = purge_configured(app)
        click.echo(f"worker: retention purged {purged.attempts} attempt(s) older than "
                   f"{app.config['RETENTION_DAYS']} days")
    click.echo(f"worker: delivering grades{' once' if once else f' every {interval:g} s'}")
    handled = outbox.run_worker(app, interval=interval, stop=stop, once=once)
    click.echo(f"worker: stopped ({handled} outbox rows handled)")


@main.group("db")
def db_group() -> None:
    """Database schema commands."""


@db_group.command("upgrade")
@click.pass_context
def db_upgrade(ctx: click.Context) -> None:
    """Apply the migrations (creates the SQLite file on first use)."""
    app = _app(ctx)
    db.upgrade(app)
    click.echo(f"database at revision {db.current_revision(app)}")


@db_group.command("rebuild-progress")
@click.pass_context
def db_rebuild_progress(ctx: click.Context) -> None:
    """Recompute the dashboard's learner summary from the attempts (safe at any time)."""
    from lti_tool import progress

    app = _app(ctx)
    with db.database(app).sessions() as session:
        count = progress.rebuild(session)
    click.echo(f"recomputed {count} learner row{'s' if count != 1 else ''}")


@main.group()
def platform() -> None:
    """Register LMS platforms with the tool."""


@platform.command("add")
@click.option("--issuer", required=True, help="The platform's issuer (iss), e.g. https://moodle.example.com")
@click.option("--client-id", required=True, help="The client id the platform gave the tool.")
@click.option("--deployment-id", "deployment_ids", multiple=True,
              help="A deployment id (repeat for several).")
@click.option("--any-deployment", is_flag=True,
              help="Trust this registration: accept any deployment id, recording new ones.")
@click.option("--auth-login-url", required=True, help="The platform's OIDC authentication URL.")
@click.option("--auth-token-url", required=True, help="The platform's OAuth2 access token URL.")
@click.option("--key-set-url", required=True, help="The platform's public keyset (JWKS) URL.")
@click.option("--audience", default=None, help="Token audience if not the token URL.")
@click.pass_context
def platform_add(ctx: click.Context, issuer: str, client_id: str, deployment_ids: tuple[str, ...],
                 auth_login_url: str, auth_token_url: str, key_set_url: str,
                 audience: str | None, any_deployment: bool) -> None:
    """Register a platform (or update it and add deployment ids)."""
    app = _app(ctx)
    spec = PlatformSpec(issuer=issuer, client_id=client_id, deployment_ids=deployment_ids,
                        auth_login_url=auth_login_url, auth_token_url=auth_token_url,
                        key_set_url=key_set_url, audience=audience,
                        allow_any_deployment=any_deployment)
    with db.database(app).sessions() as session:
        try:
            row = add_platform(session, spec)
        except LtiToolError as error:
            raise click.ClickException(error.message) from None
        session.commit()
        deployments = ", ".join(d.deployment_id for d in row.deployments)
        click.echo(f"registered {row.issuer} client {row.client_id} (deployments: {deployments})")


@platform.command("list")
@click.pass_context
def platform_list(ctx: click.Context) -> None:
    """List the registered platforms."""
    app = _app(ctx)
    with db.database(app).sessions() as session:
        rows = list_platforms(session)
        if not rows:
            click.echo("no platform registered; add one with `coachlab platform add`")
        for row in rows:
            deployments = ", ".join(d.deployment_id for d in row.deployments)
            if row.allow_any_deployment:
                deployments = f"any (seen: {deployments or 'none yet'})"
            click.echo(f"{row.issuer}\tclient {row.client_id}\tdeployments {deployments}\t"
                       f"keys {row.key_set_url or 'inline'}")


@platform.command("remove")
@click.option("--issuer", required=True)
@click.option("--client-id", default=None, help="Only this client id (default: all of the issuer).")
@click.pass_context
def platform_remove(ctx: click.Context, issuer: str, client_id: str | None) -> None:
    """Remove a registration with its users, courses, placements and attempts."""
    app = _app(ctx)
    with db.database(app).sessions() as session:
        try:
            count = remove_platform(session, issuer, client_id)
        except LtiToolError as error:
            raise click.ClickException(error.message) from None
        session.commit()
        click.echo(f"removed {count} registration(s) of {issuer}")


@main.command("regrade")
@click.option("--scenario", "scenario_id", default=None, help="Only attempts on this scenario id.")
@click.option("--placement", "placement_id", type=int, default=None,
              help="Only attempts on this placement (resource link row id).")
@click.option("--dry-run", is_flag=True, help="List how many attempts would be regraded.")
@click.pass_context
def regrade_command(ctx: click.Context, scenario_id: str | None, placement_id: int | None,
                    dry_run: bool) -> None:
    """Re-score graded attempts against the current scenario and grader versions."""
    from lti_tool import regrade

    app = _app(ctx)
    with app.app_context(), db.database(app).sessions() as session:
        ids = regrade.regrade_candidates(
            session, scenario_id, [placement_id] if placement_id is not None else None)
        if dry_run or not ids:
            click.echo(f"{len(ids)} attempt(s) would be regraded")
            return
        with click.progressbar(length=len(ids), label="Regrading") as bar:
            outcomes = regrade.regrade(session, ids, on_done=lambda _outcome: bar.update(1))
        changed = sum(1 for o in outcomes if o.changed)
        failed = [o for o in outcomes if o.error]
        for outcome in failed:
            click.echo(f"attempt {outcome.attempt_id}: {outcome.error}", err=True)
        click.echo(f"regraded {len(outcomes)} attempt(s): {changed} changed and resent, "
                   f"{len(failed)} failed")
        if failed:
            ctx.exit(1)


@platform.group("deployment")
def deployment_group() -> None:
    """List or unlist deployment ids of a registration."""


@deployment_group.command("add")
@click.option("--issuer", required=True)
@click.option("--client-id", default=None, help="Needed when the issuer has several.")
@click.argument("deployment_id")
@click.pass_context
def deployment_add(ctx: click.Context, issuer: str, client_id: str | None,
                   deployment_id: str) -> None:
    """Accept launches from DEPLOYMENT_ID of the registration."""
    app = _app(ctx)
    with db.database(app).sessions() as session:
        try:
            row = find_platform(session, issuer, client_id)
            added = add_deployment(session, row, deployment_id)
        except LtiToolError as error:
            raise click.ClickException(error.message) from None
        session.commit()
        click.echo(f"deployment {deployment_id} " + ("added" if added else "was listed already"))


@deployment_group.command("remove")
@click.option("--issuer", required=True)
@click.option("--client-id", default=None, help="Needed when the issuer has several.")
@click.argument("deployment_id")
@click.pass_context
def deployment_remove(ctx: click.Context, issuer: str, client_id: str | None,
                      deployment_id: str) -> None:
    """Stop accepting launches from DEPLOYMENT_ID (its data stays)."""
    app = _app(ctx)
    with db.database(app).sessions() as session:
        try:
            row = find_platform(session, issuer, client_id)
            remove_deployment(session, row, deployment_id)
        except LtiToolError as error:
            raise click.ClickException(error.message) from None
        session.commit()
        click.echo(f"deployment {deployment_id} removed")
        if row.allow_any_deployment:
            click.echo("note: this registration accepts any deployment; a new launch from it "
                       "lists it again")


@main.group()
def keys() -> None:
    """The tool's signing keys (published at /lti/jwks.json)."""


def _data_dir(ctx: click.Context) -> Path:
    return Path(_app(ctx).config["DATA_DIR"])


@keys.command("list")
@click.pass_context
def keys_list(ctx: click.Context) -> None:
    """Show the signing key and the previous keys still in the JWKS."""
    app = _app(ctx)
    # Read afresh: `keys rotate` may have changed the files since this app started.
    ring = load_key_ring(Path(app.config["DATA_DIR"]), str(app.config["TOOL_PRIVATE_KEY"]))
    source = "COACHLAB_TOOL_PRIVATE_KEY" if app.config["TOOL_PRIVATE_KEY"] else "data dir"
    click.echo(f"{ring.current.kid}\tcurrent (signs; from {source})")
    for key in ring.previous:
        click.echo(f"{key.kid}\tprevious (still in the JWKS)")


@keys.command("rotate")
@click.pass_context
def keys_rotate(ctx: click.Context) -> None:
    """Add a new signing key; the old one stays in the JWKS until `keys retire`."""
    ring = rotate_keys(_data_dir(ctx))
    click.echo(f"new signing key {ring.current.kid}; kept {len(ring.previous)} previous "
               "key(s) in the JWKS. Restart the tool's processes so they sign with it; "
               "retire the old key once platforms refetched the JWKS (a day is plenty).")


@keys.command("retire")
@click.option("--kid", default=None, help="Retire only this key (default: every previous key).")
@click.pass_context
def keys_retire(ctx: click.Context, kid: str | None) -> None:
    """Remove previous (non-signing) keys from the JWKS."""
    try:
        retired = retire_keys(_data_dir(ctx), kid)
    except KeyFileError as error:
        raise click.ClickException(str(error)) from None
    if not retired:
        click.echo("no previous key to retire")
    for retired_kid in retired:
        click.echo(f"retired {retired_kid}")
    if retired:
        click.echo("Restart the tool's processes so the JWKS they serve drops the key.")


@main.group("learner")
def learner_group() -> None:
    """Personal data of one learner."""


@learner_group.command("erase")
@click.option("--issuer", required=True, help="The learner's platform issuer (iss).")
@click.option("--subject", required=True, help="The learner's user id on that platform (sub).")
@click.option("--yes", is_flag=True, help="Erase without asking for confirmation.")
@click.pass_context
def learner_erase(ctx: click.Context, issuer: str, subject: str, yes: bool) -> None:
    """Erase one learner's name, email, answers and attempts (anonymised scores stay)."""
    from lti_tool.privacy import erase_learner

    app = _app(ctx)
    if not yes:
        click.confirm(f"Erase every answer and attempt of {subject} from {issuer}? "
                      "This cannot be undone", abort=True)
    with db.database(app).sessions() as session:
        try:
            erased = erase_learner(session, issuer, subject)
        except LtiToolError as error:
            raise click.ClickException(error.message) from None
    click.echo(f"erased learner {subject} of {issuer}: {erased.attempts} attempt(s), "
               f"{erased.answers} answer(s) removed; {erased.step_scores_kept} step score(s) "
               "kept without any link to the learner")


@main.group("retention")
def retention_group() -> None:
    """Delete data older than COACHLAB_RETENTION_DAYS."""


@retention_group.command("purge")
@click.option("--days", type=int, default=None,
              help="Override COACHLAB_RETENTION_DAYS for this run.")
@click.pass_context
def retention_purge(ctx: click.Context, days: int | None) -> None:
    """Delete attempts older than the retention period (anonymised scores stay)."""
    from lti_tool.privacy import purge_expired

    app = _app(ctx)
    keep_days = int(app.config["RETENTION_DAYS"]) if days is None else days
    if keep_days <= 0:
        click.echo("retention is off (COACHLAB_RETENTION_DAYS=0): nothing purged")
        return
    with db.database(app).sessions() as session:
        purged = purge_expired(session, keep_days)
    click.echo(f"purged {purged.attempts} attempt(s) older than {keep_days} days "
               f"({purged.answers} answer(s)); {purged.step_scores_kept} step score(s) kept "
               "anonymised")


main.add_command(content_group)
main.add_command(grade_command)

if __name__ == "__main__":
    main()
