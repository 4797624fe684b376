"""The LAI demo: the challenge bundle in examples/lai-liver and its baseline submission."""

from __future__ import annotations

import importlib.util
import secrets
from collections.abc import Callable
from pathlib import Path

import docker
from sqlalchemy import select

from lai_platform import services
from lai_platform.accounts.users import create_user, find_user
from lai_platform.challenges.bundles import bundle_data_dir, load_challenge, read_bundle
from lai_platform.challenges.lookups import find_challenge
from lai_platform.challenges.participation import join
from lai_platform.extensions import db
from lai_platform.models import Challenge, Submission
from lai_platform.submissions.admission import admit

# The demo bundle lives in the source tree, beside the package (not in an installed wheel).
DEMO_BUNDLE = Path(__file__).resolve().parents[2] / "examples" / "lai-liver"
DEMO_SLUG = "lai-liver"
BASELINE_EMAIL = "baseline@lai-demo.invalid"
BASELINE_PHASE = "development"
TEMPLATE_EMAIL = "template@lai-demo.invalid"


def ensure_demo_challenge(log: Callable[[str], object] = print) -> Challenge:
    challenge = find_challenge(DEMO_SLUG)
    if challenge is None:
        log("loading the LAI demo challenge (generating synthetic data the first time)...")
        challenge = load_challenge(DEMO_BUNDLE)
    return challenge


def prepare_demo(log: Callable[[str], object] = print) -> Submission:
    """Idempotent: loads the demo and queues the baseline and the template once each."""
    challenge = ensure_demo_challenge(log)
    phase = challenge.phase(BASELINE_PHASE)
    baseline = _submit_once(
        challenge, phase, BASELINE_EMAIL, "LAI baseline", build_baseline_tarball,
        "Baseline: radiomics features + AutoML-lite", log,
    )
    if not baseline.is_baseline:
        baseline.is_baseline = True  # shown with the rank it would have; takes none
        db.session.commit()
    # The participants' template, as a first ordinary entry beside the baseline.
    _submit_once(challenge, phase, TEMPLATE_EMAIL, "Template algorithm", build_template_tarball,
                 "The participant template: a one-rule DWI heuristic", log)
    return baseline


def _submit_once(challenge: Challenge, phase, email: str, name: str,
                 build: Callable[[Callable], Path], comment: str,
                 log: Callable[[str], object]) -> Submission:
    user = find_user(email)
    if user is None:
        user = create_user(email, secrets.token_urlsafe(24), name)
        db.session.commit()
    join(user, challenge, accept_terms=True)
    existing = db.session.scalar(
        select(Submission).where(Submission.user_id == user.id, Submission.phase_id == phase.id)
    )
    if existing is not None:
        log(f"{name} already submitted (#{existing.id}, {existing.status})")
        return existing
    with build(log).open("rb") as stream:
        submission = admit(user, phase, stream, comment)
    log(f"{name} submitted as #{submission.id}")
    return submission


def build_template_tarball(log: Callable[[str], object] = print) -> Path:
    out = services.get().settings.data_dir / "demo" / "template.tar"
    out.parent.mkdir(parents=True, exist_ok=True)
    log("building the participant template image...")
    image, _ = docker.from_env().images.build(
        path=str(DEMO_BUNDLE / "template"), tag="lai-liver-template:latest",
        network_mode="none", rm=True,
    )
    builder = _import(DEMO_BUNDLE / "baseline" / "build.py")
    builder.save_image(image.id, out)
    return out


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
