"""Who may open an organizer page: every route names the permission it needs.

Each decorated view carries `.permission`: the authorization matrix test walks every route
and fails on an organizer route that has none.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from flask import g, redirect, request, url_for

from lai_platform.challenges.lookups import get_challenge
from lai_platform.challenges.roles import (
    PLATFORM_ADMIN,
    Permission,
    require,
    require_platform_admin,
)


def organizer_page(permission: Permission) -> Callable:
    """The view gets the challenge (from the URL's `slug`) as its first argument."""

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapped(slug: str, **kwargs):
            if g.user is None:
                return redirect(url_for("auth.login", next=request.path))
            challenge = get_challenge(slug)
            require(g.user, challenge, permission)
            g.organize_challenge = challenge  # for the templates' can()
            return view(challenge, **kwargs)

        wrapped.permission = permission  # type: ignore[attr-defined]
        return wrapped

    return decorate


def platform_admin_page(view: Callable) -> Callable:
    @functools.wraps(view)
    def wrapped(**kwargs):
        if g.user is None:
            return redirect(url_for("auth.login", next=request.path))
        require_platform_admin(g.user)
        return view(**kwargs)

    wrapped.permission = PLATFORM_ADMIN  # type: ignore[attr-defined]
    return wrapped


def signed_in_page(view: Callable) -> Callable:
    """Any signed-in account (the page shows only what the account organizes)."""

    @functools.wraps(view)
    def wrapped(**kwargs):
        if g.user is None:
            return redirect(url_for("auth.login", next=request.path))
        return view(**kwargs)

    wrapped.permission = "signed_in"  # type: ignore[attr-defined]
    return wrapped
