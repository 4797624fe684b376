"""Teams in the browser: the Team card on the challenge page, the invite link, leaving, the
organizers' settings, and teammates seeing each other's submissions."""

from __future__ import annotations

import re
from datetime import timedelta

from lai_platform.models._time import utcnow
from tests.story import Browser
from tests.teams.conftest import joined, made_submissions

CHALLENGE = "/challenges/lai-liver"


def signed_in(platform, email: str) -> Browser:
    browser = Browser(platform.app)
    browser.log_in(email)
    return browser


def test_a_team_is_made_and_joined_through_its_invite_link(demo_platform):
    platform = demo_platform
    joined(platform, "ada", "bob")
    ada, bob = signed_in(platform, "ada@example.org"), signed_in(platform, "bob@example.org")
    assert "Create a team" in ada.client.get(CHALLENGE).get_data(as_text=True)

    page = ada.post_form(CHALLENGE, f"{CHALLENGE}/teams", name="Portal Phase").get_data(
        as_text=True)
    assert "Team &#39;Portal Phase&#39; created" in page and 'id="invite-link"' in page
    invite = re.search(r'id="invite-link" readonly size="70" value="http://localhost(/[^"]+)"',
                       page).group(1)

    confirm = bob.client.get(invite).get_data(as_text=True)
    assert "Join the team Portal Phase" in confirm and "you cannot leave the team" in confirm
    done = bob.post_form(invite).get_data(as_text=True)
    assert "You have joined the team &#39;Portal Phase&#39;." in done
    assert "Members: ada, bob" in done

    ada_sub = made_submissions(platform, "ada@example.org", "development", 1, "failed")[0]
    assert f"#{ada_sub}" in bob.client.get("/my/submissions").get_data(as_text=True)
    assert bob.client.get(f"/submissions/{ada_sub}").status_code == 200  # a teammate's
    outsider = joined(platform, "cyd")[0]
    assert outsider.get(f"/api/v1/submissions/{ada_sub}").status_code == 404

    left = bob.post_form(CHALLENGE, f"{CHALLENGE}/team/leave").get_data(as_text=True)
    assert "You have left your team." in left and "Create a team" in left
    refused = ada.post_form(CHALLENGE, f"{CHALLENGE}/team/leave").get_data(as_text=True)
    assert "You cannot leave &#39;Portal Phase&#39;" in refused


def test_a_member_renews_the_invite_link_from_the_team_card(demo_platform):
    platform = demo_platform
    joined(platform, "ada", "bob", "cyd")
    ada, bob = signed_in(platform, "ada@example.org"), signed_in(platform, "bob@example.org")
    cyd = signed_in(platform, "cyd@example.org")
    old_page = ada.post_form(CHALLENGE, f"{CHALLENGE}/teams", name="Leaky").get_data(
        as_text=True)
    leaked = invite_link(old_page)
    assert "Renew the invite link" in old_page

    page = ada.post_form(CHALLENGE, f"{CHALLENGE}/team/invite").get_data(as_text=True)
    assert "The team has a new invite link: the old one no longer works." in page
    fresh = invite_link(page)
    assert fresh != leaked
    assert bob.client.get(leaked).status_code == 404
    assert "Join the team Leaky" in bob.client.get(fresh).get_data(as_text=True)

    refused = cyd.post_form(CHALLENGE, f"{CHALLENGE}/team/invite").get_data(as_text=True)
    assert "You are not in a team in" in refused  # cyd has no team: nothing to renew
    assert invite_link(ada.client.get(CHALLENGE).get_data(as_text=True)) == fresh
    assert cyd.client.post(f"{CHALLENGE}/team/invite").status_code == 400  # no CSRF token


def invite_link(page: str) -> str:
    return re.search(r'id="invite-link" readonly size="70" value="http://localhost(/[^"]+)"',
                     page).group(1)


def test_organizers_close_team_changes_and_the_card_says_so(demo_platform):
    platform = demo_platform
    joined(platform, "ada")
    platform.organizer("org@example.org", "lai-liver")
    org, ada = signed_in(platform, "org@example.org"), signed_in(platform, "ada@example.org")
    closed = (utcnow() - timedelta(days=1)).replace(second=0, microsecond=0)
    settings = "/organize/lai-liver/settings"
    form = {"title": "LAI liver", "access": "open", "action": "save",
            "team_changes_close_at": closed.strftime("%Y-%m-%dT%H:%M"), "team_max_size": "3"}
    saved = org.post_form(settings, **form).get_data(as_text=True)
    assert "Saved:" in saved and "team_changes_close_at" in saved
    assert f'value="{closed:%Y-%m-%dT%H:%M}"' in saved and 'value="3"' in saved

    card = ada.client.get(CHALLENGE).get_data(as_text=True)
    assert f"Team changes are closed since {closed:%Y-%m-%d %H:%M} UTC" in card
    assert "Create a team" not in card and "You take part on your own." in card
    refused = ada.post_form(CHALLENGE, f"{CHALLENGE}/teams", name="Too Late")
    assert "Team changes in" in refused.get_data(as_text=True)
