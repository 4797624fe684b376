"""Errors a person can act on, shown on the page they came from or an error page."""

from flask import flash, redirect, render_template, request

from lai_platform.errors import PlatformError
from lai_platform.web.blueprint import web_bp


@web_bp.app_errorhandler(PlatformError)
def platform_error(exc: PlatformError):
    if request.blueprint == "api":  # the API's own handler answers in JSON
        raise exc
    if request.method == "POST" and request.referrer:
        flash(exc.message, "error")
        return redirect(request.referrer)
    return render_template("error.html", message=exc.message), exc.status
