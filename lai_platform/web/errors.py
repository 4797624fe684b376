"""Errors a person can act on, shown on the page they came from or an error page."""

from flask import flash, redirect, render_template, request
from sqlalchemy.exc import IntegrityError

from lai_platform.errors import PlatformError, conflict
from lai_platform.extensions import db
from lai_platform.web.blueprint import web_bp
from lai_platform.web.security import same_origin_referrer


@web_bp.app_errorhandler(PlatformError)
def platform_error(exc: PlatformError):
    if request.blueprint == "api":  # the API's own handler answers in JSON
        raise exc
    back = same_origin_referrer() if request.method == "POST" else None
    if back:
        flash(exc.message, "error")
        return redirect(back)
    return render_template("error.html", message=exc.message), exc.status


@web_bp.app_errorhandler(IntegrityError)
def integrity_error(exc: IntegrityError):
    db.session.rollback()
    if request.blueprint == "api":
        raise exc
    return platform_error(conflict())
