"""An organizer uploads a split: an inputs archive and a ground-truth CSV, streamed into
storage, checksummed and validated. A valid upload becomes the next version of the split's
Dataset; an invalid one leaves nothing behind and answers with a report that says what is
wrong (`DatasetInvalid`).

The inputs archive has the bundles' layout: `cases.json` (a JSON list of case ids) and one
folder `<case_id>/` per case; a plain tar or a gzip-compressed one. It is read once, with
the bounds and path checks of `images.archive` (nothing is extracted here).
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, BinaryIO

from sqlalchemy import func, select

from evaluator import GroundTruth, read_ground_truth
from evaluator.ground_truth import GroundTruthError
from evaluator.task import Task
from lai_platform import services
from lai_platform.audit import record
from lai_platform.challenges.datasets import dataset_checksum
from lai_platform.challenges.tasks import task_of
from lai_platform.errors import PlatformError
from lai_platform.extensions import db
from lai_platform.images.archive import SAVE_HINT, Expansion, ImageRejected, scanned_archive
from lai_platform.models import Case, Challenge, Dataset, Phase, User
from lai_platform.models.locking import lock_rows
from lai_platform.storage import Storage
from lai_platform.submissions.uploads import Stored, receive_files

SPLIT_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
FILES = ("inputs", "ground_truth")
_MAX_LISTED = 10  # ids named in one problem: enough to act on, not a flood
ARCHIVE_HINT = ("Pack the split's inputs folder (cases.json and one folder per case) with "
                "`tar -C inputs -czf inputs.tar.gz .` and upload that file.")


class DatasetInvalid(PlatformError):
    """The upload was refused; `report` says why (its `problems`), nothing was kept."""

    def __init__(self, report: dict[str, Any]) -> None:
        problems = report.get("problems") or ["the upload is not a valid split"]
        super().__init__("dataset_invalid", "The dataset was not accepted: "
                         + "; ".join(problems), 422)
        self.report = report


@dataclass
class InputsScan:
    case_ids: list[str] | None
    folders: set[str]
    files: int
    problems: list[str]


def receive_dataset(challenge: Challenge, actor: User, stream: BinaryIO,
                    content_type: str | None,
                    check_field: Callable[[str, str | None], None] | None = None) -> Dataset:
    """Stream a multipart form (`name`, `inputs`, `ground_truth`) into storage, validate it
    and create the dataset version; raises DatasetInvalid or PlatformError."""
    challenge_id, slug, task = challenge.id, challenge.slug, task_of(challenge)
    actor_id = actor.id
    db.session.close()  # no database connection is held while the body streams in
    storage = services.get().storage
    folder = f"datasets/{slug}/uploads/{uuid.uuid4().hex}"
    # The key says tar; a gzip-compressed upload is kept as sent (tarfile reads both).
    keys = {"inputs": f"{folder}/inputs.tar", "ground_truth": f"{folder}/ground_truth.csv"}
    limit = services.get().settings.max_upload_bytes
    try:
        received = receive_files(stream, content_type, storage, keys, limit, check_field)
    except PlatformError as exc:
        if exc.code == "image_too_large":
            raise PlatformError("dataset_too_large", "A file of the dataset is larger than "
                                f"the platform's upload limit of {limit / 2**30:.1f} GiB.",
                                413) from None
        raise
    try:
        name = check_split_name(received.fields.get("name", ""))
        missing = [f for f in FILES if f not in received.files or not received.files[f].size]
        if missing:
            raise PlatformError("dataset_incomplete", "Send both files: the inputs archive "
                                "(field 'inputs') and the ground-truth CSV (field "
                                f"'ground_truth'); missing: {', '.join(missing)}.")
        report, truth = validate_split(storage, received.files["inputs"],
                                       received.files["ground_truth"], task)
        if report["problems"] or truth is None:
            report["name"] = name  # the form shows it again
            raise DatasetInvalid(report)
        challenge = db.session.get(Challenge, challenge_id)
        actor = db.session.get(User, actor_id)
        return create_version(challenge, actor, name, received.files, report, truth)
    except BaseException:
        db.session.rollback()
        for stored in received.files.values():
            storage.delete(stored.key)  # a refused upload keeps nothing
        raise


def check_split_name(name: str) -> str:
    name = name.strip()
    if not SPLIT_NAME.match(name):
        raise PlatformError("bad_name", f"The split name {name!r} must be 1 to 64 lower-case "
                            "letters, digits, '-' or '_', starting with a letter or digit "
                            "(e.g. 'test').")
    return name


def validate_split(storage: Storage, inputs: Stored, ground_truth: Stored,
                   task: Task) -> tuple[dict[str, Any], GroundTruth | None]:
    """The validation report (problems, empty when valid; counts; checksums) and the
    ground truth when it could be read."""
    scan = scan_inputs(storage, inputs)
    problems = list(scan.problems)
    truth = None
    try:
        with storage.local_path(ground_truth.key) as path:
            truth = read_ground_truth(path, task=task)  # labels and binary column checked
    except GroundTruthError as exc:
        problems.append(f"ground_truth.csv: {exc}")
    report: dict[str, Any] = {
        "inputs": {"sha256": inputs.sha256, "size": inputs.size, "files": scan.files},
        "ground_truth": {"sha256": ground_truth.sha256, "size": ground_truth.size},
        "n_cases": len(scan.case_ids) if scan.case_ids is not None else None,
    }
    if truth is not None:
        if scan.case_ids is not None:
            problems += _truth_against_cases(truth, scan.case_ids)
        report["labels"] = {label: Counter(truth.diagnosis)[label] for label in task.labels}
        report["centres"] = dict(sorted(Counter(truth.centre).items()))
    report["problems"] = problems
    report["valid"] = not problems
    return report, truth


def scan_inputs(storage: Storage, inputs: Stored) -> InputsScan:
    """cases.json against the archive's folders; unsafe or odd members are problems."""
    scan = InputsScan(None, set(), 0, [])
    limit = services.get().settings.max_upload_bytes
    try:
        with storage.open(inputs.key) as raw, \
                scanned_archive(raw, Expansion(limit, inputs.size, members=False)) as members:
            entries = members.entries
            scan.files = sum(1 for entry in entries.values() if entry.isreg())
            if members.links:
                scan.problems.append("inputs: the archive holds links ("
                                     + _listed(sorted(members.links))
                                     + "); store real files instead")
            scan.folders = {n.split("/")[0] for n, e in entries.items()
                            if "/" in n or e.isdir()}
            if members.resolve("cases.json") is None:
                scan.problems.append("inputs: cases.json is missing at the top of the "
                                     f"archive. {ARCHIVE_HINT}")
            else:
                data = members.read("cases.json", "cases_json_too_large", "cases.json")
                scan.case_ids = _case_ids(data, scan.problems)
    except ImageRejected as exc:
        scan.problems.append("inputs: " + _dataset_words(exc))
        return scan
    if scan.case_ids is not None:
        missing = sorted(set(scan.case_ids) - scan.folders)
        extra = sorted(scan.folders - set(scan.case_ids))
        if missing:
            scan.problems.append(f"inputs: {len(missing)} case(s) of cases.json have no "
                                 f"folder in the archive: {_listed(missing)}")
        if extra:
            scan.problems.append(f"inputs: {len(extra)} folder(s) in the archive are not in "
                                 f"cases.json: {_listed(extra)}")
    return scan


def _case_ids(data: bytes, problems: list[str]) -> list[str] | None:
    try:
        ids = json.loads(data)
    except (ValueError, RecursionError):
        problems.append("inputs: cases.json is not valid JSON; it must be a list of case ids")
        return None
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        problems.append("inputs: cases.json must be a non-empty JSON list of case ids (text)")
        return None
    bad = [i for i in ids if not SPLIT_NAME.match(i.lower()) or "/" in i]
    if bad:
        problems.append(f"inputs: case ids must be letters, digits, '-' or '_': {_listed(bad)}")
    repeated = sorted(i for i, n in Counter(ids).items() if n > 1)
    if repeated:
        problems.append(f"inputs: cases.json lists case(s) twice: {_listed(repeated)}")
    return ids


def _truth_against_cases(truth: GroundTruth, case_ids: list[str]) -> list[str]:
    problems = []
    unknown = sorted(set(truth.case_ids) - set(case_ids))
    absent = sorted(set(case_ids) - set(truth.case_ids))
    if unknown:
        problems.append(f"ground_truth.csv: {len(unknown)} case id(s) are not in cases.json: "
                        f"{_listed(unknown)}")
    if absent:
        problems.append(f"ground_truth.csv: {len(absent)} case(s) of cases.json have no row: "
                        f"{_listed(absent)}")
    return problems


def _dataset_words(exc: ImageRejected) -> str:
    """archive.py speaks of `docker save` images; say it for a dataset archive."""
    if exc.code == "expands_too_much":
        return ("the archive expands far more than its compressed size or beyond the "
                "upload limit; it looks like a decompression bomb, not image data")
    return exc.message.replace(SAVE_HINT, ARCHIVE_HINT)


def _listed(names: list[str]) -> str:
    shown = ", ".join(repr(n) for n in names[:_MAX_LISTED])
    more = len(names) - _MAX_LISTED
    return shown + (f" and {more} more" if more > 0 else "")



def create_version(challenge: Challenge, actor: User | None, name: str,
                   files: dict[str, Stored], report: dict[str, Any],
                   truth: GroundTruth) -> Dataset:
    """The next version of split `name`, its cases and the audit event; commits."""
    lock_rows(Challenge, Challenge.id == challenge.id)  # one new version at a time
    latest = db.session.scalar(select(func.max(Dataset.version)).where(
        Dataset.challenge_id == challenge.id, Dataset.name == name)) or 0
    centre = dict(zip(truth.case_ids, truth.centre, strict=True))
    dataset = Dataset(
        challenge_id=challenge.id, name=name, version=latest + 1,
        inputs_key=files["inputs"].key, ground_truth_key=files["ground_truth"].key,
        sha256=dataset_checksum(files["inputs"].sha256, files["ground_truth"].sha256),
        n_cases=len(truth.case_ids), report=report,
        created_by_id=actor.id if actor is not None else None,
        cases=[Case(case_id=c, centre=centre[c]) for c in sorted(truth.case_ids)],
    )
    db.session.add(dataset)
    db.session.flush()
    record(actor, challenge, "dataset.upload", f"{name} v{dataset.version}", None,
           {"dataset_id": dataset.id, "name": name, "version": dataset.version,
            "sha256": dataset.sha256, "n_cases": dataset.n_cases})
    db.session.commit()
    return dataset


def inputs_sha256(dataset: Dataset) -> str:
    """The inputs archive's checksum: from the report, else (bundle datasets) by reading it."""
    known = (dataset.report or {}).get("inputs", {}).get("sha256")
    if known:
        return known
    digest = hashlib.sha256()
    with services.get().storage.open(dataset.inputs_key) as stream:
        while chunk := stream.read(2**20):
            digest.update(chunk)
    return digest.hexdigest()


def datasets_of(challenge: Challenge) -> list[Dataset]:
    """Newest version first within each split, splits by name."""
    return list(db.session.scalars(
        select(Dataset).where(Dataset.challenge_id == challenge.id)
        .order_by(Dataset.name, Dataset.version.desc())))


def phases_using(challenge: Challenge) -> dict[int, list[Phase]]:
    """Dataset id -> the phases that run on it now."""
    using: dict[int, list[Phase]] = {}
    for phase in challenge.phases:
        if phase.dataset_id is not None:
            using.setdefault(phase.dataset_id, []).append(phase)
    return using
