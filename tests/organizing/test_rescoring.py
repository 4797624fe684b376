"""Replacing a phase's ground truth re-scores every submission of the phase: a job with
visible progress; earlier scores stay in each submission's history; the leaderboard follows;
a job delivered twice changes nothing; predictions that no longer fit fail, not crash."""

from __future__ import annotations

import csv
import io
import json
import threading

import pytest

from evaluator import parse_predictions
from lai_platform.challenges.datasets import ground_truth_of
from lai_platform.challenges.lookups import find_phase
from lai_platform.extensions import db
from lai_platform.jobs.pipeline import predictions_key
from lai_platform.jobs.rescoring import run_rescoring
from lai_platform.leaderboards.parts import primary_score
from lai_platform.models import AuditEvent, Rescoring, Result, ScoreHistory, Submission
from lai_platform.scoring.builtin import score
from tests.organizing.conftest import SLUG, make_cast
from tests.story import perfect, record_scored_submission

API = f"/api/v1/challenges/{SLUG}"



def blurred(weight: float):
    """Right with probability `weight`, else the first benign label: a weaker model."""
    def predict(truth) -> dict:
        out = perfect(truth)
        for n, row in enumerate(out["predictions"]):
            if n % 3 == 0:
                row["malignant_probability"] = 1 - weight * row["malignant_probability"]
        return out
    return predict


def scored_with_predictions(cast, who: str, predict) -> int:
    """A scored submission whose predictions are stored, as a run would leave them."""
    platform = cast.platform
    sub_id = record_scored_submission(platform, cast.people[who].email, "development", predict)
    with platform.app.app_context():
        truth = ground_truth_of(platform.services.storage, find_phase(SLUG, "development").dataset)
        platform.services.storage.save(predictions_key(sub_id),
                                       io.BytesIO(json.dumps(predict(truth)).encode()))
    return sub_id


def corrected_split(platform, flips: int = 6) -> tuple[bytes, bytes]:
    """The development split's stored inputs (the same bytes) and a ground truth whose first
    `flips` malignant cases are relabelled benign (FNH): a corrected label set."""
    storage = platform.services.storage
    with platform.app.app_context():
        dataset = find_phase(SLUG, "development").dataset
        with storage.open(dataset.inputs_key) as stream:
            inputs = stream.read()
        with storage.open(dataset.ground_truth_key) as stream:
            rows = list(csv.DictReader(io.StringIO(stream.read().decode())))
    changed = 0
    for row in rows:
        if row["malignant"] == "1" and changed < flips:
            row["diagnosis"], row["malignant"] = "FNH", "0"
            changed += 1
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return inputs, out.getvalue().encode()


def upload_and_attach(cast, inputs: bytes, truth: bytes, name: str = "validation") -> dict:
    person = cast.editor
    upload = person.api.client.post(
        f"{API}/datasets", headers={"Authorization": f"Bearer {person.api.token}"},
        content_type="multipart/form-data",
        data={"name": name, "inputs": (io.BytesIO(inputs), "inputs.tar"),
              "ground_truth": (io.BytesIO(truth), "ground_truth.csv")})
    assert upload.status_code == 201, upload.get_json()
    attached = person.api.post_json(f"{API}/phases/development/dataset",
                                    {"dataset_id": upload.get_json()["id"]})
    assert attached.status_code == 200, attached.get_json()
    return attached.get_json()


def expected_score(platform, predict, old_dataset_id: int) -> float:
    """The primary score of `predict`'s old predictions against the phase's new truth."""
    with platform.app.app_context():
        from lai_platform.models import Dataset
        phase = find_phase(SLUG, "development")
        old = ground_truth_of(platform.services.storage, db.session.get(Dataset, old_dataset_id))
        new = ground_truth_of(platform.services.storage, phase.dataset)
        scored = score(parse_predictions(predict(old), new), new, phase, n_bootstrap=200,
                       training_centres=phase.challenge.training_centres)
        return primary_score(scored.metrics, phase.primary_metric)


def snapshot(platform) -> dict:
    with platform.app.app_context():
        return {
            "results": sorted((r.submission_id, r.dataset_id, r.primary_score)
                              for r in db.session.scalars(db.select(Result))),
            "history": db.session.scalar(db.select(db.func.count(ScoreHistory.id))),
            "rescorings": [(r.state, r.total, r.done, r.failed)
                           for r in db.session.scalars(db.select(Rescoring))],
            "finished": db.session.scalar(db.select(db.func.count(AuditEvent.id)).where(
                AuditEvent.action == "rescoring.finish")),
        }


@pytest.fixture
def cast_any_db(demo_platform_any_db):
    return make_cast(demo_platform_any_db)


def test_corrected_labels_rescore_every_submission(cast_any_db):
    cast = cast_any_db
    platform = cast.platform
    predictors = {"participant": perfect, "editor": blurred(0.5), "admin": blurred(0.9)}
    ids = {who: scored_with_predictions(cast, who, p) for who, p in predictors.items()}
    with platform.app.app_context():
        old_dataset_id = find_phase(SLUG, "development").dataset_id
    before = {s: cast.admin.api.submission(s)["metrics"] for s in ids.values()}
    inputs, truth = corrected_split(platform)

    attached = upload_and_attach(cast, inputs, truth)
    rescoring = attached["rescoring"]
    assert (rescoring["state"], rescoring["total"], rescoring["done"]) == ("queued", 3, 0)
    progress = f"{API}/rescorings/{rescoring['id']}"
    assert cast.reviewer.api.get(progress).get_json()["state"] == "queued"

    assert platform.run_rescorings() == [rescoring["id"]]
    done = cast.reviewer.api.get(progress).get_json()
    assert (done["state"], done["total"], done["done"], done["failed"]) == ("done", 3, 3, 0)
    page = cast.reviewer.web.client.get(f"/organize/{SLUG}/rescorings/{rescoring['id']}")
    assert "3 of 3 submissions" in page.get_data(as_text=True)

    new_dataset_id = attached["dataset"]["id"]
    board = {e["submission_id"]: e for e in cast.participant.api.leaderboard()["entries"]}
    for who, sub_id in ids.items():
        shown = cast.admin.api.submission(sub_id)
        want = expected_score(platform, predictors[who], old_dataset_id)
        assert shown["dataset_id"] == new_dataset_id
        assert shown["metrics"]["metrics"]["auc"]["value"] == pytest.approx(want, abs=1e-12)
        assert board[sub_id]["metrics"]["auc"]["value"] == pytest.approx(want, abs=1e-12)
        # The history keeps the earlier score, on the earlier version.
        [earlier] = shown["history"]
        assert earlier["dataset"] == "validation v1" and earlier["why"].startswith("re-scored")
        assert earlier["primary_score"] == pytest.approx(
            before[sub_id]["metrics"]["auc"]["value"], abs=1e-12)
    # The corrected labels changed the scores: the perfect model is no longer perfect.
    assert cast.admin.api.submission(ids["participant"])["history"][0]["primary_score"] == 1.0
    assert expected_score(platform, perfect, old_dataset_id) < 0.99
    html = cast.participant.web.client.get(f"/submissions/{ids['participant']}").get_data(
        as_text=True)
    assert "Earlier scores" in html and "validation v1" in html and "1.0000" in html

    with platform.app.app_context():
        actions = [e.action for e in db.session.scalars(
            db.select(AuditEvent).order_by(AuditEvent.id))]
        attach = db.session.scalar(db.select(AuditEvent).where(
            AuditEvent.action == "dataset.attach"))
        assert attach.before == {"dataset_id": old_dataset_id, "version": 1}
        assert attach.after == {"dataset_id": new_dataset_id, "version": 2}
    assert actions[-3:] == ["dataset.upload", "dataset.attach", "rescoring.finish"]

    # A second delivery of the job, and the tick finding nothing due: no change at all.
    state = snapshot(platform)
    run_rescoring(platform.app, rescoring["id"])
    assert platform.run_rescorings() == []
    assert snapshot(platform) == state


def test_two_deliveries_at_once_rescore_each_submission_once(cast_any_db):
    cast = cast_any_db
    ids = [scored_with_predictions(cast, who, perfect)
           for who in ("participant", "editor", "admin", "reviewer")]
    attached = upload_and_attach(cast, *corrected_split(cast.platform))
    workers = [threading.Thread(target=run_rescoring,
                                args=(cast.platform.app, attached["rescoring"]["id"]))
               for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    state = snapshot(cast.platform)
    assert state["history"] == len(ids)  # one earlier score each, not two
    assert state["rescorings"] == [("done", 4, 4, 0)] and state["finished"] == 1
    assert {r[1] for r in state["results"]} == {attached["dataset"]["id"]}


def test_predictions_that_no_longer_fit_fail_with_a_message(cast):
    good = scored_with_predictions(cast, "participant", perfect)
    bad = scored_with_predictions(cast, "editor", perfect)
    storage = cast.platform.services.storage
    storage.save(predictions_key(bad), io.BytesIO(b'{"predictions": []}'))
    attached = upload_and_attach(cast, *corrected_split(cast.platform))
    cast.platform.run_rescorings()
    progress = cast.admin.api.get(f"{API}/rescorings/{attached['rescoring']['id']}").get_json()
    assert (progress["state"], progress["done"], progress["failed"]) == ("done", 2, 1)
    failed = cast.editor.api.submission(bad)
    assert failed["status"] == "failed" and failed["counts_against_quota"] is False
    assert "stored predictions do not fit it" in failed["failure_message"]
    assert failed["history"][0]["dataset"] == "validation v1"
    assert cast.participant.api.submission(good)["status"] == "succeeded"
    board = cast.participant.api.leaderboard()["entries"]
    assert [e["submission_id"] for e in board] == [good]


def test_new_inputs_run_the_containers_again(cast, demo_bundle, tmp_path):
    from tests.organizing.test_datasets import split_files
    sub_id = scored_with_predictions(cast, "participant", perfect)
    inputs, truth = split_files(demo_bundle, tmp_path, "test")  # other cases, other inputs
    attached = upload_and_attach(cast, inputs, truth, name="validation")
    cast.platform.run_rescorings()
    with cast.platform.app.app_context():
        sub = db.session.get(Submission, sub_id)
        assert (sub.status, sub.counts_against_quota, sub.result) == ("queued", False, None)
        phase = find_phase(SLUG, "development")
        assert phase.dataset_id == attached["dataset"]["id"]
    assert cast.participant.api.submission(sub_id)["history"][0]["dataset"] == "validation v1"
    progress = cast.admin.api.get(f"{API}/rescorings/{attached['rescoring']['id']}").get_json()
    assert (progress["state"], progress["done"], progress["failed"]) == ("done", 1, 0)


def test_attaching_via_the_browser_and_who_may(cast):
    scored_with_predictions(cast, "participant", perfect)
    inputs, truth = corrected_split(cast.platform)
    upload = cast.editor.api.client.post(
        f"{API}/datasets", headers={"Authorization": f"Bearer {cast.editor.api.token}"},
        content_type="multipart/form-data",
        data={"name": "validation", "inputs": (io.BytesIO(inputs), "inputs.tar"),
              "ground_truth": (io.BytesIO(truth), "ground_truth.csv")})
    dataset_id = upload.get_json()["id"]
    url = f"{API}/phases/development/dataset"
    assert cast.reviewer.api.post_json(url, {"dataset_id": dataset_id}).status_code == 403
    page = f"/organize/{SLUG}/datasets"
    done = cast.editor.web.post_form(page, f"/organize/{SLUG}/phases/development/dataset",
                                     dataset_id=str(dataset_id))
    html = done.get_data(as_text=True)
    assert done.status_code == 200 and "Re-scoring its 1 scored submission" in html
    again = cast.editor.api.post_json(url, {"dataset_id": dataset_id})
    assert again.status_code == 400 and "already uses" in again.get_json()["error"]["message"]
