"""Ranking is a job of its own: coalesced, never inside a GET nor a run's transaction; and
leaderboard pages are bytes cached per ranking version, with an ETag."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from evaluator import parse_predictions
from lai_platform.challenges.datasets import ground_truth_of
from lai_platform.extensions import db
from lai_platform.jobs.pipeline import record_success
from lai_platform.leaderboards.cache import PageCache
from lai_platform.leaderboards.ranking_job import phases_due, rank_phase, request_ranking
from lai_platform.models import ContainerImage, Phase, Submission, User
from lai_platform.models._time import utcnow
from lai_platform.scoring.builtin import score
from tests.story import Browser, record_scored_submission
from tests.test_leaderboard_ranking import skill

BOARD = "/api/v1/challenges/lai-liver/phases/development/leaderboard"


def phase_state(platform, slug="development") -> tuple:
    with platform.app.app_context():
        phase = db.session.scalar(db.select(Phase).where(Phase.slug == slug))
        return phase.id, phase.ranks_version, phase.ranked_on


def land_unranked(platform, email: str, guess: float, seed: int) -> int:
    """A result lands as the pipeline lands it: committed, ranking only requested."""
    with platform.app.app_context():
        user = db.session.scalar(db.select(User).where(User.email == email))
        phase = db.session.scalar(db.select(Phase).where(Phase.slug == "development"))
        truth = ground_truth_of(platform.services.storage, phase.dataset)
        predictions = parse_predictions(skill(guess, seed)(truth), truth)
        image = ContainerImage(user_id=user.id, image_id="sha256:" + "0" * 64,
                               storage_key="images/none", size_bytes=0, architecture="amd64")
        sub = Submission(phase=phase, user=user, image=image, status="running")
        db.session.add(sub)
        db.session.flush()
        record_success(sub, score(predictions, truth, phase, n_bootstrap=50), "", 0.0)
        return sub.id


def test_a_burst_of_results_is_ranked_once(demo_platform):
    platform = demo_platform
    platform.participant("ada@example.org")
    ids = [land_unranked(platform, "ada@example.org", guess, seed)
           for seed, guess in enumerate((0.0, 0.4, 0.9))]
    phase_id, version, _ = phase_state(platform)
    board = platform.anonymous().leaderboard()
    assert [e["rank"] for e in board["entries"]] == []  # landed, not ranked yet
    with platform.app.app_context():
        assert phase_id in phases_due()
        assert rank_phase(phase_id) is True  # one ranking covers the three requests
        assert rank_phase(phase_id) is False
        assert rank_phase(phase_id) is False
        assert phase_id not in phases_due()
    assert phase_state(platform)[1] == version + 1
    ranked = {e["submission_id"]: e["rank"] for e in platform.anonymous().leaderboard()["entries"]}
    assert ranked == {ids[0]: 1, ids[1]: 2, ids[2]: 3}
    with platform.app.app_context():
        request_ranking(phase_id)  # a later request is served again
        assert rank_phase(phase_id) is True


def test_a_closing_phase_is_reranked_by_the_tick_not_by_a_reader(demo_platform):
    platform = demo_platform
    platform.participant("dee@example.org")
    record_scored_submission(platform, "dee@example.org", "final-test", skill(0.3))
    phase_id, version, part = phase_state(platform, "final-test")
    assert part == "public"
    with platform.app.app_context():  # the closing time passes; no setting changes
        phase = db.session.get(Phase, phase_id)
        phase.closes_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    reader = platform.anonymous()
    assert reader.leaderboard("final-test")["scored_on"] == "public"
    assert phase_state(platform, "final-test")[2] == "public"  # the GET changed nothing
    platform.rank_due()  # the tick
    assert reader.leaderboard("final-test")["scored_on"] == "private"


def test_pages_carry_an_etag_and_answer_304(demo_platform):
    platform = demo_platform
    platform.participant("ada@example.org")
    client = platform.app.test_client()
    first = client.get(BOARD)
    assert first.status_code == 200 and first.headers["ETag"]
    assert "public" in first.headers["Cache-Control"]
    again = client.get(BOARD, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    record_scored_submission(platform, "ada@example.org", "development", skill(0.2))
    changed = client.get(BOARD, headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200 and changed.headers["ETag"] != first.headers["ETag"]
    assert len(changed.get_json()["entries"]) == 1


def test_html_is_shared_bytes_for_visitors_and_personal_for_people(demo_platform):
    platform = demo_platform
    platform.participant("ada@example.org")
    record_scored_submission(platform, "ada@example.org", "development", skill(0.2))
    page = "/challenges/lai-liver/phases/development/leaderboard"
    one, two = platform.app.test_client().get(page), platform.app.test_client().get(page)
    assert one.data == two.data and one.headers["ETag"] == two.headers["ETag"]
    assert "Log in" in one.get_data(as_text=True)
    browser = Browser(platform.app)
    browser.client.post("/auth/login", data={
        "email": "ada@example.org", "password": "correct horse battery",
        "csrf_token": browser.csrf("/auth/login")})
    mine = browser.client.get(page)
    assert "ETag" not in mine.headers and "Log out" in mine.get_data(as_text=True)
    assert "#1" in mine.get_data(as_text=True) and "ada" in mine.get_data(as_text=True)


def test_out_of_range_pages_are_empty_not_errors(demo_platform):
    client = demo_platform.app.test_client()
    for page in ("999999999999999999999999", "-3", "x"):
        answer = client.get(f"{BOARD}?page={page}")
        assert answer.status_code == 200
    html = client.get("/challenges/lai-liver/phases/development/leaderboard?page=99999999999")
    assert html.status_code == 200


def test_one_reader_renders_a_new_version_while_the_others_serve_the_last():
    cache = PageCache()
    assert cache.page(("board", 1), 1, lambda: b"version 1") == (1, b"version 1")
    renders, gate = [], threading.Event()

    def render() -> bytes:
        renders.append(1)
        gate.wait(10)
        return b"version 2"

    answers: list[tuple[int, bytes]] = []
    readers = [threading.Thread(target=lambda: answers.append(
        cache.page(("board", 1), 2, render))) for _ in range(10)]
    for reader in readers:
        reader.start()
    deadline = time.monotonic() + 10
    while len(answers) < 9 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert answers.count((1, b"version 1")) == 9  # nobody waited for the render
    gate.set()
    for reader in readers:
        reader.join(10)
    assert renders == [1] and answers.count((2, b"version 2")) == 1
    assert cache.page(("board", 1), 2, render) == (2, b"version 2")
