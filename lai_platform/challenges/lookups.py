"""Finding a challenge or a phase by its slugs, for pages, the API and commands alike; and
the objects an organizer URL or body names by id, always *within* the challenge of the URL
(`phase_in`, `dataset_in`, `rescoring_in`): an id of another challenge is "not found", so
the organizers of one challenge never reach another's objects through their own URLs.
"""

from __future__ import annotations

from sqlalchemy import select

from lai_platform.errors import NotFound
from lai_platform.extensions import db
from lai_platform.models import Challenge, Dataset, Phase, Rescoring

MAX_ID = 2**31 - 1  # ids a body names: larger ones fail in the database, not "not found"


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


def phase_in(challenge: Challenge, phase_slug: str) -> Phase:
    """The challenge's phase `phase_slug`; 404 otherwise."""
    phase = challenge.phase(phase_slug)
    if phase is None:
        raise NotFound(f"No phase '{phase_slug}' in challenge '{challenge.slug}'.")
    return phase


def dataset_in(challenge: Challenge, dataset_id: int | None) -> Dataset:
    """The dataset if it belongs to this challenge; 404 otherwise (never across)."""
    dataset = None if dataset_id is None or not 0 < dataset_id <= MAX_ID else db.session.scalar(
        select(Dataset).where(Dataset.id == dataset_id, Dataset.challenge_id == challenge.id))
    if dataset is None:
        choose = "Choose one of this challenge's datasets."
        if dataset_id is None:
            raise NotFound(choose)
        raise NotFound(f"No dataset {dataset_id} in challenge '{challenge.slug}'. {choose}")
    return dataset


def rescoring_in(challenge: Challenge, rescoring_id: int) -> Rescoring:
    """The re-scoring if it is of a phase of this challenge; 404 otherwise."""
    rescoring = db.session.scalar(
        select(Rescoring).join(Phase, Phase.id == Rescoring.phase_id)
        .where(Rescoring.id == rescoring_id, Phase.challenge_id == challenge.id))
    if rescoring is None:
        raise NotFound(f"No re-scoring {rescoring_id} in challenge '{challenge.slug}'.")
    return rescoring


def all_challenges() -> list[Challenge]:
    return list(db.session.scalars(select(Challenge).order_by(Challenge.id)))
