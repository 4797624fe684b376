"""Challenges: list, detail, join, training data."""

from __future__ import annotations

from flask import Response, g, jsonify, request, stream_with_context
from sqlalchemy import select

from lai_platform import services
from lai_platform.api import api_bp
from lai_platform.api.auth import token_optional, token_required
from lai_platform.errors import NotFound, PlatformError
from lai_platform.extensions import db
from lai_platform.models import Challenge, Phase
from lai_platform.participation import join, participation_of, require_approved

STREAM_CHUNK = 1024 * 1024


def get_challenge(slug: str) -> Challenge:
    challenge = db.session.scalar(select(Challenge).where(Challenge.slug == slug))
    if challenge is None:
        raise NotFound(f"No challenge '{slug}'.")
    return challenge


def get_phase(slug: str, phase_slug: str) -> Phase:
    phase = get_challenge(slug).phase(phase_slug)
    if phase is None:
        raise NotFound(f"No phase '{phase_slug}' in challenge '{slug}'.")
    return phase


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
        "n_cases": phase.dataset.n_cases,
    }


def challenge_json(challenge: Challenge, detail: bool = False) -> dict:
    data = {"slug": challenge.slug, "title": challenge.title, "summary": challenge.summary,
            "access": challenge.access}
    if detail:
        part = participation_of(g.get("user"), challenge)
        data |= {
            "description": challenge.description_md,
            "terms": challenge.terms_md,
            "phases": [phase_json(p) for p in challenge.phases],
            "participation": part.status if part else None,
        }
    return data


@api_bp.get("/challenges")
@token_optional
def list_challenges():
    challenges = db.session.scalars(select(Challenge).order_by(Challenge.id)).all()
    return jsonify({"challenges": [challenge_json(c) for c in challenges]})


@api_bp.get("/challenges/<slug>")
@token_optional
def show_challenge(slug: str):
    return jsonify(challenge_json(get_challenge(slug), detail=True))


@api_bp.post("/challenges/<slug>/join")
@token_required
def join_challenge(slug: str):
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise PlatformError("bad_request", 'Send a JSON body: {"accept_terms": true}.')
    part = join(g.user, get_challenge(slug), body.get("accept_terms") is True)
    return jsonify({"challenge": slug, "status": part.status})


@api_bp.get("/challenges/<slug>/training-data")
@token_required
def training_data(slug: str):
    challenge = get_challenge(slug)
    require_approved(g.user, challenge)
    return training_data_response(challenge)


def training_data_response(challenge: Challenge) -> Response:
    """Streams the archive from storage in chunks; shared by the API and the web page."""
    if not challenge.training_data_key:
        raise NotFound("This challenge publishes no training data.")
    stream = services.get().storage.open(challenge.training_data_key)

    def chunks():
        with stream:
            while chunk := stream.read(STREAM_CHUNK):
                yield chunk

    headers = {"Content-Disposition": f'attachment; filename="{challenge.slug}-training.tar"'}
    if challenge.training_data_size:
        headers["Content-Length"] = str(challenge.training_data_size)
    return Response(stream_with_context(chunks()), mimetype="application/x-tar", headers=headers)

