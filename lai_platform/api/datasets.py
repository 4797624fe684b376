"""Datasets: list a challenge's versions, upload a split (multipart `name`, `inputs`,
`ground_truth`), attach a version to a phase, follow a re-scoring."""

from __future__ import annotations

from flask import g, jsonify, request

from lai_platform.api.access import organizer_endpoint
from lai_platform.api.blueprint import api_bp
from lai_platform.api.docs import MULTIPART, documented
from lai_platform.api.errors import json_object
from lai_platform.api.request_bodies import DATASET_ATTACH
from lai_platform.api.schemas import (
    STR,
    TARBALL,
    array,
    nullable,
    obj,
    ref,
    with_keys,
)
from lai_platform.challenges.dataset_uploads import (
    DatasetInvalid,
    datasets_of,
    phases_using,
    receive_dataset,
)
from lai_platform.challenges.lookups import dataset_in, phase_in, rescoring_in
from lai_platform.challenges.roles import Permission
from lai_platform.errors import PlatformError
from lai_platform.extensions import db
from lai_platform.jobs.rescoring import attach_dataset, rescorings_of
from lai_platform.models import Challenge, Dataset, Phase, Rescoring


def _iso(value) -> str | None:
    return value.isoformat() + "Z" if value else None


def dataset_json(dataset: Dataset, used_by: list[Phase]) -> dict:
    return {"id": dataset.id, "name": dataset.name, "version": dataset.version,
            "sha256": dataset.sha256, "n_cases": dataset.n_cases, "report": dataset.report,
            "created_at": _iso(dataset.created_at), "phases": [p.slug for p in used_by]}


def rescoring_json(rescoring: Rescoring) -> dict:
    return {"id": rescoring.id, "phase_id": rescoring.phase_id,
            "dataset_id": rescoring.dataset_id, "state": rescoring.state,
            "total": rescoring.total, "done": rescoring.done, "failed": rescoring.failed,
            "created_at": _iso(rescoring.created_at), "finished_at": _iso(rescoring.finished_at)}


@api_bp.get("/challenges/<slug>/datasets")
@documented({200: obj({"datasets": array(ref("Dataset")),
                       "rescorings": array(ref("Rescoring"))})})
@organizer_endpoint(Permission.VIEW)
def list_datasets(challenge: Challenge):
    using = phases_using(challenge)
    return jsonify({"datasets": [dataset_json(d, using.get(d.id, []))
                                 for d in datasets_of(challenge)],
                    "rescorings": [rescoring_json(r) for r in rescorings_of(challenge)]})


@api_bp.post("/challenges/<slug>/datasets")
@documented({201: ref("Dataset")}, request_type=MULTIPART, request=obj(
    {"name": STR, "inputs": TARBALL, "ground_truth": TARBALL}))
@organizer_endpoint(Permission.EDIT)
def upload_dataset(challenge: Challenge):
    try:
        dataset = receive_dataset(challenge, g.user, request.stream, request.content_type)
    except DatasetInvalid as exc:  # the report says what to fix
        return jsonify({"error": {"code": exc.code, "message": exc.message},
                        "report": exc.report}), exc.status
    return jsonify(dataset_json(dataset, [])), 201


@api_bp.post("/challenges/<slug>/phases/<phase_slug>/dataset")
@documented({200: obj({"phase": STR, "dataset": ref("Dataset"),
                       "rescoring": nullable(ref("Rescoring"))})},
            request=DATASET_ATTACH)
@organizer_endpoint(Permission.EDIT)
def attach_phase_dataset(challenge: Challenge, phase_slug: str):
    phase = phase_in(challenge, phase_slug)
    dataset_id = json_object().get("dataset_id")
    if not isinstance(dataset_id, int) or isinstance(dataset_id, bool):
        raise PlatformError("bad_request", "Send {\"dataset_id\": N}, N the id of one of "
                            "this challenge's datasets.")
    dataset = dataset_in(challenge, dataset_id)
    rescoring = attach_dataset(phase, dataset, g.user)
    return jsonify({"phase": phase.slug, "dataset": dataset_json(dataset, [phase]),
                    "rescoring": rescoring_json(rescoring) if rescoring else None})


@api_bp.get("/challenges/<slug>/rescorings/<int:rescoring_id>")
@documented({200: with_keys("Rescoring", {"phase": STR})})
@organizer_endpoint(Permission.VIEW)
def show_rescoring(challenge: Challenge, rescoring_id: int):
    rescoring = rescoring_in(challenge, rescoring_id)
    phase = db.session.get(Phase, rescoring.phase_id)
    return jsonify(rescoring_json(rescoring) | {"phase": phase.slug})
