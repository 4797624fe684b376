"""The LAI demo: the challenge bundle in examples/lai-liver and its baseline submission."""

from __future__ import annotations

import importlib.util
import secrets
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from lai_platform import ROOT, services
from lai_platform.admission import admit
from lai_platform.auth import create_user, find_user
from lai_platform.bundles import bundle_data_dir, load_challenge, read_bundle
from lai_platform.extensions import db
from lai_platform.models import Challenge, Submission
from lai_platform.participation import join

DEMO_BUNDLE = ROOT / "examples" / "lai-liver"
DEMO_SLUG = "lai-liver"
BASELINE_EMAIL = "baseline@lai-demo.invalid"
BASELINE_PHASE = "development"


def ensure_demo_challenge(log: Callable[[str], object] = print) -> Challenge:
    challenge = db.session.scalar(select(Challenge).where(Challenge.slug == DEMO_SLUG))
    if challenge is None:
        log("loading the LAI demo challenge (generating synthetic data the first time)...")
        challenge = load_challenge(DEMO_BUNDLE)
    return challenge


def prepare_demo(log: Callable[[str], object] = print) -> Submission:
    """Idempotent: loads the demo and queues the baseline once."""
    challenge = ensure_demo_challenge(log)
    user = find_user(BASELINE_EMAIL)
    if user is None:
        user = create_user(BASELINE_EMAIL, secrets.token_urlsafe(24), "LAI baseline")
        db.session.commit()
    join(user, challenge, accept_terms=True)
    phase = challenge.phase(BASELINE_PHASE)
    existing = db.session.scalar(
        select(Submission).where(Submission.user_id == user.id, Submission.phase_id == phase.id)
    )
    if existing is not None:
        log(f"baseline already submitted (#{existing.id}, {existing.status})")
        return existing
    tarball = build_baseline_tarball(log)
    with tarball.open("rb") as stream:
        submission = admit(user, phase, stream, "Baseline: radiomics features + AutoML-lite")
    submission.is_baseline = True  # shown with the rank it would have; takes none
    db.session.commit()
    log(f"baseline submitted as #{submission.id}")
    return submission


def build_baseline_tarball(log: Callable[[str], object] = print) -> Path:
    spec = read_bundle(DEMO_BUNDLE)
    settings = services.get().settings
    training = bundle_data_dir(spec, settings.data_dir) / spec["training_split"]
    out = settings.data_dir / "demo" / "baseline.tar"
    out.parent.mkdir(parents=True, exist_ok=True)
    builder = _import(DEMO_BUNDLE / "baseline" / "build.py")
    log("building the baseline image (trains inside `docker build`, a few minutes)...")
    image_id = builder.build_baseline(training)
    builder.save_image(image_id, out)
    return out


def _import(path: Path):
    spec = importlib.util.spec_from_file_location("lai_baseline_build", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
