"""Admission is atomic: two concurrent requests cannot both take the last slot."""

from __future__ import annotations

import pytest

from lai_platform.extensions import db
from lai_platform.models import Phase, Submission
from tests.docker_images import build_test_image, save_image
from tests.story import together

pytestmark = pytest.mark.docker


def test_two_requests_race_for_the_last_slot(demo_platform_any_db, tmp_path):
    platform = demo_platform_any_db
    with platform.app.app_context():
        phase = db.session.scalar(db.select(Phase).where(Phase.slug == "final-test"))
        phase.submissions_total = 1
        db.session.commit()
    tarball = save_image(build_test_image("ok"), tmp_path / "ok.tar")
    ada = platform.participant()
    ada.join()

    statuses = [r.status_code for r in together(
        [lambda: ada.submit(tarball, phase="final-test")] * 4)]

    assert sorted(statuses) == [202, 429, 429, 429]
    with platform.app.app_context():
        assert db.session.query(Submission).count() == 1
