"""The challenge API: read, join, download the training set; errors in JSON."""

import io
import tarfile

import pytest


@pytest.fixture
def demo(demo_platform_any_db):
    return demo_platform_any_db


def test_anyone_reads_the_challenge(demo):
    visitor = demo.anonymous()
    listing = visitor.get("/api/v1/challenges").get_json()
    assert [c["slug"] for c in listing["challenges"]] == ["lai-liver"]
    detail = visitor.get("/api/v1/challenges/lai-liver").get_json()
    assert [p["slug"] for p in detail["phases"]] == ["development", "final-test"]
    assert detail["phases"][0]["submissions_per_day"] == 10
    assert detail["participation"] is None


def test_joining_needs_the_terms_accepted(demo):
    ada = demo.participant()
    refused = ada.join(accept=False)
    assert refused.status_code == 400
    assert refused.get_json()["error"]["code"] == "terms_not_accepted"
    joined = ada.join()
    assert joined.get_json() == {"challenge": "lai-liver", "status": "approved"}
    assert ada.get("/api/v1/challenges/lai-liver").get_json()["participation"] == "approved"


def test_training_data_only_for_participants(demo):
    ada = demo.participant()
    refused = ada.get("/api/v1/challenges/lai-liver/training-data")
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "not_a_participant"
    assert demo.anonymous().get("/api/v1/challenges/lai-liver/training-data").status_code == 401

    ada.join()
    response = ada.get("/api/v1/challenges/lai-liver/training-data")
    assert response.status_code == 200
    with tarfile.open(fileobj=io.BytesIO(response.get_data())) as tar:
        names = tar.getnames()
    assert "ground_truth.csv" in names and "inputs/cases.json" in names
    assert not any("LAI-VA" in n or "LAI-TE" in n for n in names)


def test_participant_who_has_not_joined_cannot_submit(demo):
    ada = demo.participant()
    response = ada.submit(b"not even a tarball")
    assert response.status_code == 403
    assert "Join it" in response.get_json()["error"]["message"]


def test_unknown_things_are_json_404(demo):
    visitor = demo.anonymous()
    for url in ("/api/v1/challenges/nope", "/api/v1/challenges/lai-liver/phases/x/leaderboard",
                "/api/v1/submissions/999", "/api/v1/no-such-route"):
        response = visitor.get(url)
        assert response.status_code == 404
        assert set(response.get_json()["error"]) == {"code", "message"}


def test_web_challenge_page_renders_sanitised_markdown(demo):
    html = demo.app.test_client().get("/challenges/lai-liver").get_data(as_text=True)
    assert "<h2>The task</h2>" in html
    assert "Final test" in html


def test_an_upload_over_the_server_limit_is_refused_in_json(demo_platform):
    platform = demo_platform
    platform.app.config["MAX_CONTENT_LENGTH"] = 1000
    ada = platform.participant()
    ada.join()
    response = ada.submit(b"x" * 5000)
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "request_entity_too_large"
