"""Exporting a challenge as a bundle and loading it back gives the same settings."""

from __future__ import annotations

import io
import tarfile

import sqlalchemy as sa
import yaml

from lai_platform.challenges.lookups import find_challenge
from lai_platform.extensions import db
from lai_platform.models import AuditEvent
from tests.organizing.conftest import Cast

PHASE = "/api/v1/challenges/lai-liver/phases"
# What the platform computes or assigns rather than an organizer's setting.
NOT_SETTINGS = {"id", "challenge_id", "dataset_id", "slug", "ranked_on", "rank_stability",
                "rank_requested_at", "ranked_at", "ranks_version", "shown_count", "created_at",
                "training_data_key"}


def patch(person, url: str, body: dict):
    response = person.api.client.patch(url, json=body,
                                       headers={"Authorization": f"Bearer {person.api.token}"})
    assert response.status_code == 200, response.get_json()
    return response


def configure(cast: Cast) -> None:
    """Settings far from the bundle's defaults, so that a lost one shows."""
    patch(cast.admin, "/api/v1/challenges/lai-liver", {
        "access": "closed", "email_domains": ["uni-example.org", "hospital.example"],
        "summary": "Changed summary", "terms": "Be *nice*.",
        "team_changes_close_at": "2026-12-20 12:00", "team_max_size": 4})
    patch(cast.admin, f"{PHASE}/development", {
        "opens_at": "2026-01-01 08:00", "closes_at": "2026-12-31 18:30",
        "submissions_concurrent": 2, "submissions_total": 30, "time_limit_s": 1234,
        "memory_mb": 6000, "gpu": True, "image_max_mb": 3000, "ranking_method": "mean_rank",
        "ranking_metrics": ["auc", "kappa"], "display": "latest", "public_fraction": 0.3,
        "logs_visible": False, "case_results_visible": False, "final_selection_max": 3})
    patch(cast.admin, f"{PHASE}/final-test", {"ranking_method": "test_then_rank",
                                              "ranking_alpha": 0.1})
    assert cast.admin.api.post_json(PHASE, {"slug": "later", "title": "Later"}).status_code == 201


def columns(row) -> dict:
    return {c.name: getattr(row, c.name) for c in row.__table__.columns
            if c.name not in NOT_SETTINGS}


def test_an_exported_bundle_loads_back_with_the_same_settings(cast):
    configure(cast)
    assert cast.editor.web.client.get("/organize/lai-liver/bundle").status_code == 403
    response = cast.admin.web.client.get("/organize/lai-liver/bundle")
    assert response.status_code == 200 and response.mimetype == "application/gzip"
    archive = response.get_data()
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        names = set(tar.getnames())
        spec = yaml.safe_load(tar.extractfile("lai-liver/challenge.yaml"))
    assert spec["data"] == {"path": "data"} and "generator" not in spec["data"]
    assert {"lai-liver/data/validation/ground_truth.csv", "lai-liver/data/test/ground_truth.csv",
            "lai-liver/data/validation/inputs/cases.json",
            "lai-liver/data/training/ground_truth.csv", "lai-liver/CONTRACT.md"} <= names
    loaded = cast.platform_admin.api.client.post(
        "/api/v1/challenges?slug=liver-copy", data=archive, content_type="application/gzip",
        headers={"Authorization": f"Bearer {cast.platform_admin.api.token}"})
    assert loaded.status_code == 201, loaded.get_json()
    with cast.platform.app.app_context():
        source, copy = find_challenge("lai-liver"), find_challenge("liver-copy")
        assert columns(copy) == columns(source)
        assert [p.slug for p in copy.phases] == [p.slug for p in source.phases]
        for mine, theirs in zip(source.phases, copy.phases, strict=True):
            assert columns(theirs) == columns(mine), mine.slug  # field by field
            if mine.dataset is None:
                assert theirs.dataset is None
                continue
            assert theirs.dataset.sha256 == mine.dataset.sha256  # the same bytes
            assert ({(c.case_id, c.centre) for c in theirs.dataset.cases}
                    == {(c.case_id, c.centre) for c in mine.dataset.cases})
        assert copy.training_data_size == source.training_data_size
        event = db.session.scalars(sa.select(AuditEvent).where(
            AuditEvent.action == "challenge.export")).one()
        assert event.after["phases"] == ["development", "final-test", "later"]
