"""A challenge as a bundle archive (tar.gz): challenge.yaml with every setting and the data of
its phases as folders (`data: {path: data}`), so that `load_challenge` loads it back to the
same settings, under the same or another slug."""

from __future__ import annotations

import io
import posixpath
import tarfile
import tempfile
from typing import IO, Any

import yaml

from lai_platform import services
from lai_platform.audit import record
from lai_platform.extensions import db
from lai_platform.models import Challenge, Dataset, Phase, User
from lai_platform.storage import Storage

CONTRACT_FILE = "CONTRACT.md"


def export_bundle(actor: User, challenge: Challenge) -> tuple[IO[bytes], str]:
    """(the archive, rewound; its file name). The file is deleted when closed."""
    storage = services.get().storage
    folders = dataset_folders(challenge)
    spec = bundle_spec(challenge, folders)
    out = tempfile.TemporaryFile(prefix="lai-export-")
    root = challenge.slug
    with tarfile.open(fileobj=out, mode="w:gz", format=tarfile.PAX_FORMAT) as tar:
        _add_bytes(tar, f"{root}/challenge.yaml",
                   yaml.safe_dump(spec, sort_keys=False, allow_unicode=True).encode())
        if challenge.contract_md:
            _add_bytes(tar, f"{root}/{CONTRACT_FILE}", challenge.contract_md.encode())
        for dataset, folder in folders.values():
            base = f"{root}/data/{folder}"
            _copy_tar(storage, dataset.inputs_key, tar, f"{base}/inputs")
            with storage.open(dataset.ground_truth_key) as truth:
                _add_stream(tar, f"{base}/ground_truth.csv", truth,
                            storage.size(dataset.ground_truth_key))
        if challenge.training_data_key:
            _copy_tar(storage, challenge.training_data_key, tar,
                      f"{root}/data/{spec['training_split']}")
    size = out.tell()
    out.seek(0)
    record(actor, challenge, "challenge.export", challenge.slug, None,
           {"phases": [p.slug for p in challenge.phases], "bytes": size,
            "datasets": sorted(folder for _, folder in folders.values())})
    db.session.commit()
    return out, f"{challenge.slug}-bundle.tar.gz"


def dataset_folders(challenge: Challenge) -> dict[int, tuple[Dataset, str]]:
    """Each dataset a phase uses -> its folder name (the split's name; a version suffix when
    two phases use two versions of one split)."""
    found: dict[int, tuple[Dataset, str]] = {}
    taken: set[str] = {"training"} if challenge.training_data_key else set()
    for phase in challenge.phases:
        dataset = phase.dataset
        if dataset is None or dataset.id in found:
            continue
        folder = dataset.name if dataset.name not in taken else f"{dataset.name}-v{dataset.version}"
        while folder in taken:
            folder += "-copy"
        taken.add(folder)
        found[dataset.id] = (dataset, folder)
    return found


def bundle_spec(challenge: Challenge, folders: dict[int, tuple[Dataset, str]]) -> dict:
    spec: dict[str, Any] = {
        "slug": challenge.slug, "title": challenge.title, "summary": challenge.summary,
        "access": challenge.access, "email_domains": list(challenge.email_domains or []),
        "description": challenge.description_md, "terms": challenge.terms_md,
    }
    for name in ("team_changes_close_at", "team_max_size"):
        if getattr(challenge, name) is not None:
            spec[name] = getattr(challenge, name)
    if challenge.contract_md:
        spec["contract"] = CONTRACT_FILE
    if challenge.task is not None:
        spec["task"] = challenge.task
    if challenge.training_data_key:
        spec["training_split"] = "training"
    spec["data"] = {"path": "data"}
    spec["phases"] = [phase_spec(p, folders) for p in challenge.phases]
    return spec


def phase_spec(phase: Phase, folders: dict[int, tuple[Dataset, str]]) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "slug": phase.slug, "title": phase.title, "description": phase.description_md,
        "dataset": folders[phase.dataset.id][1] if phase.dataset is not None else None,
        "opens_at": phase.opens_at, "closes_at": phase.closes_at,
        "submissions_per_day": phase.submissions_per_day,
        "submissions_total": phase.submissions_total,
        "submissions_concurrent": phase.submissions_concurrent,
        "logs_visible": phase.logs_visible, "case_results_visible": phase.case_results_visible,
        "primary_metric": phase.primary_metric, "run_mode": phase.run_mode,
        "limits": dict(phase.limits or {}), "image_max_mb": phase.image_max_bytes // 2**20,
        "ranking": {"method": phase.ranking_method, "metrics": list(phase.ranking_metrics),
                    "alpha": phase.ranking_alpha},
        "display": phase.display_mode,
        # The exact cases: a fraction would draw other cases under another slug.
        "public_cases": list(phase.public_case_ids) if phase.public_case_ids else None,
        "final_selection_max": phase.final_selection_max,
    }
    return {key: value for key, value in spec.items() if value is not None}


def _copy_tar(storage: Storage, key: str, out: tarfile.TarFile, prefix: str) -> None:
    """The files of a stored tar archive (inputs or training set) under `prefix`."""
    with storage.open(key) as raw, tarfile.open(fileobj=raw, mode="r|*") as source:
        for member in source:
            name = posixpath.normpath(member.name)
            if name.startswith(("/", "..")) or not (member.isreg() or member.isdir()):
                continue  # the platform wrote these archives; skip anything odd all the same
            if name == ".":
                continue
            info = tarfile.TarInfo(f"{prefix}/{name}")
            info.mode = 0o755 if member.isdir() else 0o644
            if member.isdir():
                info.type = tarfile.DIRTYPE
                out.addfile(info)
            else:
                info.size = member.size
                out.addfile(info, source.extractfile(member))


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    _add_stream(tar, name, io.BytesIO(data), len(data))


def _add_stream(tar: tarfile.TarFile, name: str, stream: IO[bytes], size: int) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode = size, 0o644
    tar.addfile(info, stream)
