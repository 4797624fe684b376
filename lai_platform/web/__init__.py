"""Web pages for people: challenges, leaderboards, submissions, account."""

from flask import Blueprint, flash, redirect, render_template, request

from lai_platform.errors import PlatformError

web_bp = Blueprint("web", __name__)


@web_bp.app_errorhandler(PlatformError)
def platform_error(exc: PlatformError):
    if request.blueprint == "api":  # the API's own handler answers in JSON
        raise exc
    if request.method == "POST" and request.referrer:
        flash(exc.message, "error")
        return redirect(request.referrer)
    return render_template("error.html", message=exc.message), exc.status


from lai_platform.web import account, challenges, submissions  # noqa: E402, F401
