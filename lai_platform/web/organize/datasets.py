"""Organizer pages: a challenge's datasets (versions, checksums, validation reports, which
phases use them), uploading a split, attaching a version to a phase, re-scoring progress."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from sqlalchemy import select

from lai_platform.challenges.dataset_uploads import (
    DatasetInvalid,
    datasets_of,
    phases_using,
    receive_dataset,
)
from lai_platform.challenges.lookups import dataset_in, phase_in, rescoring_in
from lai_platform.challenges.roles import Permission
from lai_platform.errors import NotFound, PlatformError
from lai_platform.extensions import csrf, db
from lai_platform.jobs.rescoring import attach_dataset, rescorings_of
from lai_platform.models import Challenge, Dataset, Phase, User
from lai_platform.web.organize.access import organizer_page
from lai_platform.web.organize.blueprint import organize_bp
from lai_platform.web.submissions import csrf_before_file


def _page(challenge: Challenge, report: dict | None = None, name: str = "", status: int = 200):
    return render_template(
        "organize/datasets.html", challenge=challenge, datasets=datasets_of(challenge),
        using=phases_using(challenge), rescorings=rescorings_of(challenge),
        phases={p.id: p for p in challenge.phases}, refused=report, name=name,
    ), status


@organize_bp.get("/<slug>/datasets")
@organizer_page(Permission.VIEW)
def datasets(challenge: Challenge):
    return _page(challenge)


@organize_bp.post("/<slug>/datasets")
@csrf.exempt  # checked as the form streams in: the token field must precede the files
@organizer_page(Permission.EDIT)
def upload_dataset(challenge: Challenge):
    slug = challenge.slug
    try:
        dataset = receive_dataset(challenge, g.user, request.stream, request.content_type,
                                  check_field=csrf_before_file())
    except DatasetInvalid as exc:
        flash(exc.message, "error")
        return _page(_challenge(slug), exc.report, exc.report.get("name", ""), 422)
    except PlatformError as exc:
        flash(exc.message, "error")
        return _page(_challenge(slug), None, "", exc.status)
    flash(f"Dataset {dataset.name} v{dataset.version} stored: {dataset.n_cases} cases. "
          "Attach it to a phase to use it.", "success")
    return redirect(url_for("organize.datasets", slug=slug))


def _challenge(slug: str) -> Challenge:
    """The challenge again (and the viewer): the upload closed the session while the body
    streamed, which detached them."""
    g.user = db.session.get(User, g.user.id)
    g.organize_challenge = db.session.scalar(select(Challenge).where(Challenge.slug == slug))
    return g.organize_challenge


@organize_bp.post("/<slug>/phases/<phase_slug>/dataset")
@organizer_page(Permission.EDIT)
def attach_dataset_page(challenge: Challenge, phase_slug: str):
    phase = phase_in(challenge, phase_slug)
    try:
        dataset = dataset_in(challenge, request.form.get("dataset_id", type=int))
    except NotFound as exc:  # a body id of another challenge (or none): say so, change nothing
        flash(exc.message, "error")
        return redirect(url_for("organize.datasets", slug=challenge.slug))
    rescoring = attach_dataset(phase, dataset, g.user)
    message = f"'{phase.title}' now runs on {dataset.name} v{dataset.version}."
    if rescoring is not None:
        message += f" Re-scoring its {rescoring.total} scored submission(s)."
    flash(message, "success")
    if rescoring is not None:
        return redirect(url_for("organize.rescoring", slug=challenge.slug,
                                rescoring_id=rescoring.id))
    return redirect(url_for("organize.datasets", slug=challenge.slug))


@organize_bp.get("/<slug>/rescorings/<int:rescoring_id>")
@organizer_page(Permission.VIEW)
def rescoring(challenge: Challenge, rescoring_id: int):
    row = rescoring_in(challenge, rescoring_id)
    phase = db.session.get(Phase, row.phase_id)
    return render_template("organize/datasets_rescoring.html", challenge=challenge,
                           rescoring=row, phase=phase,
                           dataset=db.session.get(Dataset, row.dataset_id))
