"""Organizer pages: a challenge's settings, phases, datasets, task, participants,
submissions, leaderboards, roles and audit log. One module per resource."""

from __future__ import annotations

from flask import current_app, g

from lai_platform.challenges.roles import has_any_role, permissions_of

# Importing the page modules adds their routes to the blueprint.
from lai_platform.web.organize import (  # noqa: F401
    challenges,
    datasets,
    home,
    leaderboards,
    participants,
    phases,
    submissions,
    task,
    teams,
)
from lai_platform.web.organize.blueprint import organize_bp

# The tabs of a challenge's organizer pages: (endpoint taking only `slug`, label).
SECTIONS = (
    ("organize.overview", "Overview"),
    ("organize.settings", "Challenge"),
    ("organize.task", "Task"),
    ("organize.phases", "Phases"),
    ("organize.datasets", "Datasets"),
    ("organize.participants", "Participants"),
    ("organize.teams", "Teams"),
    ("organize.submissions", "Submissions"),
    ("organize.leaderboards", "Leaderboards"),
    ("organize.roles", "Roles"),
    ("organize.audit", "Audit log"),
)


@organize_bp.app_context_processor
def organize_helpers() -> dict:
    def organize_sections() -> list[tuple[str, str]]:
        return [(e, label) for e, label in SECTIONS if e in current_app.view_functions]

    def view_endpoints() -> set[str]:
        return set(current_app.view_functions)

    def can(permission: str, challenge=None) -> bool:
        target = challenge if challenge is not None else g.get("organize_challenge")
        return target is not None and permission in permissions_of(g.get("user"), target)

    def organizes() -> bool:
        """Whether the signed-in person has an organizer desk to go to (the menu link)."""
        user = g.get("user")
        return user is not None and (user.is_admin or has_any_role(user))

    return {"organize_sections": organize_sections, "view_endpoints": view_endpoints,
            "can": can, "organizes": organizes}


__all__ = ["organize_bp"]
