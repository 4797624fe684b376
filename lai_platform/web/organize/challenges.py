"""Organizer pages: creating a challenge (from scratch or a bundle upload), its texts, access
and e-mail allow-list (with a Markdown preview), announcements, and the bundle export."""

from __future__ import annotations

import secrets

from flask import flash, g, redirect, render_template, request, send_file, url_for

from lai_platform import services
from lai_platform.challenges.bundle_export import export_bundle
from lai_platform.challenges.checks import Invalid
from lai_platform.challenges.editing import (
    EDITABLE,
    add_announcement,
    announcements_of,
    create_challenge,
    create_from_archive,
    edit_challenge,
    settings_of,
)
from lai_platform.challenges.roles import Permission
from lai_platform.errors import PlatformError
from lai_platform.extensions import csrf
from lai_platform.models import Challenge
from lai_platform.submissions.uploads import receive
from lai_platform.web.markdown import render
from lai_platform.web.organize.access import organizer_page, platform_admin_page
from lai_platform.web.organize.blueprint import organize_bp
from lai_platform.web.submissions import _csrf_before_image

BUNDLE_UPLOAD_BYTES = 4 * 2**30  # the archive as sent; extraction has its own bound
NEW_FIELDS = ("slug", "title", "first_admin")


@organize_bp.get("/new")
@platform_admin_page
def new_challenge():
    return render_template("organize/new_challenge.html", form={})


@organize_bp.post("/new")
@platform_admin_page
def create_challenge_page():
    form = {name: request.form.get(name, "") for name in NEW_FIELDS}
    try:
        challenge = create_challenge(g.user, form)
    except Invalid as exc:
        return _form_errors(exc, "organize/new_challenge.html", form=form)
    flash(f"Challenge '{challenge.title}' created: add its phases next.", "success")
    return redirect(url_for("organize.settings", slug=challenge.slug))


@organize_bp.post("/new/bundle")
@csrf.exempt  # checked as the form streams in: the token field must precede the archive
@platform_admin_page
def upload_bundle_page():
    storage = services.get().storage
    key = f"uploads/bundles/{secrets.token_hex(16)}"
    try:
        received = receive(request.stream, request.content_type, storage, key,
                           min(BUNDLE_UPLOAD_BYTES, services.get().settings.max_upload_bytes),
                           check_field=_csrf_before_image())
        if received.key is None:
            raise PlatformError("bad_bundle", "Choose a bundle archive to upload.")
        try:
            with storage.local_path(key) as path:
                challenge = create_from_archive(g.user, path, received.fields)
        finally:
            storage.delete(key)
    except PlatformError as exc:
        if exc.code == "image_too_large":  # the upload helper's words are about images
            exc = PlatformError("bad_bundle", "The bundle archive is larger than "
                                f"{BUNDLE_UPLOAD_BYTES // 2**30} GB.", 413)
        for problem in getattr(exc, "problems", [exc.message]):
            flash(problem, "error")
        return redirect(url_for("organize.new_challenge"))
    flash(f"Challenge '{challenge.title}' loaded with {len(challenge.phases)} phase(s).",
          "success")
    return redirect(url_for("organize.settings", slug=challenge.slug))


@organize_bp.get("/<slug>/settings")
@organizer_page(Permission.VIEW)
def settings(challenge: Challenge):
    return _settings_page(challenge, _form_of(challenge))


@organize_bp.post("/<slug>/settings")
@organizer_page(Permission.EDIT)
def save_settings(challenge: Challenge):
    form = {name: request.form.get(name, "") for name in EDITABLE}
    if request.form.get("action") == "preview":  # nothing saved: the texts as shown
        return _settings_page(challenge, form, preview=True)
    try:
        changed = edit_challenge(g.user, challenge, form)
    except Invalid as exc:
        for problem in exc.problems:
            flash(problem, "error")
        return _settings_page(challenge, form), 400
    flash(f"Saved: {', '.join(sorted(changed))}." if changed else "Nothing changed.", "success")
    return redirect(url_for("organize.settings", slug=challenge.slug))


@organize_bp.post("/<slug>/announcements")
@organizer_page(Permission.EDIT)
def add_announcement_page(challenge: Challenge):
    form = {"title": request.form.get("title", ""), "body": request.form.get("body", "")}
    try:
        add_announcement(g.user, challenge, form)
    except Invalid as exc:
        for problem in exc.problems:
            flash(problem, "error")
        return _settings_page(challenge, _form_of(challenge), announcement=form), 400
    flash("Announcement published on the challenge page.", "success")
    return redirect(url_for("organize.settings", slug=challenge.slug))


@organize_bp.get("/<slug>/bundle")
@organizer_page(Permission.MANAGE)
def export_bundle_page(challenge: Challenge):
    archive, name = export_bundle(g.user, challenge)
    return send_file(archive, mimetype="application/gzip", as_attachment=True,
                     download_name=name)


def _form_of(challenge: Challenge) -> dict:
    values = settings_of(challenge)
    values["email_domains"] = "\n".join(values["email_domains"])
    closes = values["team_changes_close_at"]  # as a datetime-local input reads it (UTC)
    values["team_changes_close_at"] = closes.strftime("%Y-%m-%dT%H:%M") if closes else ""
    values["team_max_size"] = values["team_max_size"] or ""
    return values


def _settings_page(challenge: Challenge, form: dict, *, preview: bool = False,
                   announcement: dict | None = None) -> str:
    previews = ({name: render(form.get(name)) for name in ("description", "terms", "contract")}
                if preview else None)
    return render_template("organize/settings.html", challenge=challenge, form=form,
                           previews=previews, announcements=announcements_of(challenge),
                           announcement=announcement or {})


def _form_errors(exc: Invalid, template: str, **context):
    for problem in exc.problems:
        flash(problem, "error")
    return render_template(template, **context), 400


@organize_bp.app_context_processor
def announcement_helpers() -> dict:
    """For templates/_announcements.html on the public challenge page."""
    return {"challenge_announcements": announcements_of}
