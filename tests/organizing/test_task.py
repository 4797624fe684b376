"""The task page and API: organizers read the challenge's task, editors change it; every
value is checked with a message that says what is wrong; a change is audited and the
leaderboards follow it."""

from __future__ import annotations

import threading

import sqlalchemy as sa

from lai_platform.challenges.lookups import find_challenge, find_phase
from lai_platform.extensions import db
from lai_platform.models import AuditEvent
from tests.story import record_scored_submission

PAGE = "/organize/lai-liver/task"
API = "/api/v1/challenges/lai-liver/task"
LAI = ["HCC", "iCCA", "metastasis", "adenoma", "FNH", "haemangioma"]


def form(**changes) -> dict:
    """The task form as the demo's task fills it, with `changes`."""
    fields = {"name": "LAI liver lesions", "labels": "\n".join(LAI),
              "positive": "HCC, iCCA, metastasis", "positive_name": "malignant",
              "metrics": ["auc", "balanced_accuracy", "macro_f1", "kappa"], "primary": "auc"}
    return fields | changes


def task_events(cast) -> list[AuditEvent]:
    with cast.platform.app.app_context():
        return list(db.session.scalars(sa.select(AuditEvent).where(
            AuditEvent.action == "task.edit").order_by(AuditEvent.id)))


def test_organizers_see_the_task_others_do_not(cast):
    page = cast.reviewer.web.client.get(PAGE)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "malignant_probability" in html and "haemangioma" in html
    assert 'id="task-form"' not in html  # a reviewer reads, does not edit
    assert 'id="task-form"' in cast.editor.web.client.get(PAGE).get_data(as_text=True)
    for person in (cast.participant, cast.outsider, cast.other_organizer):
        assert person.web.client.get(PAGE).status_code == 403
    assert cast.reviewer.web.post_form(PAGE, **form()).status_code == 403
    assert cast.reviewer.api.get(API).get_json()["task"]["labels"] == LAI
    assert cast.participant.api.get(API).status_code == 403


def test_an_editor_changes_the_metrics_audited_and_the_leaderboard_follows(cast):
    record_scored_submission(cast.platform, cast.participant.email, "development", predict)
    board = "/challenges/lai-liver/phases/development/leaderboard"
    assert "LLD-MMRI" in cast.participant.web.client.get(board).get_data(as_text=True)
    before = cast.participant.api.leaderboard()
    assert "lld_mmri_score" in before["columns"]
    response = cast.editor.web.post_form(PAGE, **form(primary="macro_f1"))
    assert response.status_code == 200
    assert "Task saved (metrics, primary changed)." in response.get_data(as_text=True)
    with cast.platform.app.app_context():
        challenge = find_challenge("lai-liver")
        assert challenge.task["metrics"] == ["auc", "balanced_accuracy", "macro_f1", "kappa"]
        assert challenge.task["primary"] == "macro_f1"
        assert find_phase("lai-liver", "development").primary_metric == "auc"  # per phase
    [event] = task_events(cast)
    assert event.before["primary"] == "auc" and event.after["primary"] == "macro_f1"
    assert "lld_mmri_score" in event.before["metrics"]
    assert set(event.after) == {"metrics", "primary"}
    cast.platform.rank_due()
    after = cast.participant.api.leaderboard()
    assert after["columns"] == ["auc", "balanced_accuracy", "macro_f1", "kappa"]
    assert after["ranks_version"] > before["ranks_version"]
    html = cast.participant.web.client.get(board).get_data(as_text=True)
    assert "LLD-MMRI" not in html and "Macro-F1" in html
    # The same values again change nothing and record nothing.
    again = cast.editor.web.post_form(PAGE, **form(primary="macro_f1"))
    assert "Nothing changed." in again.get_data(as_text=True)
    assert len(task_events(cast)) == 1


BAD = [
    ({"metrics": ["auc", "accuracy_of_sorts"]}, "unknown metric(s) accuracy_of_sorts"),
    ({"primary": "mcc"}, "primary 'mcc' must be one of the task's metrics"),
    ({"positive": "\n".join(LAI)}, "positive holds every label"),
    ({"positive": "HCC, cyst"}, "positive names label(s) not in labels: cyst"),
    ({"positive_name": "Malignant!"}, "positive_name 'Malignant!' must be lower case"),
    ({"labels": "HCC"}, "labels must list at least two labels"),
    ({"labels": "HCC, HCC, FNH", "positive": "HCC"}, "duplicated label(s) HCC"),
    ({"metrics": []}, "metrics must list at least one metric"),
]


def test_each_bad_value_is_refused_with_what_is_wrong(cast):
    for changes, message in BAD:
        response = cast.editor.web.post_form(PAGE, **form(**changes))
        html = response.get_data(as_text=True)
        assert response.status_code == 400, changes
        assert message in html.replace("&#39;", "'"), (changes, message)
        if "positive_name" in changes:  # what the user typed is kept
            assert 'value="Malignant!"' in html
    assert task_events(cast) == []
    with cast.platform.app.app_context():
        assert find_challenge("lai-liver").task["primary"] == "auc"


def test_labels_the_datasets_hold_cannot_be_dropped(cast):
    labels = "HCC, iCCA, metastasis, adenoma, FNH"  # no haemangioma
    response = cast.editor.web.post_form(PAGE, **form(labels=labels))
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "does not fit the new task" in html
    assert "label(s) haemangioma not among the task&#39;s labels" in html
    # A label added (the datasets still fit) is accepted while nothing is scored.
    added = cast.editor.api.client.put(
        API, json={"labels": [*LAI, "cyst"]},
        headers={"Authorization": f"Bearer {cast.editor.api.token}"})
    assert added.status_code == 200, added.get_json()
    assert added.get_json()["changed"] == ["labels"]
    assert added.get_json()["task"]["labels"][-1] == "cyst"


def test_the_labels_are_fixed_once_submissions_are_scored(cast):
    record_scored_submission(cast.platform, cast.participant.email, "development", predict)
    response = cast.editor.web.post_form(PAGE, **form(positive="HCC, iCCA"))
    assert response.status_code == 400
    assert "cannot change once submissions are scored (phase &#39;development&#39; (1))" in (
        response.get_data(as_text=True))
    # ...but the metrics still can.
    assert cast.editor.web.post_form(PAGE, **form()).status_code == 200


def predict(truth) -> dict:
    share = 1 / len(truth.classes)
    return {"predictions": [
        {"case_id": c, truth.probability_key: 0.5,
         "diagnosis_probabilities": dict.fromkeys(truth.classes, share)}
        for c in truth.case_ids]}


def test_a_metric_a_phase_ranks_on_cannot_be_dropped(cast):
    response = cast.editor.web.post_form(PAGE, **form(metrics=["macro_f1", "kappa"],
                                                      primary="kappa"))
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Phase &#39;development&#39; ranks on auc" in html
    assert "Phase &#39;final-test&#39; ranks on auc" in html


def put(person, body: dict):
    return person.api.client.put(API, json=body,
                                 headers={"Authorization": f"Bearer {person.api.token}"})


def test_the_api_reads_and_changes_the_task(cast):
    shown = cast.editor.api.get(API).get_json()["task"]
    assert shown["probability_key"] == "malignant_probability"
    assert shown["positive"] == ["HCC", "iCCA", "metastasis"]
    assert put(cast.reviewer, {"primary": "kappa"}).status_code == 403
    assert put(cast.other_organizer, {"primary": "kappa"}).status_code == 403
    bad = put(cast.editor, {"primary": "kappa", "colour": "blue"})
    assert bad.status_code == 400
    assert bad.get_json()["error"]["code"] == "invalid_task"
    assert "unknown key 'colour'" in bad.get_json()["error"]["message"]
    assert put(cast.editor, ["not", "an", "object"]).status_code == 400
    done = put(cast.admin, {"name": "LAI v2", "primary": "kappa"})
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["changed"] == ["name", "primary"]
    [event] = task_events(cast)
    assert (event.before, event.after) == ({"name": "LAI liver lesions", "primary": "auc"},
                                           {"name": "LAI v2", "primary": "kappa"})


def test_editors_saving_at_once_leave_one_consistent_task(cast):
    """Twenty saves at once: each is whole (no mixed task), each change audited once."""
    app = cast.platform.app
    primaries = ["auc", "kappa", "macro_f1", "balanced_accuracy"]
    codes: list[int] = []

    def save(i: int) -> None:
        with app.test_client() as client:
            codes.append(client.put(API, json={"primary": primaries[i % 4], "name": f"v{i}"},
                                    headers={"Authorization":
                                             f"Bearer {cast.editor.api.token}"}).status_code)

    threads = [threading.Thread(target=save, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert codes.count(200) == 20, codes
    with app.app_context():
        task = find_challenge("lai-liver").task
    i = int(task["name"][1:])
    assert task["primary"] == primaries[i % 4]  # name and primary from the same save
    assert 1 <= len(task_events(cast)) <= 20
