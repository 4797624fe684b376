"""The organizer's desk: the challenges one organizes, a challenge's overview, its roles and
its audit log."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for

from lai_platform.accounts.users import find_user
from lai_platform.audit import events_of, record
from lai_platform.challenges.roles import Permission, Role, organized_by, roles_in, set_role
from lai_platform.errors import PlatformError
from lai_platform.extensions import db
from lai_platform.models import Challenge
from lai_platform.web.organize.access import organizer_page, signed_in_page
from lai_platform.web.organize.blueprint import organize_bp


@organize_bp.get("/")
@signed_in_page
def desk():
    return render_template("organize/desk.html", challenges=organized_by(g.user))


@organize_bp.get("/<slug>/")
@organizer_page(Permission.VIEW)
def overview(challenge: Challenge):
    return render_template("organize/overview.html", challenge=challenge)


@organize_bp.get("/<slug>/roles")
@organizer_page(Permission.VIEW)
def roles(challenge: Challenge):
    return render_template("organize/roles.html", challenge=challenge,
                           roles=roles_in(challenge), choices=[r.value for r in Role])


@organize_bp.post("/<slug>/roles")
@organizer_page(Permission.MANAGE)
def set_role_page(challenge: Challenge):
    email = request.form.get("email", "").strip()
    role = request.form.get("role") or None
    user = find_user(email)
    if user is None:
        raise PlatformError("unknown_account",
                            f"No account for {email!r}: the person must register first.", 400)
    before, after = set_role(challenge, user, role, g.user)
    record(g.user, challenge, "role.set", user.email, {"role": before}, {"role": after})
    db.session.commit()
    flash(f"{user.email}: {after or 'no role'} in this challenge.", "success")
    return redirect(url_for("organize.roles", slug=challenge.slug))


@organize_bp.get("/<slug>/audit")
@organizer_page(Permission.VIEW)
def audit(challenge: Challenge):
    before_id = request.args.get("before", type=int)
    return render_template("organize/audit.html", challenge=challenge,
                           events=events_of(challenge, 200, before_id))
