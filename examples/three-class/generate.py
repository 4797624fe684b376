"""Generate the three-class example's synthetic data: a few features per lesion.

    python examples/three-class/generate.py --out DIR [--seed 0] [--n-cases 60]

Layout: DIR/test/inputs/cases.json, DIR/test/inputs/<case_id>/features.json,
DIR/test/ground_truth.csv (case_id, diagnosis, centre: the binary column is derived from the
task) and DIR/manifest.json, written last. Same parameters, same bytes.
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import numpy as np

LABELS = ("cyst", "abscess", "tumour")
CENTRES = ("north", "south")
# Mean (wall thickness mm, enhancement, diffusion restriction) of each diagnosis; the spread
# overlaps so that a model gets most, not all, cases right.
MEANS = {"cyst": (0.5, 0.1, 0.2), "abscess": (3.0, 0.6, 0.9), "tumour": (1.5, 0.9, 0.6)}
SPREAD = (0.9, 0.25, 0.25)


def generate(out: Path, seed: int = 0, n_cases: int = 60) -> Path:
    out = Path(out)
    rng = np.random.default_rng(seed)
    split = out / "test"
    inputs = split / "inputs"
    inputs.mkdir(parents=True, exist_ok=True)
    # Every diagnosis present, in a shuffled order so ids carry no label information.
    diagnoses = [LABELS[i % len(LABELS)] for i in range(n_cases)]
    rng.shuffle(diagnoses)
    rows, ids = [], []
    for i, diagnosis in enumerate(diagnoses):
        case_id = f"TRI-{i + 1:03d}"
        values = rng.normal(MEANS[diagnosis], SPREAD)
        features = {"wall_thickness_mm": round(float(max(values[0], 0.0)), 3),
                    "enhancement": round(float(values[1]), 3),
                    "diffusion": round(float(values[2]), 3)}
        (inputs / case_id).mkdir(exist_ok=True)
        (inputs / case_id / "features.json").write_text(json.dumps(features, sort_keys=True))
        rows.append((case_id, diagnosis, CENTRES[i % len(CENTRES)]))
        ids.append(case_id)
    (inputs / "cases.json").write_text(json.dumps(ids))
    with (split / "ground_truth.csv").open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(("case_id", "diagnosis", "centre"))
        writer.writerows(rows)
    manifest = {"generator": "three-class", "seed": seed, "n_cases": n_cases}
    (out / "manifest.json").write_text(json.dumps(manifest, sort_keys=True))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-cases", type=int, default=60)
    args = parser.parse_args()
    generate(args.out, args.seed, args.n_cases)


if __name__ == "__main__":
    main()
