"""Every API error is JSON: {"error": {"code": ..., "message": ...}}."""

from flask import jsonify, request
from werkzeug.exceptions import HTTPException

from lai_platform.api.blueprint import api_bp
from lai_platform.errors import PlatformError


def error_response(code: str, message: str, status: int):
    return jsonify({"error": {"code": code, "message": message}}), status


@api_bp.errorhandler(PlatformError)
def platform_error(exc: PlatformError):
    return error_response(exc.code, exc.message, exc.status)


@api_bp.app_errorhandler(HTTPException)
def http_error(exc: HTTPException):
    # Registered app-wide so that unknown /api/ URLs (no blueprint matched) answer JSON too.
    if not request.path.startswith(api_bp.url_prefix + "/"):
        return exc
    code = (exc.name or "error").lower().replace(" ", "_")
    return error_response(code, exc.description or exc.name, exc.code or 500)
