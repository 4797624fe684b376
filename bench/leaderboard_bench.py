"""Leaderboard benchmark: python bench/leaderboard_bench.py [--entries N].

A phase with N scored submissions. Reading its leaderboard (stored ranks: one indexed query)
is timed against the straightforward alternative of ranking on every read (load every
result, rank by the primary metric). Also times one recompute (what a landing result costs,
rank stability included). SQLite in a temporary folder.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from anywhere

from evaluator import rank  # noqa: E402
from lai_platform import create_app  # noqa: E402
from lai_platform.config import Settings  # noqa: E402
from lai_platform.extensions import db  # noqa: E402
from lai_platform.leaderboards.pages import PER_PAGE, leaderboard_rows  # noqa: E402
from lai_platform.leaderboards.parts import metric_value  # noqa: E402
from lai_platform.leaderboards.ranks import recompute_ranks  # noqa: E402
from lai_platform.models import (  # noqa: E402
    Challenge,
    ContainerImage,
    Dataset,
    Phase,
    Result,
    ResultDetail,
    Submission,
    User,
)
from lai_platform.scoring.vectors import pack  # noqa: E402


def populate(n_entries: int, n_resamples: int) -> Phase:
    challenge = Challenge(slug="bench", title="Bench")
    db.session.add(challenge)
    db.session.flush()
    dataset = Dataset(challenge_id=challenge.id, name="test", inputs_key="x",
                      ground_truth_key="y", sha256="0" * 64, n_cases=3000)
    phase = Phase(challenge=challenge, slug="final", title="Final", dataset=dataset,
                  primary_metric="auc")
    db.session.add_all([challenge, dataset, phase])
    users = [User(email=f"u{i}@bench.invalid", display_name=f"team {i}", password_hash="x")
             for i in range(max(1, n_entries // 5))]
    db.session.add_all(users)
    db.session.flush()
    populate_more(phase, n_entries, n_resamples, users)
    return phase


def populate_more(phase: Phase, n_entries: int, n_resamples: int,
                  users: list[User] | None = None) -> None:
    rng = np.random.default_rng(n_entries)
    users = users or [db.session.scalars(db.select(User)).first()]
    for i in range(n_entries):
        auc = float(rng.uniform(0.6, 0.95))
        image = ContainerImage(user_id=users[i % len(users)].id, image_id="sha256:" + "0" * 64,
                               storage_key="k", size_bytes=0, architecture="amd64")
        sub = Submission(phase=phase, user=users[i % len(users)], image=image,
                         status="succeeded")
        metrics = {"n_cases": 3000, "metrics": {
            name: {"value": auc, "ci_low": auc - 0.03, "ci_high": auc + 0.03}
            for name in ("auc", "balanced_accuracy", "macro_f1", "kappa")}}
        boot = np.clip(auc + rng.normal(0, 0.015, n_resamples), 0, 1)
        db.session.add_all([image, sub])
        db.session.flush()
        db.session.add(Result(
            submission_id=sub.id, phase_id=phase.id, metrics=metrics, primary_score=auc,
            part_values={"all": {n: m["value"] for n, m in metrics["metrics"].items()}},
            detail=ResultDetail(vectors=pack({"all": {"auc": boot}}, {})),
        ))
    db.session.commit()


def rank_on_read(phase: Phase) -> list:
    results = db.session.scalars(db.select(Result).where(Result.phase_id == phase.id)).all()
    ranks = rank("score", np.array([metric_value(r.metrics, "auc") for r in results]))
    return sorted(zip(ranks, results, strict=True), key=lambda pair: pair[0])


def best_of(repeats: int, function) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def land_one(phase: Phase, n_resamples: int) -> float:
    """A result lands on a ranked phase: the ranking job's cost (stability included)."""
    populate_more(phase, 1, n_resamples)
    db.session.expire_all()
    return best_of(1, lambda: (recompute_ranks(phase), db.session.commit()))


def measure(n_entries: int, n_resamples: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.from_env({"LAI_DATA_DIR": tmp, "LAI_SECRET_KEY": "bench"})
        app = create_app(settings)
        with app.app_context():
            db.create_all()
            phase = populate(n_entries, n_resamples)
            first = best_of(1, lambda: (recompute_ranks(phase), db.session.commit()))
            landing = land_one(phase, n_resamples)
            db.session.expire_all()
            stored = best_of(5, lambda: (leaderboard_rows(phase), db.session.expire_all()))
            naive = best_of(3, lambda: (rank_on_read(phase), db.session.expire_all()))
    return {"first": first, "landing": landing, "stored": stored, "naive": naive}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", default="1000,10000", help="comma-separated sizes")
    parser.add_argument("--resamples", type=int, default=1000)
    args = parser.parse_args()
    sizes = [int(n) for n in args.entries.split(",")]
    results = {n: measure(n, args.resamples) for n in sizes}
    for n, r in results.items():
        print(f"leaderboard of {n} entries, {args.resamples} resamples each")
        print(f"  read (first page of {PER_PAGE}, stored ranks): {r['stored'] * 1000:.1f} ms; "
              f"rank on every read: {r['naive'] * 1000:.1f} ms; "
              f"ratio {r['naive'] / r['stored']:.1f}x")
        print(f"  one result lands (ranking job, rank stability of the top 200 included): "
              f"{r['landing']:.2f} s (first ranking of the phase: {r['first']:.2f} s)")
    if len(sizes) >= 2:
        small, large = sizes[0], sizes[-1]
        exponent = np.log(results[large]["landing"] / results[small]["landing"]) / np.log(
            large / small)
        print(f"ranking cost grows as entries^{exponent:.2f} from {small} to {large} entries "
              f"(N log N would be about ^1.0-1.1)")


if __name__ == "__main__":
    main()
