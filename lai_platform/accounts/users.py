"""Creating and finding accounts."""

from __future__ import annotations

import re

from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from lai_platform.accounts.passwords import password_problem
from lai_platform.extensions import db
from lai_platform.models import User

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Checked against when the account does not exist: a login takes as long either way.
_DUMMY_HASH = generate_password_hash("not a password of anyone's")


class AccountExists(ValueError):
    """Registration with an address that has an account: callers on the web must not say
    so (it would tell anyone who has an account)."""

    def __init__(self, email: str) -> None:
        super().__init__(f"An account for {email} already exists.")


def authenticate(email: str, password: str) -> User | None:
    """The account for this e-mail and password, or None; as slow for an unknown address as
    for a wrong password."""
    user = find_user(email)
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    return user if user.check_password(password) else None


def set_password(user: User, password: str) -> None:
    """A new password (checked); every session of the account ends."""
    problem = password_problem(password, user.email)
    if problem:
        raise ValueError(problem)
    user.set_password(password)
    revoke_sessions(user)


def revoke_sessions(user: User) -> None:
    """Every signed-in browser of this account is signed out at its next request."""
    user.session_epoch = (user.session_epoch or 0) + 1


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def create_user(
    email: str, password: str, display_name: str = "", admin: bool = False
) -> User:
    """Validate and add a user; raises ValueError with a message for the person."""
    email = email.strip()
    if not EMAIL_RE.match(email):
        raise ValueError(f"{email!r} is not an e-mail address.")
    problem = password_problem(password, email)
    if problem:
        raise ValueError(problem)
    if find_user(email) is not None:
        raise AccountExists(email)
    user = User(
        email=email,
        display_name=(display_name.strip() or email.split("@")[0])[:80],
        is_admin=admin,
    )
    user.set_password(password)
    db.session.add(user)
    return user
