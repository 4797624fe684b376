"""Errors a person can act on, shown on the page they came from or an error page."""

from flask import flash, redirect, render_template, request

from lai_platform.errors import PlatformError
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
