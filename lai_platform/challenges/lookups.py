"""Finding a challenge or a phase by its slugs, for pages, the API and commands alike."""

from __future__ import annotations

from sqlalchemy import select

from lai_platform.errors import NotFound
from lai_platform.extensions import db
from lai_platform.models import Challenge, Phase


def find_challenge(slug: str) -> Challenge | None:
    return db.session.scalar(select(Challenge).where(Challenge.slug == slug))


def find_phase(slug: str, phase_slug: str) -> Phase | None:
    challenge = find_challenge(slug)
    return challenge.phase(phase_slug) if challenge else None


def get_challenge(slug: str) -> Challenge:
    challenge = find_challenge(slug)
    if challenge is None:
        raise NotFound(f"No challenge '{slug}'.")
    return challenge


def get_phase(slug: str, phase_slug: str) -> Phase:
    phase = get_challenge(slug).phase(phase_slug)
    if phase is None:
        raise NotFound(f"No phase '{phase_slug}' in challenge '{slug}'.")
    return phase


def all_challenges() -> list[Challenge]:
    return list(db.session.scalars(select(Challenge).order_by(Challenge.id)))
