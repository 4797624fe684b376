"""The JSON API, /api/v1, authenticated with `Authorization: Bearer <token>`."""

from flask import Blueprint

api_bp = Blueprint("api", __name__, url_prefix="/api/v1")

from lai_platform.api import challenges, errors, leaderboards, submissions  # noqa: E402, F401
