"""Web pages for people: challenges, leaderboards, submissions, account, log in."""

# Importing the page modules adds their routes to the blueprints.
from lai_platform.web import (  # noqa: F401
    account,
    auth,
    challenges,
    errors,
    leaderboards,
    scoring_page,
    submissions,
    teams,
)
from lai_platform.web.blueprint import auth_bp, web_bp

__all__ = ["auth_bp", "web_bp"]
