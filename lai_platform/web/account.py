"""The account page: API tokens (shown once, stored hashed), password, e-mail notices."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for

from lai_platform import services
from lai_platform.accounts.users import set_password
from lai_platform.extensions import db
from lai_platform.models import ApiToken
from lai_platform.web.auth import login_required, sign_in
from lai_platform.web.blueprint import web_bp


@web_bp.get("/account")
@login_required
def account():
    tokens = [t for t in g.user.tokens if not t.revoked]
    return render_template("account.html", tokens=tokens, new_token=None,
                           mail_on=bool(services.get().settings.smtp_host))


@web_bp.post("/account/tokens")
@login_required
def create_token():
    row, token = ApiToken.issue(g.user, request.form.get("label", "")[:80])
    db.session.add(row)
    db.session.commit()
    tokens = [t for t in g.user.tokens if not t.revoked]
    return render_template("account.html", tokens=tokens, new_token=token,
                           mail_on=bool(services.get().settings.smtp_host))


@web_bp.post("/account/password")
@login_required
def change_password():
    if not g.user.check_password(request.form.get("current_password", "")):
        flash("The current password is not right.", "error")
        return redirect(url_for("web.account"))
    try:
        set_password(g.user, request.form.get("new_password", ""))
    except ValueError as exc:
        flash(str(exc), "error")
        return redirect(url_for("web.account"))
    db.session.commit()
    sign_in(g.user)  # this browser stays signed in; every other session ends
    flash("Password changed; other browsers are signed out.", "success")
    return redirect(url_for("web.account"))


@web_bp.post("/account/notifications")
@login_required
def set_notifications():
    g.user.notify_on_finish = request.form.get("notify_on_finish") == "yes"
    db.session.commit()
    flash("You will get an e-mail when a run of yours ends." if g.user.notify_on_finish
          else "No more e-mails when a run ends.", "success")
    return redirect(url_for("web.account"))


@web_bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    row = db.session.get(ApiToken, token_id)
    if row is not None and row.user_id == g.user.id:
        row.revoked = True
        db.session.commit()
        flash("Token revoked.", "success")
    return redirect(url_for("web.account"))
