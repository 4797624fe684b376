"""Organizers upload a split (inputs archive + ground truth) in the browser or the API: it is
streamed, checksummed and validated; a broken one is refused with words that name the
problem, and nothing of it is kept."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest

from lai_platform.challenges.bundles import _deterministic_tar
from lai_platform.extensions import db
from lai_platform.models import AuditEvent, Case, Dataset
from tests.organizing.conftest import SLUG

API = f"/api/v1/challenges/{SLUG}"
PAGE = f"/organize/{SLUG}/datasets"


def split_files(demo_bundle: Path, tmp_path: Path, split: str = "validation"
                ) -> tuple[bytes, bytes]:
    """The demo split's inputs as a tar archive, and its ground truth."""
    folder = demo_bundle / "data" / split
    tar = _deterministic_tar(folder / "inputs", tmp_path / f"{split}-inputs.tar")
    return tar.read_bytes(), (folder / "ground_truth.csv").read_bytes()


def tar_of(members: dict[str, bytes], gzip: bool = False) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz" if gzip else "w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def api_upload(person, name: str, inputs: bytes, truth: bytes):
    return person.api.client.post(
        f"{API}/datasets", headers={"Authorization": f"Bearer {person.api.token}"},
        content_type="multipart/form-data",
        data={"name": name, "inputs": (io.BytesIO(inputs), "inputs.tar"),
              "ground_truth": (io.BytesIO(truth), "ground_truth.csv")})


def web_upload(person, name: str, inputs: bytes, truth: bytes, csrf: bool = True):
    fields = {"csrf_token": person.web.csrf(PAGE)} if csrf else {}
    fields |= {"name": name, "inputs": (io.BytesIO(inputs), "inputs.tar"),
               "ground_truth": (io.BytesIO(truth), "ground_truth.csv")}
    return person.web.client.post(PAGE, data=fields, content_type="multipart/form-data",
                                  follow_redirects=True)


def stored_uploads(platform) -> list[Path]:
    root = platform.services.settings.data_dir / "storage" / "datasets" / SLUG / "uploads"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def dataset_rows(platform) -> list[tuple[str, int]]:
    with platform.app.app_context():
        return [(d.name, d.version) for d in db.session.scalars(
            db.select(Dataset).order_by(Dataset.id))]


def test_an_editor_uploads_a_split_in_the_browser(cast, demo_bundle, tmp_path):
    inputs, truth = split_files(demo_bundle, tmp_path)
    page = web_upload(cast.editor, "validation", inputs, truth)
    html = page.get_data(as_text=True)
    assert page.status_code == 200, html
    assert "validation v2 stored: 40 cases" in html
    rows = list(csv.DictReader(io.StringIO(truth.decode())))
    with cast.platform.app.app_context():
        dataset = db.session.scalar(db.select(Dataset).where(Dataset.version == 2))
        assert (dataset.name, dataset.n_cases) == ("validation", 40)
        report = dataset.report
        assert report["valid"] and report["problems"] == []
        assert report["inputs"]["sha256"] == hashlib.sha256(inputs).hexdigest()
        assert report["ground_truth"]["sha256"] == hashlib.sha256(truth).hexdigest()
        assert sum(report["labels"].values()) == 40
        assert report["labels"]["HCC"] == sum(r["diagnosis"] == "HCC" for r in rows)
        assert report["centres"] == {c: sum(r["centre"] == c for r in rows)
                                     for c in sorted({r["centre"] for r in rows})}
        cases = {c.case_id: c.centre for c in db.session.scalars(
            db.select(Case).where(Case.dataset_id == dataset.id))}
        assert cases == {r["case_id"]: r["centre"] for r in rows}
        event = db.session.scalar(db.select(AuditEvent).where(
            AuditEvent.action == "dataset.upload"))
        assert event.actor.email == cast.editor.email and event.target == "validation v2"
    # The page lists the version with its checksum and its counts.
    listing = cast.editor.web.client.get(PAGE).get_data(as_text=True)
    assert dataset.sha256[:16] in listing and f"HCC {report['labels']['HCC']}" in listing


def test_an_upload_via_the_api_counts_versions_and_is_listed(cast, demo_bundle, tmp_path):
    inputs, truth = split_files(demo_bundle, tmp_path, "test")
    first = api_upload(cast.admin, "holdout", inputs, truth)
    assert first.status_code == 201, first.get_json()
    with tarfile.open(fileobj=io.BytesIO(inputs)) as source:
        again = tar_of({m.name: source.extractfile(m).read() for m in source.getmembers()
                        if m.isfile()}, gzip=True)
    second = api_upload(cast.admin, "holdout", again, truth)
    assert second.status_code == 201, second.get_json()
    assert (first.get_json()["version"], second.get_json()["version"]) == (1, 2)
    assert second.get_json()["report"]["n_cases"] == 48
    listing = cast.reviewer.api.get(f"{API}/datasets").get_json()["datasets"]
    names = {(d["name"], d["version"]): d for d in listing}
    assert {("holdout", 1), ("holdout", 2), ("validation", 1), ("test", 1)} <= set(names)
    assert names["validation", 1]["phases"] == ["development"]


def _break(kind: str, inputs: bytes, truth: bytes) -> tuple[bytes, bytes, str]:
    """A broken copy of the split and the words the refusal must contain."""
    with tarfile.open(fileobj=io.BytesIO(inputs)) as tar:
        files = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}
    ids = json.loads(files["cases.json"])
    if kind == "missing_folder":
        files = {n: d for n, d in files.items() if not n.startswith(ids[0] + "/")}
        return tar_of(files), truth, f"have no folder in the archive: '{ids[0]}'"
    if kind == "extra_folder":
        files["LAI-STRAY-1/t1.nii.gz"] = b"x"
        return tar_of(files), truth, "not in cases.json: 'LAI-STRAY-1'"
    if kind == "truth_ids":
        text = truth.decode().replace(ids[0] + ",", "LAI-NOPE-1,", 1)
        return inputs, text.encode(), "case id(s) are not in cases.json: 'LAI-NOPE-1'"
    if kind == "unknown_label":
        text = truth.decode().replace(",haemangioma,", ",hemangioma,", 1)
        if text == truth.decode():
            text = truth.decode().replace(",FNH,", ",hemangioma,", 1)
        return inputs, text.encode(), "label(s) hemangioma not among"
    if kind == "not_tar":
        return b"this is not an archive at all" * 40, truth, "not a tar archive"
    if kind == "traversal":
        files["../evil.txt"] = b"x"
        return tar_of(files), truth, "'../evil.txt', which points outside the archive"
    raise AssertionError(kind)


BROKEN = ["missing_folder", "extra_folder", "truth_ids", "unknown_label", "not_tar",
          "traversal"]


@pytest.mark.parametrize("kind", BROKEN)
def test_a_broken_upload_is_refused_naming_the_problem(cast, demo_bundle, tmp_path, kind):
    inputs, truth = split_files(demo_bundle, tmp_path)
    bad_inputs, bad_truth, words = _break(kind, inputs, truth)
    before = dataset_rows(cast.platform)
    response = api_upload(cast.editor, "validation", bad_inputs, bad_truth)
    assert response.status_code == 422, response.get_json()
    body = response.get_json()
    assert body["error"]["code"] == "dataset_invalid"
    assert words in body["error"]["message"], body["error"]["message"]
    assert any(words in p for p in body["report"]["problems"])
    # The browser shows the same report; nothing is kept either way.
    page = web_upload(cast.editor, "validation", bad_inputs, bad_truth)
    html = page.get_data(as_text=True)
    assert page.status_code == 422 and "The upload was refused" in html
    assert words.replace("'", "&#39;") in html
    assert dataset_rows(cast.platform) == before
    assert stored_uploads(cast.platform) == []


def test_who_may_upload_and_the_form_needs_its_csrf_token(cast, demo_bundle, tmp_path):
    inputs, truth = split_files(demo_bundle, tmp_path)
    before = dataset_rows(cast.platform)
    for person in (cast.reviewer, cast.participant, cast.other_organizer):
        assert api_upload(person, "validation", inputs, truth).status_code == 403
    assert cast.reviewer.web.client.get(PAGE).status_code == 200  # may look, not change
    refused = web_upload(cast.editor, "validation", inputs, truth, csrf=False)
    assert refused.status_code == 400 and "form has expired" in refused.get_data(as_text=True)
    assert dataset_rows(cast.platform) == before
    assert stored_uploads(cast.platform) == []


def test_a_bad_split_name_or_a_missing_file_is_refused(cast, demo_bundle, tmp_path):
    inputs, truth = split_files(demo_bundle, tmp_path)
    bad_name = api_upload(cast.editor, "../Test", inputs, truth)
    assert bad_name.status_code == 400 and "split name" in bad_name.get_json()["error"]["message"]
    missing = cast.editor.api.client.post(
        f"{API}/datasets", headers={"Authorization": f"Bearer {cast.editor.api.token}"},
        content_type="multipart/form-data",
        data={"name": "x", "inputs": (io.BytesIO(inputs), "inputs.tar")})
    assert missing.status_code == 400
    assert "missing: ground_truth" in missing.get_json()["error"]["message"]
    assert stored_uploads(cast.platform) == []
