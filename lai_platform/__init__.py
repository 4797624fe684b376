"""The LAI Challenge Platform web application (Flask app factory).

The package is `lai_platform`, not `platform`: a top-level `platform` package would shadow
Python's standard `platform` module.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from lai_platform.config import Settings

ROOT = Path(__file__).resolve().parent.parent


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SQLALCHEMY_DATABASE_URI=settings.database_url,
        SQLALCHEMY_ENGINE_OPTIONS=_engine_options(settings.database_url),
        # Uploads are streamed to disk by werkzeug, never held in memory; this caps the disk a
        # single request can fill before a phase's own (smaller) image limit is checked.
        MAX_CONTENT_LENGTH=settings.max_upload_bytes,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=None,
        LAI_SETTINGS=settings,
    )
    settings.data_dir.mkdir(parents=True, exist_ok=True)

    from lai_platform import cli, markdown, services
    from lai_platform.api import api_bp
    from lai_platform.auth import auth_bp, load_logged_in_user
    from lai_platform.extensions import csrf, db, migrate
    from lai_platform.web import web_bp

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    csrf.init_app(app)
    services.init_app(app, settings)

    app.before_request(load_logged_in_user)
    app.register_blueprint(auth_bp)
    app.register_blueprint(web_bp)
    app.register_blueprint(api_bp)
    csrf.exempt(api_bp)  # the API authenticates with bearer tokens, not cookies
    app.jinja_env.filters["markdown"] = markdown.render
    cli.register(app)
    return app


def _engine_options(url: str) -> dict:
    if url.startswith("sqlite"):
        # Worker threads and web requests share the file: wait for locks instead of failing.
        return {"connect_args": {"timeout": 30, "check_same_thread": False}}
    return {"pool_pre_ping": True}
