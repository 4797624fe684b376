"""Every API error is JSON: {"error": {"code": ..., "message": ...}}."""

import json
import logging

from flask import jsonify, request
from sqlalchemy.exc import IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException

from lai_platform.api.blueprint import api_bp
from lai_platform.errors import PlatformError, conflict
from lai_platform.extensions import db

log = logging.getLogger(__name__)


def error_response(code: str, message: str, status: int):
    return jsonify({"error": {"code": code, "message": message}}), status


@api_bp.errorhandler(PlatformError)
def platform_error(exc: PlatformError):
    if exc.details:
        return jsonify(exc.details | {"error": {"code": exc.code, "message": exc.message}}), \
            exc.status
    return error_response(exc.code, exc.message, exc.status)


@api_bp.errorhandler(IntegrityError)
def integrity_error(exc: IntegrityError):
    db.session.rollback()
    return platform_error(conflict())


@api_bp.app_errorhandler(HTTPException)
def http_error(exc: HTTPException):
    # Registered app-wide so that unknown /api/ URLs (no blueprint matched) answer JSON too.
    if not request.path.startswith(api_bp.url_prefix + "/"):
        return exc
    code = (exc.name or "error").lower().replace(" ", "_")
    return error_response(code, exc.description or exc.name, exc.code or 500)


@api_bp.errorhandler(OperationalError)
def database_unreachable(exc: OperationalError):
    # A database restart or failover: nothing was committed; the pool reconnects by itself.
    db.session.rollback()
    log.warning("database unreachable on %s: %s", request.path, exc.orig)
    return error_response("database_unavailable", "The platform's database is not answering "
                          "right now; nothing was saved. Try again in a minute.", 503)


@api_bp.errorhandler(Exception)
def unexpected(exc: Exception):
    if isinstance(exc, HTTPException):
        return http_error(exc)
    log.exception("API error on %s", request.path)
    return error_response("internal_error", "The platform failed on this request; it has "
                          "been logged. Try again later.", 500)


def json_object() -> dict:
    """The request body as a JSON object, or a 400 that says what is wrong with it."""
    try:
        body = json.loads(request.get_data(cache=True) or b"null")
    except (ValueError, RecursionError):  # RecursionError: nested too deeply
        raise PlatformError("bad_json", "The body is not valid JSON (or is nested too "
                            "deeply).") from None
    if not isinstance(body, dict):
        raise PlatformError("bad_request", "Send a JSON object as the body.")
    return body
