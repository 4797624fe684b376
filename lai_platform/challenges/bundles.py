"""Loading a challenge bundle: `challenge.yaml`, its texts and its data splits.

A bundle's data is either a folder of splits (`data: {path: ...}`) or made by the bundle's
generator (`data: {generator: generate.py, options: {...}}`). Each split holds
`inputs/cases.json`, `inputs/<case_id>/...` and `ground_truth.csv`.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import tarfile
import tempfile
from pathlib import Path
from typing import Any

import yaml

from evaluator import GroundTruth, GroundTruthError, TaskError, read_ground_truth, read_task
from evaluator.metrics import METRICS
from lai_platform import services
from lai_platform.challenges.checks import domains, team_settings
from lai_platform.challenges.datasets import dataset_checksum, file_sha256
from lai_platform.challenges.lookups import find_challenge
from lai_platform.challenges.tasks import checked_task, task_of
from lai_platform.extensions import db
from lai_platform.leaderboards.settings import apply_display, apply_ranking
from lai_platform.models import Case, Challenge, Dataset, Phase

PHASE_FIELDS = {
    "title", "description", "dataset", "logs_visible", "submissions_per_day",
    "submissions_total", "primary_metric", "run_mode", "limits", "image_max_mb",
    "opens_at", "closes_at", "ranking", "display", "public_fraction", "case_results_visible",
    "submissions_concurrent", "public_cases", "final_selection_max",
}
ACCESS_MODES = ("open", "review", "closed")
FINAL_SELECTION_MAX = 20  # the most submissions a phase may let participants mark


class BundleError(ValueError):
    pass


def read_bundle(path: Path) -> dict[str, Any]:
    file = path / "challenge.yaml" if path.is_dir() else path
    if not file.is_file():
        raise BundleError(f"{file} not found: a bundle is a folder with a challenge.yaml.")
    try:
        spec = yaml.safe_load(file.read_text())
    except yaml.YAMLError as exc:
        raise BundleError(f"{file} is not valid YAML: {exc}") from exc
    if not isinstance(spec, dict):
        raise BundleError(f"{file} must hold a mapping.")
    for key in ("slug", "title", "phases", "data"):
        if key not in spec:
            raise BundleError(f"{file}: '{key}' is missing.")
    spec["_dir"] = file.parent
    return spec


def bundle_data_dir(spec: dict, data_root: Path, options: dict | None = None) -> Path:
    """The folder of splits: the bundle's own, or generated (once) under data_root."""
    data = spec["data"]
    base: Path = spec["_dir"]
    if "path" in data:
        return (base / data["path"]).resolve()
    opts = {**data.get("options", {}), **(options or {})}
    out = data_root / "bundles" / spec["slug"] / _options_hash(opts)
    if not (out / "manifest.json").exists():
        generator = _import(base / data["generator"])
        generator.generate(out, **opts)
    return out


def load_challenge(path: Path, options: dict | None = None, *, commit: bool = True) -> Challenge:
    """Load a bundle; commit=False leaves the commit to the caller (who adds its audit event
    to the same transaction)."""
    spec = read_bundle(path)
    slug = spec["slug"]
    if find_challenge(slug) is not None:
        raise BundleError(f"A challenge '{slug}' is already loaded.")
    data_dir = bundle_data_dir(spec, services.get().settings.data_dir, options)
    base: Path = spec["_dir"]
    challenge = Challenge(
        slug=slug,
        title=spec["title"],
        summary=spec.get("summary", ""),
        description_md=spec.get("description", ""),
        terms_md=spec.get("terms", ""),
        contract_md=_read_text(base, spec.get("contract")),
        access=spec.get("access", "open"),
    )
    if challenge.access not in ACCESS_MODES:
        raise BundleError(f"access must be one of {', '.join(ACCESS_MODES)}.")
    challenge.task = _task(spec)
    challenge.email_domains = _email_domains(spec.get("email_domains"))
    problems: list[str] = []
    for name, value in team_settings(spec, problems).items():
        setattr(challenge, name, value)
    if problems:
        raise BundleError(" ".join(problems))
    db.session.add(challenge)
    db.session.flush()
    if training := spec.get("training_split"):
        (challenge.training_data_key, challenge.training_data_size,
         challenge.training_data_sha256) = _store_training(slug, data_dir / training)
        truth = _read_truth(data_dir / training / "ground_truth.csv", challenge)
        challenge.training_centres = sorted(set(truth.centre))
    datasets: dict[str, Dataset] = {}
    for position, phase_spec in enumerate(spec["phases"]):
        split = phase_spec.get("dataset")  # a phase may wait for its dataset
        if split is not None and split not in datasets:
            datasets[split] = _store_dataset(challenge, split, data_dir / split)
        phase = _phase(challenge, phase_spec, datasets.get(split), position)
        db.session.add(phase)
    if commit:
        db.session.commit()
    return challenge


def _email_domains(value) -> list[str]:
    problems: list[str] = []
    found = domains(value if isinstance(value, list) else str(value or ""), problems)
    if problems:
        raise BundleError("email_domains: " + " ".join(problems))
    return found


def _phase(challenge: Challenge, spec: dict, dataset: Dataset | None, position: int) -> Phase:
    unknown = set(spec) - PHASE_FIELDS - {"slug"}
    if unknown:
        raise BundleError(f"phase {spec.get('slug')}: unknown keys {sorted(unknown)}")
    metric = spec.get("primary_metric", task_of(challenge).primary)
    if metric not in METRICS:
        raise BundleError(f"phase {spec['slug']}: unknown metric {metric!r}")
    if spec.get("run_mode", "batch") != "batch":
        # per_case (one run per case) is designed but not built yet: refuse rather than
        # silently run the phase in batch mode.
        raise BundleError(f"phase {spec['slug']}: run_mode {spec['run_mode']!r} is not "
                          "supported yet; use 'batch'.")
    phase = Phase(
        challenge=challenge,
        slug=spec["slug"],
        title=spec.get("title", spec["slug"]),
        description_md=spec.get("description", ""),
        position=position,
        dataset=dataset,
        logs_visible=bool(spec.get("logs_visible", False)),
        submissions_per_day=spec.get("submissions_per_day"),
        submissions_total=spec.get("submissions_total"),
        submissions_concurrent=spec.get("submissions_concurrent"),
        primary_metric=metric,
        run_mode=spec.get("run_mode", "batch"),
        limits=dict(spec.get("limits", {})),
        opens_at=spec.get("opens_at"),
        closes_at=spec.get("closes_at"),
    )
    if "image_max_mb" in spec:
        phase.image_max_bytes = int(spec["image_max_mb"]) * 2**20
    ranking = spec.get("ranking") or {}
    try:
        apply_ranking(phase, ranking.get("method", "score"), ranking.get("metrics", []),
                      float(ranking.get("alpha", 0.05)))
        apply_display(phase, spec.get("display", "all"))
    except ValueError as exc:
        raise BundleError(str(exc)) from exc
    phase.case_results_visible = bool(spec.get("case_results_visible", False))
    _public_split(challenge, phase, spec, dataset)
    phase.final_selection_max = _final_selection(phase, spec.get("final_selection_max"))
    return phase


def _public_split(challenge: Challenge, phase: Phase, spec: dict, dataset: Dataset | None) -> None:
    """`public_cases` (an exported bundle: the exact cases) or `public_fraction`."""
    if (spec.get("public_fraction") is not None or spec.get("public_cases")) and dataset is None:
        raise BundleError(f"phase {phase.slug}: a public split needs the phase's dataset")
    if listed := spec.get("public_cases"):
        known = {c.case_id for c in dataset.cases}
        unknown = sorted(set(map(str, listed)) - known)
        if unknown:
            raise BundleError(f"phase {phase.slug}: public_cases not in the dataset: "
                              f"{', '.join(unknown[:5])}")
        phase.public_case_ids = sorted(map(str, listed))
    elif (fraction := spec.get("public_fraction")) is not None:
        if not 0 < float(fraction) < 1:
            raise BundleError(f"phase {phase.slug}: public_fraction must be between 0 and 1")
        phase.public_case_ids = public_cases(
            [c.case_id for c in dataset.cases], float(fraction), f"{challenge.slug}/{phase.slug}"
        )


def _final_selection(phase: Phase, value) -> int | None:
    """How many submissions a participant may mark for the final leaderboard (None: off)."""
    if value is None:
        return None
    whole = isinstance(value, int) and not isinstance(value, bool)
    if not whole or not 1 <= value <= FINAL_SELECTION_MAX:
        raise BundleError(f"phase {phase.slug}: final_selection_max must be a whole number "
                          f"from 1 to {FINAL_SELECTION_MAX} (or absent), not {value!r}")
    return value


def public_cases(case_ids: list[str], fraction: float, salt: str) -> list[str]:
    """A fixed, reproducible subset: the cases whose salted hash sorts first."""
    def key(case_id: str) -> str:
        return hashlib.sha256(f"{salt}/{case_id}".encode()).hexdigest()

    count = max(1, round(len(case_ids) * fraction))
    return sorted(sorted(case_ids, key=key)[:count])


def _store_dataset(challenge: Challenge, split: str, folder: Path) -> Dataset:
    inputs = folder / "inputs"
    gt_file = folder / "ground_truth.csv"
    if not (inputs / "cases.json").is_file() or not gt_file.is_file():
        raise BundleError(f"{folder} needs inputs/cases.json and ground_truth.csv.")
    case_ids = json.loads((inputs / "cases.json").read_text())
    ground_truth = _read_truth(gt_file, challenge)
    if sorted(case_ids) != sorted(ground_truth.case_ids):
        raise BundleError(f"{folder}: cases.json and ground_truth.csv list different cases.")
    storage = services.get().storage
    with tempfile.TemporaryDirectory(prefix="lai-bundle-") as tmp:
        archive = _deterministic_tar(inputs, Path(tmp) / "inputs.tar")
        sha = dataset_checksum(file_sha256(archive), file_sha256(gt_file))
        prefix = f"datasets/{challenge.slug}/{split}-{sha[:16]}"
        for name, source in (("inputs.tar", archive), ("ground_truth.csv", gt_file)):
            with source.open("rb") as stream:
                storage.save(f"{prefix}/{name}", stream)
    dataset = Dataset(
        challenge_id=challenge.id,
        name=split,
        inputs_key=f"{prefix}/inputs.tar",
        ground_truth_key=f"{prefix}/ground_truth.csv",
        sha256=sha,
        n_cases=len(case_ids),
    )
    centre = dict(zip(ground_truth.case_ids, ground_truth.centre, strict=True))
    dataset.cases = [Case(case_id=c, centre=centre[c]) for c in case_ids]
    db.session.add(dataset)
    return dataset


def _store_training(slug: str, folder: Path) -> tuple[str, int, str]:
    """The published training set: inputs plus labels, one tar archive; (key, size, SHA-256)."""
    if not folder.is_dir():
        raise BundleError(f"training split {folder} not found")
    key = f"challenges/{slug}/training.tar"
    with tempfile.TemporaryDirectory(prefix="lai-bundle-") as tmp:
        archive = _deterministic_tar(folder, Path(tmp) / "training.tar")
        with archive.open("rb") as stream:
            sha256 = hashlib.file_digest(stream, "sha256").hexdigest()
            stream.seek(0)
            size = services.get().storage.save(key, stream)
    return key, size, sha256


def _deterministic_tar(folder: Path, dest: Path) -> Path:
    """Same files, same bytes: sorted names, no owners, no times. Written to disk, not memory."""
    with tarfile.open(dest, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(folder.rglob("*")):
            info = tar.gettarinfo(str(path), arcname=str(path.relative_to(folder)))
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.mtime = 0
            info.mode = 0o755 if path.is_dir() else 0o644
            if path.is_file():
                with path.open("rb") as stream:
                    tar.addfile(info, stream)
            else:
                tar.addfile(info)
    return dest


def _read_text(base: Path, name: str | None) -> str:
    if not name:
        return ""
    if not (base / name).is_file():
        raise BundleError(f"{base / name} is named in challenge.yaml but does not exist.")
    return (base / name).read_text()


def _options_hash(options: dict) -> str:
    return hashlib.sha256(json.dumps(options, sort_keys=True).encode()).hexdigest()[:12]


def _import(path: Path):
    spec = importlib.util.spec_from_file_location(f"lai_bundle_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise BundleError(f"cannot import the generator {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _task(spec: dict) -> dict | None:
    """challenge.yaml's `task:` (a mapping, or a task file of the bundle), checked; None (no
    key): the legacy LAI task (tasks.py)."""
    value = spec.get("task")
    try:
        if isinstance(value, str):
            base = Path(spec["_dir"]).resolve()
            file = (base / value).resolve()
            if not file.is_relative_to(base):  # an uploaded bundle names only its own files
                raise TaskError(f"task file {value!r} is outside the bundle")
            value = read_task(file).to_mapping()
        return checked_task(value) if "task" in spec else None
    except TaskError as exc:
        raise BundleError(f"challenge.yaml task: {exc}") from exc


def _read_truth(path: Path, challenge: Challenge) -> GroundTruth:
    """A split's ground truth, checked against the challenge's task (labels, positive)."""
    try:
        return read_ground_truth(path, task=task_of(challenge))
    except GroundTruthError as exc:
        raise BundleError(f"{path}: {exc}") from exc


__all__ = ["BundleError", "load_challenge", "read_bundle"]
