"""The organizers' pages live under /organize; each module adds one resource's routes."""

from flask import Blueprint

organize_bp = Blueprint("organize", __name__, url_prefix="/organize")
