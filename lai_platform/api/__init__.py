"""The JSON API, /api/v1, authenticated with `Authorization: Bearer <token>`; one module per
resource."""

# Importing the resource modules adds their routes to the blueprint.
from lai_platform.api import (  # noqa: F401
    challenge_admin,
    challenges,
    datasets,
    errors,
    exports,
    leaderboards,
    moderation,
    openapi,
    participants,
    phases,
    submissions,
    task,
    team_admin,
    teams,
    uploads,
)
from lai_platform.api.blueprint import api_bp

__all__ = ["api_bp"]
