"""Challenges as platform admins create them and organizers edit them: from scratch or from an
uploaded bundle archive; texts, access, the e-mail allow-list and announcements. Every value
is checked first (all problems at once), the audit event joins the change's transaction."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select

from lai_platform.accounts.users import find_user
from lai_platform.audit import changes, record
from lai_platform.challenges.bundle_archive import extract_bundle
from lai_platform.challenges.bundles import ACCESS_MODES, BundleError, load_challenge, read_bundle
from lai_platform.challenges.checks import (
    Invalid,
    check_slug,
    domains,
    raise_problems,
    team_settings,
    text,
)
from lai_platform.challenges.lookups import find_challenge
from lai_platform.challenges.roles import Role, set_role
from lai_platform.extensions import db
from lai_platform.leaderboards.ranks import lock_for_ranking
from lai_platform.models import Announcement, Challenge, User

# What an organizer may edit: the name a form or the API uses -> the stored field.
TEXT_FIELDS = {"title": "title", "summary": "summary", "description": "description_md",
               "terms": "terms_md", "contract": "contract_md"}
# Teams: when team changes close (UTC; empty: never) and the most members a team may have.
TEAM_FIELDS = ("team_changes_close_at", "team_max_size")
EDITABLE = frozenset({*TEXT_FIELDS, "access", "email_domains", *TEAM_FIELDS})
MAX_BUNDLE_BYTES = 8 * 2**30  # expanded: the data of a few splits of images
MAX_YAML_BYTES = 2**20


def settings_of(challenge: Challenge) -> dict[str, Any]:
    """The challenge's settings under the names `edit_challenge` reads."""
    return {"slug": challenge.slug, **{k: getattr(challenge, f) for k, f in TEXT_FIELDS.items()},
            "access": challenge.access, "email_domains": list(challenge.email_domains or []),
            **{name: getattr(challenge, name) for name in TEAM_FIELDS}}


def create_challenge(actor: User, given: Mapping[str, Any]) -> Challenge:
    """A new, empty challenge (no phase); `first_admin` (an e-mail) becomes its admin."""
    problems: list[str] = []
    slug = _free_slug(given.get("slug"), problems)
    first_admin = _first_admin(given.get("first_admin"), problems)
    values = _read_values({"title": given.get("title"),
                           **{k: v for k, v in given.items() if k in EDITABLE}}, problems)
    raise_problems(problems)
    challenge = Challenge(slug=slug, **values)
    db.session.add(challenge)
    db.session.flush()
    record(actor, challenge, "challenge.create", slug, None, {"slug": slug, **values})
    _grant(actor, challenge, first_admin)
    db.session.commit()
    return challenge


def create_from_archive(actor: User, archive: Path, given: Mapping[str, Any]) -> Challenge:
    """Load an uploaded bundle archive; `slug` (optional) loads it under another slug.

    An uploaded bundle must carry its data (`data: {path: ...}`): a generator is Python code,
    and code from an upload never runs on the platform.
    """
    problems: list[str] = []
    first_admin = _first_admin(given.get("first_admin"), problems)
    raise_problems(problems)
    with tempfile.TemporaryDirectory(prefix="lai-upload-") as tmp:
        root = extract_bundle(archive, Path(tmp), MAX_BUNDLE_BYTES)
        if (root / "challenge.yaml").stat().st_size > MAX_YAML_BYTES:
            raise Invalid([f"challenge.yaml is larger than {MAX_YAML_BYTES // 2**20} MB."])
        try:
            spec = read_bundle(root)
        except BundleError as exc:
            raise Invalid([_relative(str(exc), root)]) from None
        slug = _free_slug(given.get("slug") or spec.get("slug"), problems)
        _check_uploaded(spec, root, problems)
        raise_problems(problems)
        if slug != spec["slug"]:
            _rewrite_slug(root, slug)
        try:
            challenge = load_challenge(root, commit=False)
        except (BundleError, ValueError, KeyError, TypeError, OSError) as exc:
            db.session.rollback()
            raise Invalid([f"The bundle cannot be loaded: {_relative(str(exc), root)}"]) from None
    record(actor, challenge, "challenge.create", slug, None,
           {"slug": slug, "from": "bundle", "phases": [p.slug for p in challenge.phases]})
    _grant(actor, challenge, first_admin)
    db.session.commit()
    return challenge


def edit_challenge(actor: User, challenge: Challenge, given: Mapping[str, Any]) -> dict:
    """Change the settings named in `given`; returns the changed ones (after)."""
    problems: list[str] = []
    unknown = sorted(set(given) - EDITABLE)
    if unknown:
        problems.append(f"Unknown setting(s) {', '.join(unknown)}; known: "
                        f"{', '.join(sorted(EDITABLE))}.")
    values = _read_values(given, problems)
    raise_problems(problems)
    before, after = changes(challenge, values)
    if not after:
        return {}
    for name in after:
        setattr(challenge, name, values[name])
    for phase in challenge.phases:
        lock_for_ranking(phase.id)  # a new page version: leaderboard pages show the new title
    record(actor, challenge, "challenge.edit", challenge.slug, before, after)
    db.session.commit()
    return after


def add_announcement(actor: User, challenge: Challenge, given: Mapping[str, Any]
                     ) -> Announcement:
    problems: list[str] = []
    title = text(given, "title", problems, required=True, max_length=200)
    body = text(given, "body", problems, max_length=50_000)
    raise_problems(problems)
    announcement = Announcement(challenge_id=challenge.id, title=title, body_md=body,
                                author_id=actor.id)
    db.session.add(announcement)
    db.session.flush()
    record(actor, challenge, "announcement.create", title, None,
           {"id": announcement.id, "title": title, "body": body})
    db.session.commit()
    return announcement


def announcements_of(challenge: Challenge, limit: int = 50) -> list[Announcement]:
    """Newest first."""
    return list(db.session.scalars(
        select(Announcement).where(Announcement.challenge_id == challenge.id)
        .order_by(Announcement.created_at.desc(), Announcement.id.desc()).limit(limit)))


def _read_values(given: Mapping[str, Any], problems: list[str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, field in TEXT_FIELDS.items():
        if name in given:
            short = name in ("title", "summary")
            values[field] = text(given, name, problems, required=name == "title",
                                 max_length=200 if name == "title" else
                                 1000 if short else 100_000)
    if "access" in given:
        access = str(given["access"] or "").strip()
        if access not in ACCESS_MODES:
            problems.append(f"access must be one of {', '.join(ACCESS_MODES)} (open: anyone "
                            "joins; review: organizers approve each request; closed: no one "
                            f"joins), not {access!r}.")
        values["access"] = access
    if "email_domains" in given:
        values["email_domains"] = domains(given["email_domains"], problems)
    return values | team_settings(given, problems)


def _free_slug(value: Any, problems: list[str]) -> str:
    slug = check_slug(str(value or ""), "challenge", problems)
    if slug and find_challenge(slug) is not None:
        problems.append(f"A challenge {slug!r} exists already: choose another slug.")
    return slug


def _first_admin(email: Any, problems: list[str]) -> User | None:
    email = str(email or "").strip()
    if not email:
        return None
    user = find_user(email)
    if user is None:
        problems.append(f"No account for {email!r}: the first admin must register first.")
    return user


def _grant(actor: User, challenge: Challenge, user: User | None) -> None:
    if user is None:
        return
    before, after = set_role(challenge, user, Role.ADMIN.value, actor)
    record(actor, challenge, "role.set", user.email, {"role": before}, {"role": after})


def _check_uploaded(spec: dict, root: Path, problems: list[str]) -> None:
    """Generators refused; every path the bundle names stays inside the archive."""
    data = spec.get("data")
    if not isinstance(data, dict) or "path" not in data:
        problems.append("An uploaded bundle must carry its data as folders (data: {path: "
                        "data}); a generator (Python code) is not run for an upload.")
        return
    inside = root.resolve()
    data_dir = (root / str(data["path"])).resolve()
    named = [("data.path", data_dir)]
    if spec.get("contract"):
        named.append(("contract", (root / str(spec["contract"])).resolve()))
    if spec.get("training_split"):
        named.append(("training_split", (data_dir / str(spec["training_split"])).resolve()))
    phases = spec.get("phases") if isinstance(spec.get("phases"), list) else []
    for phase in phases:
        if isinstance(phase, dict) and phase.get("dataset") is not None:
            named.append((f"phase {phase.get('slug')} dataset",
                          (data_dir / str(phase["dataset"])).resolve()))
    for what, path in named:
        if not path.is_relative_to(inside):
            problems.append(f"{what} points outside the bundle.")


def _rewrite_slug(root: Path, slug: str) -> None:
    file = root / "challenge.yaml"
    spec = yaml.safe_load(file.read_text())
    spec["slug"] = slug
    file.write_text(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True))


def _relative(message: str, root: Path) -> str:
    """Messages name files inside the bundle, not the server's temporary folder."""
    return message.replace(str(root) + "/", "").replace(str(root), "the bundle")
