"""Accounts on the web: register, log in, log out; `g.user` for every request.

A browser session holds the account's session epoch; logging out, changing the password or
an admin's `users revoke-sessions` bumps it, and every older session ends at its next
request. Failed logins are throttled per account and per address.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from flask import flash, g, redirect, render_template, request, session, url_for

from lai_platform import services
from lai_platform.accounts.users import (
    AccountExists,
    authenticate,
    create_user,
    revoke_sessions,
)
from lai_platform.extensions import db
from lai_platform.models import User
from lai_platform.web.blueprint import auth_bp
from lai_platform.web.security import same_site_path


def load_logged_in_user() -> None:
    user_id = session.get("user_id")
    user = db.session.get(User, user_id) if user_id is not None else None
    if user is not None and session.get("epoch") != user.session_epoch:
        session.clear()  # signed out elsewhere, or revoked
        user = None
    g.user = user


def sign_in(user: User) -> None:
    session.clear()
    session["user_id"] = user.id
    session["epoch"] = user.session_epoch


def login_required(view: Callable) -> Callable:
    @functools.wraps(view)
    def wrapped(**kwargs):
        if g.user is None:
            return redirect(url_for("auth.login", next=request.path))
        return view(**kwargs)

    return wrapped


@auth_bp.route("/register", methods=("GET", "POST"))
def register():
    if request.method == "POST":
        try:
            create_user(
                request.form.get("email", ""),
                request.form.get("password", ""),
                request.form.get("display_name", ""),
            )
        except AccountExists:
            pass  # answered exactly like a new account: no one learns who has one
        except ValueError as exc:
            flash(str(exc), "error")
            return render_template("auth/register.html")
        db.session.commit()
        flash("If this address had no account, it has one now: log in with your password.",
              "success")
        return redirect(url_for("auth.login"))
    return render_template("auth/register.html")


@auth_bp.route("/login", methods=("GET", "POST"))
def login():
    if request.method == "POST":
        email, address = request.form.get("email", ""), request.remote_addr or ""
        throttle = services.get().throttle
        wait = throttle.wait_s(email, address)
        if wait:
            flash(f"Too many failed attempts: try again in {wait} s.", "error")
            return render_template("auth/login.html"), 429
        user = authenticate(email, request.form.get("password", ""))
        if user is None:
            throttle.failed(email, address)
            flash("Wrong e-mail or password.", "error")
        else:
            throttle.succeeded(email)
            sign_in(user)
            return redirect(same_site_path(request.args.get("next")) or url_for("web.index"))
    return render_template("auth/login.html")


@auth_bp.route("/logout", methods=("POST",))
def logout():
    if g.user is not None:
        revoke_sessions(g.user)  # a copy of this session's cookie stops working too
        db.session.commit()
    session.clear()
    return redirect(url_for("web.index"))
