"""Organizer pages: a challenge's phases (list, create, reorder) and one phase's settings."""

from __future__ import annotations

from datetime import datetime

from flask import flash, g, redirect, render_template, request, url_for

from evaluator import METRICS, RANKING_METHODS
from lai_platform.challenges.checks import Invalid
from lai_platform.challenges.lookups import phase_in
from lai_platform.challenges.phase_settings import (
    EDITABLE,
    LIMIT_BOUNDS,
    create_phase,
    edit_phase,
    reorder_phases,
    settings_of,
)
from lai_platform.challenges.roles import Permission
from lai_platform.challenges.tasks import task_of
from lai_platform.leaderboards.ranks import DISPLAY_MODES
from lai_platform.models import Challenge, Phase
from lai_platform.web.organize.access import organizer_page
from lai_platform.web.organize.blueprint import organize_bp

CHECKBOXES = ("logs_visible", "case_results_visible", "gpu")


@organize_bp.get("/<slug>/phases")
@organizer_page(Permission.VIEW)
def phases(challenge: Challenge):
    return _list_page(challenge, {})


@organize_bp.post("/<slug>/phases")
@organizer_page(Permission.EDIT)
def create_phase_page(challenge: Challenge):
    form = {"slug": request.form.get("slug", ""), "title": request.form.get("title", "")}
    try:
        phase = create_phase(g.user, challenge, form)
    except Invalid as exc:
        _flash_problems(exc)
        return _list_page(challenge, form), 400
    flash(f"Phase '{phase.title}' created. Set its window, quotas and ranking below; attach "
          "a dataset on the Datasets page.", "success")
    return redirect(url_for("organize.phase_page", slug=challenge.slug, phase_slug=phase.slug))


@organize_bp.post("/<slug>/phases/order")
@organizer_page(Permission.EDIT)
def reorder_phases_page(challenge: Challenge):
    positions: dict[str, float] = {}
    problems = []
    for phase in challenge.phases:
        raw = request.form.get(f"position.{phase.slug}", "").strip()
        try:
            positions[phase.slug] = float(raw)
        except ValueError:
            problems.append(f"The position of {phase.slug!r} must be a number, not {raw!r}.")
    try:
        if problems:
            raise Invalid(problems)
        order = sorted(positions, key=lambda s: (positions[s], challenge.phase(s).position))
        reorder_phases(g.user, challenge, order)
    except Invalid as exc:
        _flash_problems(exc)
        return _list_page(challenge, {}), 400
    flash("Phases reordered.", "success")
    return redirect(url_for("organize.phases", slug=challenge.slug))


@organize_bp.get("/<slug>/phases/<phase_slug>")
@organizer_page(Permission.VIEW)
def phase_page(challenge: Challenge, phase_slug: str):
    phase = phase_in(challenge, phase_slug)
    return _phase_page(phase, form_of(phase))


@organize_bp.post("/<slug>/phases/<phase_slug>")
@organizer_page(Permission.EDIT)
def save_phase(challenge: Challenge, phase_slug: str):
    phase = phase_in(challenge, phase_slug)
    form = {name: request.form.get(name, "") for name in EDITABLE if name not in CHECKBOXES}
    form |= {name: name in request.form for name in CHECKBOXES}  # unchecked: not sent
    try:
        changed = edit_phase(g.user, phase, form)
    except Invalid as exc:
        _flash_problems(exc)
        return _phase_page(phase, form), 400
    flash(f"Saved: {', '.join(sorted(changed))}." if changed else "Nothing changed.",
          "success")
    return redirect(url_for("organize.phase_page", slug=challenge.slug, phase_slug=phase.slug))


def form_of(phase: Phase) -> dict:
    """The phase's settings as form text (times in UTC, as a datetime-local input reads)."""
    form = {}
    for name, value in settings_of(phase).items():
        if isinstance(value, datetime):
            form[name] = value.strftime("%Y-%m-%dT%H:%M")
        elif isinstance(value, list):
            form[name] = ", ".join(value)
        elif value is None:
            form[name] = ""
        else:
            form[name] = value
    return form


def _list_page(challenge: Challenge, form: dict) -> str:
    return render_template("organize/phases.html", challenge=challenge, form=form)


def _phase_page(phase: Phase, form: dict) -> str:
    return render_template(
        "organize/phase_settings.html", challenge=phase.challenge, phase=phase, form=form,
        methods=RANKING_METHODS, display_modes=DISPLAY_MODES, metrics=METRICS,
        task_metrics=task_of(phase.challenge).metrics, limits=LIMIT_BOUNDS)


def _flash_problems(exc: Invalid) -> None:
    for problem in exc.problems:
        flash(problem, "error")
