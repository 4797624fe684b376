"""Bearer-token authentication for the API."""

from __future__ import annotations

import functools
from collections.abc import Callable

from flask import g, request
from sqlalchemy import select

from lai_platform.errors import PlatformError
from lai_platform.extensions import db
from lai_platform.models import ApiToken, User
from lai_platform.models._time import utcnow
from lai_platform.web.security import valid_csrf


def token_user() -> User | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    row = db.session.scalar(
        select(ApiToken).where(
            ApiToken.token_hash == ApiToken.hash(token.strip()), ApiToken.revoked.is_(False)
        )
    )
    if row is None:
        raise PlatformError("invalid_token", "The API token is unknown or revoked.", 401)
    row.last_used_at = utcnow()
    db.session.commit()
    return row.user


def token_optional(view: Callable) -> Callable:
    @functools.wraps(view)
    def wrapped(**kwargs):
        g.user = token_user()
        return view(**kwargs)

    wrapped.auth = "optional"  # type: ignore[attr-defined]  # read by api/openapi.py
    return wrapped


def token_or_session(view: Callable) -> Callable:
    """For reads a page of the platform polls: the bearer token if one is sent, else the
    browser session's user (loaded before the request). GET only: a cookie never changes
    anything through the API, and without CORS headers no other site reads the answer."""
    @functools.wraps(view)
    def wrapped(**kwargs):
        if request.method != "GET" or request.headers.get("Authorization"):
            g.user = token_user()
        return view(**kwargs)

    wrapped.auth = "optional"  # type: ignore[attr-defined]
    return wrapped


def token_required(view: Callable) -> Callable:
    @functools.wraps(view)
    def wrapped(**kwargs):
        g.user = _known(token_user())
        return view(**kwargs)

    wrapped.auth = "token"  # type: ignore[attr-defined]
    return wrapped


def _known(user: User | None) -> User:
    if user is None:
        raise PlatformError(
            "unauthorized", "Send your API token as 'Authorization: Bearer <token>'.", 401
        )
    return user


def token_or_session_user(view: Callable) -> Callable:
    """Someone must be known: the bearer token if one is sent, else the browser session's
    user (the platform's own pages use fetch: resumable uploads). A write through the
    session also needs the page's CSRF token in the X-CSRFToken header: a cookie alone
    changes nothing."""
    @functools.wraps(view)
    def wrapped(**kwargs):
        if request.headers.get("Authorization") or g.get("user") is None:
            g.user = token_user()
        elif request.method != "GET" and not valid_csrf(request.headers.get("X-CSRFToken")):
            raise PlatformError("csrf_failed", "The page has expired or the request was not "
                                "sent from this site: reload the page and try again.", 400)
        g.user = _known(g.user)
        return view(**kwargs)

    wrapped.auth = "token"  # type: ignore[attr-defined]
    return wrapped
