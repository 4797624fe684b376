"""Who may organize a challenge: roles per challenge, and what each role may do.

Platform admins may do everything everywhere and are the only ones who create challenges
and grant roles platform-wide. Per challenge an admin may do everything, an editor edits
texts, phases, datasets and the task, a reviewer handles participants and submissions and
changes no setting. Every organizer page and endpoint names the permission it needs.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import select

from lai_platform.errors import Forbidden, PlatformError
from lai_platform.extensions import db
from lai_platform.models import Challenge, ChallengeRole, User


class Role(StrEnum):
    ADMIN = "admin"
    EDITOR = "editor"
    REVIEWER = "reviewer"


class Permission(StrEnum):
    VIEW = "view"  # organizer pages, every submission with its logs, exports, audit log
    EDIT = "edit"  # texts, announcements, phases, datasets, the task
    REVIEW = "review"  # participants and submissions: approve, reject, ban, rerun, hide
    MANAGE = "manage"  # roles, publishing the final leaderboard, the bundle export


# What a platform-admin-only route names instead of a Permission (create a challenge).
PLATFORM_ADMIN = "platform_admin"

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.EDITOR: frozenset({Permission.VIEW, Permission.EDIT}),
    Role.REVIEWER: frozenset({Permission.VIEW, Permission.REVIEW}),
}


def role_of(user: User | None, challenge: Challenge) -> Role | None:
    if user is None:
        return None
    row = db.session.scalar(
        select(ChallengeRole).where(
            ChallengeRole.user_id == user.id, ChallengeRole.challenge_id == challenge.id
        )
    )
    return Role(row.role) if row else None


def permissions_of(user: User | None, challenge: Challenge) -> frozenset[Permission]:
    if user is None:
        return frozenset()
    if user.is_admin:
        return frozenset(Permission)
    role = role_of(user, challenge)
    return ROLE_PERMISSIONS[role] if role else frozenset()


def can(user: User | None, challenge: Challenge, permission: Permission) -> bool:
    return permission in permissions_of(user, challenge)


def require(user: User | None, challenge: Challenge, permission: Permission) -> None:
    if not can(user, challenge, permission):
        raise Forbidden(
            "not_permitted",
            f"You may not do this in '{challenge.title}': it needs the '{permission}' "
            "permission, which your role in this challenge does not give.",
        )


def require_platform_admin(user: User | None) -> None:
    if user is None or not user.is_admin:
        raise Forbidden("not_permitted", "Only a platform admin may do this.")


def organized_by(user: User | None) -> list[Challenge]:
    """The challenges whose organizer pages the user may open."""
    if user is None:
        return []
    query = select(Challenge).order_by(Challenge.id)
    if not user.is_admin:
        query = query.join(ChallengeRole, ChallengeRole.challenge_id == Challenge.id).where(
            ChallengeRole.user_id == user.id
        )
    return list(db.session.scalars(query))


def has_any_role(user: User) -> bool:
    return db.session.scalar(
        select(ChallengeRole.id).where(ChallengeRole.user_id == user.id).limit(1)
    ) is not None


def roles_in(challenge: Challenge) -> list[ChallengeRole]:
    return list(db.session.scalars(
        select(ChallengeRole).where(ChallengeRole.challenge_id == challenge.id)
        .order_by(ChallengeRole.id)
    ))


def set_role(challenge: Challenge, user: User, role: str | None,
             granted_by: User | None) -> tuple[str | None, str | None]:
    """Grant, change (role) or take away (None) a role; returns (before, after)."""
    if role is not None and role not in Role.__members__.values():
        raise PlatformError(
            "bad_role", f"Unknown role {role!r}: choose admin, editor or reviewer.", 400
        )
    row = db.session.scalar(
        select(ChallengeRole).where(
            ChallengeRole.user_id == user.id, ChallengeRole.challenge_id == challenge.id
        )
    )
    before = row.role if row else None
    if role is None:
        if row is not None:
            db.session.delete(row)
    elif row is None:
        db.session.add(ChallengeRole(challenge_id=challenge.id, user_id=user.id, role=role,
                                     granted_by_id=granted_by.id if granted_by else None))
    else:
        row.role = role
    return before, role
