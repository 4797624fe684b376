"""The web blueprints; each page module adds its routes to one of them."""

from flask import Blueprint

web_bp = Blueprint("web", __name__)
auth_bp = Blueprint("auth", __name__, url_prefix="/auth")
