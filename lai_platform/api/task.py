"""A challenge's task: GET for its organizers, PUT (editors) to change it."""

from __future__ import annotations

from flask import g

from lai_platform.api.access import organizer_endpoint
from lai_platform.api.blueprint import api_bp
from lai_platform.api.docs import documented
from lai_platform.api.errors import json_object
from lai_platform.api.request_bodies import TASK_EDIT
from lai_platform.api.schemas import CHANGED, obj, ref
from lai_platform.challenges.roles import Permission
from lai_platform.challenges.task_editing import change_task
from lai_platform.challenges.tasks import task_of
from lai_platform.models import Challenge


@api_bp.get("/challenges/<slug>/task")
@documented({200: obj({"task": ref("Task")})})
@organizer_endpoint(Permission.VIEW)
def show_task(challenge: Challenge):
    return {"task": _task_json(challenge)}


@api_bp.put("/challenges/<slug>/task")
@documented({200: obj({"task": ref("Task"), "changed": CHANGED})}, request=TASK_EDIT)
@organizer_endpoint(Permission.EDIT)
def put_task(challenge: Challenge):
    """The body is the task, or part of it: keys left out keep their values."""
    changed = change_task(g.user, challenge, json_object())
    return {"task": _task_json(challenge), "changed": sorted(changed)}


def _task_json(challenge: Challenge) -> dict:
    task = task_of(challenge)
    return {**task.to_mapping(), "probability_key": task.probability_key}
