"""Phases as organizers set them up: create, edit (any setting, checked, re-ranked when
ranks move), reorder."""

from __future__ import annotations

from datetime import datetime

from flask import g, jsonify

from lai_platform.api.access import organizer_endpoint
from lai_platform.api.blueprint import api_bp
from lai_platform.api.docs import documented
from lai_platform.api.errors import json_object
from lai_platform.api.request_bodies import PHASE_EDIT, PHASE_NEW, PHASE_ORDER
from lai_platform.api.schemas import CHANGED, STR, array, obj, ref
from lai_platform.challenges.checks import Invalid
from lai_platform.challenges.lookups import phase_in
from lai_platform.challenges.phase_settings import (
    create_phase,
    edit_phase,
    reorder_phases,
    settings_of,
)
from lai_platform.challenges.roles import Permission
from lai_platform.models import Challenge, Phase


def phase_settings_json(phase: Phase) -> dict:
    return {name: value.isoformat() + "Z" if isinstance(value, datetime) else value
            for name, value in settings_of(phase).items()}


@api_bp.post("/challenges/<slug>/phases")
@documented({201: ref("PhaseSettings")}, request=PHASE_NEW)
@organizer_endpoint(Permission.EDIT)
def create_phase_endpoint(challenge: Challenge):
    phase = create_phase(g.user, challenge, json_object())
    return jsonify(phase_settings_json(phase)), 201


@api_bp.patch("/challenges/<slug>/phases/<phase_slug>")
@documented({200: obj({"changed": CHANGED, "phase": ref("PhaseSettings")})},
            request=PHASE_EDIT)
@organizer_endpoint(Permission.EDIT)
def edit_phase_endpoint(challenge: Challenge, phase_slug: str):
    phase = phase_in(challenge, phase_slug)
    changed = edit_phase(g.user, phase, json_object())
    return jsonify({"changed": sorted(changed), "phase": phase_settings_json(phase)})


@api_bp.post("/challenges/<slug>/phases/order")
@documented({200: obj({"order": array(STR)})}, request=PHASE_ORDER)
@organizer_endpoint(Permission.EDIT)
def reorder_phases_endpoint(challenge: Challenge):
    order = json_object().get("order")
    if not isinstance(order, list):
        raise Invalid(["Send {\"order\": [phase slugs, first to last]}."])
    reorder_phases(g.user, challenge, order)
    return jsonify({"order": [p.slug for p in challenge.phases]})
