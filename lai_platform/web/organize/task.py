"""Organizer pages: the challenge's task (labels, positive group, metrics, primary)."""

from __future__ import annotations

import re
from typing import Any

import yaml
from flask import flash, g, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from evaluator import METRICS
from lai_platform.challenges.roles import Permission
from lai_platform.challenges.task_editing import TaskRefused, change_task
from lai_platform.challenges.tasks import task_of
from lai_platform.models import Challenge
from lai_platform.web.organize.access import organizer_page
from lai_platform.web.organize.blueprint import organize_bp

_SEPARATORS = re.compile(r"[,\n]")


@organize_bp.get("/<slug>/task")
@organizer_page(Permission.VIEW)
def task(challenge: Challenge):
    return _page(challenge, _form_of(task_of(challenge).to_mapping()))


@organize_bp.post("/<slug>/task")
@organizer_page(Permission.EDIT)
def edit_task(challenge: Challenge):
    given = task_values(request.form)
    try:
        after = change_task(g.user, challenge, given)
    except TaskRefused as exc:
        for problem in exc.problems:
            flash(problem, "error")
        return _page(challenge, request.form, status=400)  # keep what the user typed
    flash(f"Task saved ({', '.join(after)} changed)." if after else "Nothing changed.",
          "success")
    return redirect(url_for("organize.task", slug=challenge.slug))


def task_values(form: MultiDict) -> dict[str, Any]:
    """The form's fields as a task declaration (labels: one per line or comma separated)."""
    return {
        "name": form.get("name", "").strip(),
        "labels": _list(form.get("labels", "")),
        "positive": _list(form.get("positive", "")),
        "positive_name": form.get("positive_name", "").strip(),
        "metrics": [m for m in form.getlist("metrics") if m],
        "primary": form.get("primary", "").strip(),
    }


def _list(text: str) -> list[str]:
    return [part.strip() for part in _SEPARATORS.split(text) if part.strip()]


def _form_of(mapping: dict) -> MultiDict:
    """The stored task as the form shows it."""
    form = MultiDict({"name": mapping["name"], "labels": "\n".join(mapping["labels"]),
                      "positive": "\n".join(mapping["positive"]),
                      "positive_name": mapping["positive_name"], "primary": mapping["primary"]})
    form.setlist("metrics", list(mapping["metrics"]))
    return form


def _page(challenge: Challenge, form: MultiDict, status: int = 200):
    current = task_of(challenge)
    return render_template(
        "organize/task.html", challenge=challenge, task=current, form=form, metrics=METRICS,
        task_file=yaml.safe_dump(current.to_mapping(), sort_keys=False),
    ), status
