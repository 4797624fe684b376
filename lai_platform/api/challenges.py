"""Challenges: list, detail, join, training data."""

from __future__ import annotations

from flask import g, jsonify

from lai_platform.api.auth import token_optional, token_required
from lai_platform.api.blueprint import api_bp
from lai_platform.api.docs import ERROR, TAR, documented
from lai_platform.api.errors import json_object
from lai_platform.api.schemas import CHALLENGE_LIST, JOIN, JOINED, ref
from lai_platform.challenges.lookups import all_challenges, get_challenge
from lai_platform.challenges.participation import join, participation_of, require_approved
from lai_platform.challenges.tasks import task_of
from lai_platform.challenges.training_data import training_data_json, training_data_response
from lai_platform.models import Challenge, Phase


def phase_json(phase: Phase) -> dict:
    return {
        "slug": phase.slug,
        "title": phase.title,
        "primary_metric": phase.primary_metric,
        "run_mode": phase.run_mode,
        "logs_visible": phase.logs_visible,
        "submissions_per_day": phase.submissions_per_day,
        "submissions_total": phase.submissions_total,
        "opens_at": phase.opens_at.isoformat() + "Z" if phase.opens_at else None,
        "closes_at": phase.closes_at.isoformat() + "Z" if phase.closes_at else None,
        "limits": phase.limits,
        "image_max_bytes": phase.image_max_bytes,
        "n_cases": phase.dataset.n_cases if phase.dataset else None,
    }


def challenge_json(challenge: Challenge, detail: bool = False) -> dict:
    data = {"slug": challenge.slug, "title": challenge.title, "summary": challenge.summary,
            "access": challenge.access}
    if detail:
        participation = participation_of(g.get("user"), challenge)
        data |= {
            "description": challenge.description_md,
            "terms": challenge.terms_md,
            "phases": [phase_json(p) for p in challenge.phases],
            # What predictions must hold (labels, the positive group and its key) and the
            # metrics shown: public, like the scoring page; `lai try` checks against it.
            "task": public_task_json(challenge),
            # {size, sha256} of the training archive (None: the challenge publishes none).
            "training_data": training_data_json(challenge),
            "participation": participation.status if participation else None,
            # The organizers' reason for a rejection or a ban (None otherwise).
            "participation_reason": (participation.reason or None)
            if participation and participation.status in ("rejected", "banned") else None,
        }
    return data


def public_task_json(challenge: Challenge) -> dict:
    task = task_of(challenge)
    return {**task.to_mapping(), "probability_key": task.probability_key}


@api_bp.get("/challenges")
@documented({200: CHALLENGE_LIST})
@token_optional
def list_challenges():
    return jsonify({"challenges": [challenge_json(c) for c in all_challenges()]})


@api_bp.get("/challenges/<slug>")
@documented({200: ref("ChallengeDetail")})
@token_optional
def show_challenge(slug: str):
    return jsonify(challenge_json(get_challenge(slug), detail=True))


@api_bp.post("/challenges/<slug>/join")
@documented({200: JOINED}, request=JOIN)
@token_required
def join_challenge(slug: str):
    body = json_object()
    participation = join(g.user, get_challenge(slug), body.get("accept_terms") is True)
    return jsonify({"challenge": slug, "status": participation.status})


@api_bp.get("/challenges/<slug>/training-data")
@documented({200: TAR, 206: TAR, 416: ERROR})
@token_required
def training_data(slug: str):
    challenge = get_challenge(slug)
    require_approved(g.user, challenge)
    return training_data_response(challenge)
