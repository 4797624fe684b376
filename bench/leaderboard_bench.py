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
    Submission,
    User,
)


def populate(n_entries: int, n_resamples: int) -> Phase:
    rng = np.random.default_rng(0)
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
    for i in range(n_entries):
        auc = float(rng.uniform(0.6, 0.95))
        image = ContainerImage(user_id=users[i % len(users)].id, image_id="sha256:" + "0" * 64,
                               storage_key="k", size_bytes=0, architecture="amd64")
        sub = Submission(phase=phase, user=users[i % len(users)], image=image,
                         status="succeeded")
        metrics = {"n_cases": 3000, "metrics": {
            name: {"value": auc, "ci_low": auc - 0.03, "ci_high": auc + 0.03}
            for name in ("auc", "balanced_accuracy", "macro_f1", "kappa")}}
        boot = np.clip(auc + rng.normal(0, 0.015, n_resamples), 0, 1).round(6).tolist()
        db.session.add_all([image, sub])
        db.session.flush()
        db.session.add(Result(submission_id=sub.id, phase_id=phase.id, metrics=metrics,
                              primary_score=auc, resampled={"all": {"auc": boot}}))
    db.session.commit()
    return phase


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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=2000)
    parser.add_argument("--resamples", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.from_env({"LAI_DATA_DIR": tmp, "LAI_SECRET_KEY": "bench"})
        app = create_app(settings)
        with app.app_context():
            db.create_all()
            phase = populate(args.entries, args.resamples)
            recompute = best_of(1, lambda: (recompute_ranks(phase), db.session.commit()))
            db.session.expire_all()
            stored = best_of(5, lambda: (leaderboard_rows(phase), db.session.expire_all()))
            naive = best_of(5, lambda: (rank_on_read(phase), db.session.expire_all()))
    print(f"leaderboard of {args.entries} entries, {args.resamples} resamples each")
    print(f"read (first page of {PER_PAGE}, stored ranks): {stored * 1000:.1f} ms; "
          f"rank on every read: "
          f"{naive * 1000:.1f} ms; ratio {naive / stored:.1f}x")
    print(f"one recompute (a result lands; rank stability of the top 200 included): "
          f"{recompute:.2f} s")


if __name__ == "__main__":
    main()
