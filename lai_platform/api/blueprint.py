"""The API blueprint; each resource module adds its routes to it."""

from flask import Blueprint

api_bp = Blueprint("api", __name__, url_prefix="/api/v1")
