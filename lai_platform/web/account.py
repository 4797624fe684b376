"""The account page: API tokens (shown once, stored hashed)."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for

from lai_platform.extensions import db
from lai_platform.models import ApiToken
from lai_platform.web.auth import login_required
from lai_platform.web.blueprint import web_bp


@web_bp.get("/account")
@login_required
def account():
    tokens = [t for t in g.user.tokens if not t.revoked]
    return render_template("account.html", tokens=tokens, new_token=None)


@web_bp.post("/account/tokens")
@login_required
def create_token():
    row, token = ApiToken.issue(g.user, request.form.get("label", "")[:80])
    db.session.add(row)
    db.session.commit()
    tokens = [t for t in g.user.tokens if not t.revoked]
    return render_template("account.html", tokens=tokens, new_token=token)


@web_bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    row = db.session.get(ApiToken, token_id)
    if row is not None and row.user_id == g.user.id:
        row.revoked = True
        db.session.commit()
        flash("Token revoked.", "success")
    return redirect(url_for("web.account"))
