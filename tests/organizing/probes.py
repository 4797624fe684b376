"""What the authorization tests share: the organizer routes, a CSRF token, and a fingerprint
of every row a refused request must leave as it was."""

from __future__ import annotations

import hashlib
import json
import re

import sqlalchemy as sa

from lai_platform.extensions import db

WRITES = {"POST", "PUT", "PATCH", "DELETE"}
WATCHED = ("challenges", "phases", "datasets", "cases", "participations", "submissions",
           "results", "challenge_roles", "announcements", "final_leaderboards", "rescorings",
           "score_history", "audit_events", "users", "teams", "team_members")


def organizer_rules(app) -> list:
    """Every route whose view names the permission it needs."""
    return sorted((rule for rule in app.url_map.iter_rules()
                   if hasattr(app.view_functions[rule.endpoint], "permission")),
                  key=lambda r: r.rule)


def fingerprint(platform) -> str:
    digest = hashlib.sha256()
    with platform.app.app_context():
        for table in WATCHED:
            rows = db.session.execute(sa.text(f"SELECT * FROM {table} ORDER BY 1")).all()
            digest.update(json.dumps([list(map(str, row)) for row in rows]).encode())
        db.session.remove()
    return digest.hexdigest()


def csrf(client) -> str:
    html = client.get("/auth/login").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
