"""Creating and finding accounts."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from lai_platform.extensions import db
from lai_platform.models import User

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 10


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def create_user(
    email: str, password: str, display_name: str = "", organizer: bool = False, admin: bool = False
) -> User:
    """Validate and add a user; raises ValueError with a message for the person."""
    email = email.strip()
    if not EMAIL_RE.match(email):
        raise ValueError(f"{email!r} is not an e-mail address.")
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"The password must have at least {MIN_PASSWORD} characters.")
    if find_user(email) is not None:
        raise ValueError(f"An account for {email} already exists.")
    user = User(
        email=email,
        display_name=(display_name.strip() or email.split("@")[0])[:80],
        is_organizer=organizer,
        is_admin=admin,
    )
    user.set_password(password)
    db.session.add(user)
    return user
