"""The LAI Challenge Platform web application; `create_app` is its composition root.

The package is `lai_platform`, not `platform`: a top-level `platform` package would shadow
Python's standard `platform` module. Templates, static files and migrations ship inside it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from lai_platform import cli
from lai_platform.accounts.throttle import make_throttle
from lai_platform.api import api_bp
from lai_platform.config import Settings
from lai_platform.extensions import csrf, db, migrate
from lai_platform.jobs.pipeline import run_submission
from lai_platform.jobs.queues import make_job_queue
from lai_platform.jobs.rescoring import run_rescoring
from lai_platform.leaderboards.cache import PageCache
from lai_platform.leaderboards.ranking_job import run_ranking
from lai_platform.ops import logcontext
from lai_platform.ops.views import ops_bp
from lai_platform.runner import DockerExecutor, Executor
from lai_platform.runner.image_budget import image_budget_for
from lai_platform.services import Services
from lai_platform.storage import storage_from_url
from lai_platform.web import auth_bp, security, web_bp
from lai_platform.web.auth import load_logged_in_user
from lai_platform.web.markdown import render as render_markdown
from lai_platform.web.organize import organize_bp

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def create_app(
    settings: Settings | None = None,
    *,
    executor_factory: Callable[[], Executor] | None = None,
) -> Flask:
    """Build the app and its services. `executor_factory` makes the container executor on
    first use (tests pass a fake one; by default Docker, with the worker's image budget)."""
    settings = settings or Settings.from_env()
    executor_factory = executor_factory or functools.partial(
        DockerExecutor, image_budget=image_budget_for(settings))
    logcontext.install()  # log lines of a run carry its submission id
    app = Flask(__name__)  # templates/ and static/ beside this file
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SQLALCHEMY_DATABASE_URI=settings.database_url,
        SQLALCHEMY_ENGINE_OPTIONS=_engine_options(settings.database_url),
        # Uploads are streamed to disk by werkzeug, never held in memory; this caps the disk a
        # single request can fill before a phase's own (smaller) image limit is checked.
        MAX_CONTENT_LENGTH=settings.max_upload_bytes,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        WTF_CSRF_TIME_LIMIT=None,
    )
    protect_data_dir(settings)
    if settings.trusted_proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies,
                                x_proto=settings.trusted_proxies, x_host=settings.trusted_proxies)
    security.install(app)  # before CSRF: no body is read before its limit is set

    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS))
    csrf.init_app(app)
    app.extensions["lai"] = Services(
        settings=settings,
        storage=storage_from_url(settings.storage_url),
        jobs=make_job_queue(app, settings, run_submission, run_ranking, run_rescoring),
        executor_factory=executor_factory,
        pages=PageCache(settings.leaderboard_ttl_s),
        throttle=make_throttle(settings.broker_url),
    )

    app.before_request(load_logged_in_user)
    app.register_blueprint(auth_bp)
    app.register_blueprint(web_bp)
    app.register_blueprint(organize_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(ops_bp)  # /healthz, /metrics
    csrf.exempt(api_bp)  # the API authenticates with bearer tokens, not cookies
    app.jinja_env.filters["markdown"] = render_markdown
    cli.register(app)
    return app


def protect_data_dir(settings: Settings) -> None:
    """The data folder 0700, a SQLite database 0600: it holds password and token hashes."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    settings.data_dir.chmod(0o700)
    if settings.database_url.startswith("sqlite:///"):
        path = Path(settings.database_url.removeprefix("sqlite:///"))
        if path.parent.is_dir():
            path.touch(mode=0o600, exist_ok=True)
            path.chmod(0o600)


def _engine_options(url: str) -> dict:
    # Requests hold a connection only for short reads and writes (never while a body
    # streams), but a web worker has many threads: a roomy pool, and waiting for it.
    pool = {"pool_size": 10, "max_overflow": 20, "pool_timeout": 30}
    if url.startswith("sqlite"):
        # Worker threads and web requests share the file: wait for locks instead of failing.
        return {"connect_args": {"timeout": 30, "check_same_thread": False}, **pool}
    return {"pool_pre_ping": True, **pool}
