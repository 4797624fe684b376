"""Accounts on the web: register, log in, log out; `g.user` for every request."""

from __future__ import annotations

import functools
from collections.abc import Callable

from flask import flash, g, redirect, render_template, request, session, url_for

from lai_platform.accounts.users import create_user, find_user
from lai_platform.extensions import db
from lai_platform.models import User
from lai_platform.web.blueprint import auth_bp


def load_logged_in_user() -> None:
    user_id = session.get("user_id")
    g.user = db.session.get(User, user_id) if user_id is not None else None


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
            user = create_user(
                request.form.get("email", ""),
                request.form.get("password", ""),
                request.form.get("display_name", ""),
            )
        except ValueError as exc:
            flash(str(exc), "error")
        else:
            db.session.commit()
            session.clear()
            session["user_id"] = user.id
            flash("Welcome! Your account is ready.", "success")
            return redirect(url_for("web.index"))
    return render_template("auth/register.html")


@auth_bp.route("/login", methods=("GET", "POST"))
def login():
    if request.method == "POST":
        user = find_user(request.form.get("email", ""))
        if user is None or not user.check_password(request.form.get("password", "")):
            flash("Wrong e-mail or password.", "error")
        else:
            session.clear()
            session["user_id"] = user.id
            return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html")


@auth_bp.route("/logout", methods=("POST",))
def logout():
    session.clear()
    return redirect(url_for("web.index"))


def _safe_next(target: str | None) -> str:
    # Only same-site paths: an open redirect would let a phishing link borrow our login page.
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("web.index")
