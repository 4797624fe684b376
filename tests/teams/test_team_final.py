"""On a split phase a team shares its final selection: any member marks the team's entries,
the team never holds more than K marks, and the private board ranks only the chosen ones,
one row per team under its name."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from lai_platform.extensions import db
from lai_platform.models import Submission
from lai_platform.models._time import utcnow
from tests.story import record_scored_submission, together
from tests.teams.conftest import joined, made_submissions, team_of_people
from tests.test_leaderboard_ranking import skill

PHASE = "final-test"


def mark(person, sub: int, selected: bool = True):
    return person.post_json(f"/api/v1/submissions/{sub}/final-selection", {"selected": selected})


def board(platform) -> list[dict]:
    return platform.anonymous().leaderboard(PHASE)["entries"]


def test_a_team_chooses_its_final_entry_and_ranks_as_one_row(demo_platform):
    platform = demo_platform
    platform.set_phase(PHASE, display_mode="best", final_selection_max=2,
                       submissions_total=None)
    ada, bob, cyd = joined(platform, "ada", "bob", "cyd")
    strong = record_scored_submission(platform, "ada@example.org", PHASE, skill(0.0))
    weak = record_scored_submission(platform, "ada@example.org", PHASE, skill(0.8, 1))
    middle = record_scored_submission(platform, "bob@example.org", PHASE, skill(0.5, 2))
    other = record_scored_submission(platform, "cyd@example.org", PHASE, skill(0.3, 3))
    assert len(board(platform)) == 3  # ada, bob and cyd on their own

    team_of_people(platform, "Hepatic Duo", ada, bob)  # their submissions become the team's
    platform.rank_due()
    rows = board(platform)
    assert [(r["submission_id"], r["team"]) for r in rows if r["team"]] == [
        (strong, "Hepatic Duo")]
    assert {r["submission_id"] for r in rows} == {strong, other}

    assert mark(bob, weak).status_code == 200  # a teammate marks ada's submission
    assert mark(ada, middle).status_code == 200
    full = mark(ada, strong)
    assert full.status_code == 409 and full.get_json()["error"]["code"] == "final_selection_full"
    assert f"#{weak} and #{middle}" in full.get_json()["error"]["message"]
    assert mark(cyd, weak).status_code == 404  # not cyd's team
    assert mark(bob, middle, False).status_code == 200

    platform.set_phase(PHASE, closes_at=utcnow() - timedelta(minutes=1))
    closed = platform.anonymous().leaderboard(PHASE)
    assert closed["scored_on"] == "private"
    # The team's one row is the entry it chose, though its best is another; cyd chose none.
    assert {(e["submission_id"], e["team"]) for e in closed["entries"]} == {
        (weak, "Hepatic Duo"), (other, None)}
    page = platform.anonymous().get(f"/challenges/lai-liver/phases/{PHASE}/leaderboard")
    html = page.get_data(as_text=True)
    assert '<td class="name" title="Hepatic Duo (team; submitted by ada)">Hepatic Duo</td>' in html


def test_twenty_concurrent_marks_by_four_members_never_exceed_the_teams_k(
        demo_platform_any_db):
    platform = demo_platform_any_db
    platform.set_phase(PHASE, final_selection_max=3, submissions_total=None)
    members = joined(platform, "ada", "bob", "cyd", "dan")
    team_of_people(platform, "Four Hands", *members)
    subs = made_submissions(platform, "ada@example.org", PHASE, 20)
    codes = [r.status_code for r in together(
        [(lambda i=i: mark(members[i % 4], subs[i])) for i in range(20)])]
    assert sorted(codes) == [200] * 3 + [409] * 17
    with platform.app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Submission.id)).where(
            Submission.selected_for_final.is_(True))) == 3
