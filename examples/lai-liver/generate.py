"""Generate the synthetic multi-centre LAI liver-lesion MRI demo data set.

    python examples/lai-liver/generate.py --out DIR [--seed 0] [--n-train N]
        [--n-validation N] [--n-test N] [--shape X,Y,Z] [--realistic]

Layout: DIR/<split>/inputs/cases.json, DIR/<split>/inputs/<case>/<sequence>.nii.gz,
DIR/<split>/inputs/<case>/lesion_mask.nii.gz, DIR/<split>/ground_truth.csv and
DIR/manifest.json (written last: its presence means the output is complete).
Same parameters, same bytes.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import json
import shutil
import sys
import time
from pathlib import Path

import nibabel as nib
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))  # importable by file path too
import lai_phantom as ph  # noqa: E402

GENERATOR_VERSION = 1
DEFAULT_SHAPE: tuple[int, int, int] = (32, 32, 16)
REALISTIC_SHAPE: tuple[int, int, int] = (256, 256, 40)
DEFAULT_COUNTS = {"training": 200, "validation": 60, "test": 80}
SPLITS: tuple[str, ...] = ("training", "validation", "test")
ID_PREFIX = {"training": "LAI-TR", "validation": "LAI-VA", "test": "LAI-TE"}
SEEN_CENTRES = {"C01": 0.35, "C02": 0.25, "C03": 0.2, "C04": 0.2}
UNSEEN_CENTRES = {"C05": 0.5, "C06": 0.5}
GT_COLUMNS = ("case_id", "diagnosis", "malignant", "centre", "lesion_diameter_mm")


def _allocate(weights: dict[str, float], n: int) -> list[str]:
    """Exactly n labels in proportion to weights (largest remainder), so even small
    splits contain every class."""
    keys = list(weights)
    w = np.array([weights[k] for k in keys], float)
    raw = w / w.sum() * n
    counts = np.floor(raw).astype(int)
    for i in np.argsort(-(raw - counts), kind="stable")[: n - counts.sum()]:
        counts[i] += 1
    return [k for k, c in zip(keys, counts, strict=True) for _ in range(c)]


def _split_plan(split: str, n: int, rng: np.random.Generator) -> list[tuple[str, str]]:
    """(diagnosis, centre) per case, in random order so ids carry no label information."""
    diagnoses = _allocate(ph.PREVALENCE, n)
    if split == "test":  # about half from centres never seen in training
        n_unseen = n // 2
        centres = _allocate(UNSEEN_CENTRES, n_unseen) + _allocate(SEEN_CENTRES, n - n_unseen)
    else:
        centres = _allocate(SEEN_CENTRES, n)
    rng.shuffle(diagnoses)
    rng.shuffle(centres)
    return list(zip(diagnoses, centres, strict=True))


def _nifti_bytes(data: np.ndarray, spacing: np.ndarray) -> bytes:
    affine = np.diag([*spacing, 1.0])
    affine[:3, 3] = -(np.asarray(data.shape) - 1) / 2.0 * spacing  # volume centred at 0
    img = nib.Nifti1Image(data, affine)
    img.header.set_xyzt_units("mm")
    img.header.set_data_dtype(data.dtype)
    # mtime=0 and no file name in the gzip header: identical bytes on every run.
    return gzip.compress(img.to_bytes(), compresslevel=1, mtime=0)


def _write_case(case_dir: Path, case: ph.Case) -> None:
    case_dir.mkdir(parents=True)
    for name, volume in case.volumes.items():
        (case_dir / f"{name}.nii.gz").write_bytes(_nifti_bytes(volume, case.spacing))
    (case_dir / "lesion_mask.nii.gz").write_bytes(_nifti_bytes(case.mask, case.spacing))


def _source_hash() -> str:
    """Hash of the generator code: a cached output from other code is not a match."""
    digest = hashlib.sha256()
    for name in ("generate.py", "lai_phantom.py"):
        digest.update((Path(__file__).resolve().parent / name).read_bytes())
    return digest.hexdigest()


def manifest_for(
    seed: int, n_train: int, n_validation: int, n_test: int, shape: tuple[int, int, int]
) -> dict:
    return {
        "dataset": "lai-liver-synthetic",
        "generator_version": GENERATOR_VERSION,
        "generator_sha256": _source_hash(),
        "seed": seed,
        "shape": list(shape),
        "n_cases": {"training": n_train, "validation": n_validation, "test": n_test},
        "sequences": list(ph.SEQUENCES),
        "diagnoses": list(ph.DIAGNOSES),
        "malignant": sorted(ph.MALIGNANT),
        "centres": {"training": sorted(SEEN_CENTRES), "validation": sorted(SEEN_CENTRES),
                    "test": sorted(SEEN_CENTRES | UNSEEN_CENTRES)},
    }


def manifest_matches(out: Path, **params) -> bool:
    """True when `out` holds a complete output generated with these parameters."""
    path = Path(out) / "manifest.json"
    try:
        return json.loads(path.read_text()) == manifest_for(**_normalise(**params))
    except (OSError, ValueError):
        return False


def _normalise(
    seed: int = 0,
    n_train: int = DEFAULT_COUNTS["training"],
    n_validation: int = DEFAULT_COUNTS["validation"],
    n_test: int = DEFAULT_COUNTS["test"],
    shape: tuple[int, int, int] = DEFAULT_SHAPE,
) -> dict:
    shape = tuple(int(v) for v in shape)
    if len(shape) != 3 or min(shape) < 8:
        raise ValueError(f"shape must be three sizes >= 8, got {shape}")
    for name, n in (("n_train", n_train), ("n_validation", n_validation), ("n_test", n_test)):
        if n < 0:
            raise ValueError(f"{name} must be >= 0, got {n}")
    return {"seed": int(seed), "n_train": int(n_train), "n_validation": int(n_validation),
            "n_test": int(n_test), "shape": shape}


def generate(
    out: Path,
    seed: int = 0,
    n_train: int = DEFAULT_COUNTS["training"],
    n_validation: int = DEFAULT_COUNTS["validation"],
    n_test: int = DEFAULT_COUNTS["test"],
    shape: tuple[int, int, int] = DEFAULT_SHAPE,
    verbose: bool = False,
) -> None:
    """Write the three splits and manifest.json under `out` (replacing earlier splits)."""
    params = _normalise(seed, n_train, n_validation, n_test, shape)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    # Remove only what this generator owns; the manifest first, so a crash mid-way
    # never leaves a stale "complete" marker.
    (out / "manifest.json").unlink(missing_ok=True)
    for split in SPLITS:
        shutil.rmtree(out / split, ignore_errors=True)

    counts = {"training": params["n_train"], "validation": params["n_validation"],
              "test": params["n_test"]}
    for split_index, split in enumerate(SPLITS):
        started = time.perf_counter()
        # Independent random streams per split and per case: changing one split's size
        # does not change the others.
        plan = _split_plan(split, counts[split], np.random.default_rng([params["seed"],
                                                                       split_index, 2**20]))
        inputs = out / split / "inputs"
        inputs.mkdir(parents=True)
        rows, ids = [], []
        for i, (diagnosis, centre) in enumerate(plan):
            case_id = f"{ID_PREFIX[split]}-{i + 1:04d}"
            rng = np.random.default_rng([params["seed"], split_index, i])
            case = ph.simulate_case(diagnosis, ph.CENTRES[centre], params["shape"], rng)
            _write_case(inputs / case_id, case)
            ids.append(case_id)
            malignant = int(diagnosis in ph.MALIGNANT)
            rows.append((case_id, diagnosis, malignant, centre, f"{case.diameter_mm:.1f}"))
        (inputs / "cases.json").write_text(json.dumps(ids, indent=1) + "\n")
        with open(out / split / "ground_truth.csv", "w", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(GT_COLUMNS)
            writer.writerows(rows)
        if verbose:
            print(f"{split}: {len(ids)} cases in {time.perf_counter() - started:.1f} s")
    manifest = manifest_for(**params)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")


def ensure_generated(out: Path, **params) -> bool:
    """Generate unless a matching output is already there; True when it generated."""
    if manifest_matches(out, **params):
        return False
    generate(out, **params)
    return True


def _parse_shape(text: str) -> tuple[int, int, int]:
    try:
        shape = tuple(int(v) for v in text.lower().replace("x", ",").split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--shape must look like 32,32,16, got {text!r}") from None
    if len(shape) != 3:
        raise argparse.ArgumentTypeError(f"--shape needs three sizes, got {text!r}")
    return shape  # type: ignore[return-value]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-train", type=int, default=DEFAULT_COUNTS["training"])
    parser.add_argument("--n-validation", type=int, default=DEFAULT_COUNTS["validation"])
    parser.add_argument("--n-test", type=int, default=DEFAULT_COUNTS["test"])
    parser.add_argument("--shape", type=_parse_shape, default=None,
                        help=f"volume size X,Y,Z (default {','.join(map(str, DEFAULT_SHAPE))})")
    parser.add_argument("--realistic", action="store_true",
                        help=f"clinical-like size {'x'.join(map(str, REALISTIC_SHAPE))} "
                        "(slow, large)")
    args = parser.parse_args(argv)
    if args.shape and args.realistic:
        parser.error("--shape and --realistic are mutually exclusive")
    shape = args.shape or (REALISTIC_SHAPE if args.realistic else DEFAULT_SHAPE)
    started = time.perf_counter()
    try:
        generate(args.out, args.seed, args.n_train, args.n_validation, args.n_test, shape,
                 verbose=True)
    except ValueError as error:
        parser.error(str(error))
    print(f"wrote {args.out} in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
