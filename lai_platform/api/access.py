"""Who may call an organizer endpoint: bearer token, then the permission the endpoint names
(the same roles as the organizer pages, see challenges.roles)."""

from __future__ import annotations

import functools
from collections.abc import Callable

from flask import g

from lai_platform.api.auth import token_required
from lai_platform.challenges.lookups import get_challenge
from lai_platform.challenges.roles import (
    PLATFORM_ADMIN,
    Permission,
    require,
    require_platform_admin,
)


def organizer_endpoint(permission: Permission) -> Callable:
    """The view gets the challenge (from the URL's `slug`) as its first argument."""

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def checked(slug: str, **kwargs):
            challenge = get_challenge(slug)
            require(g.user, challenge, permission)
            return view(challenge, **kwargs)

        wrapped = token_required(checked)
        wrapped.permission = permission  # type: ignore[attr-defined]
        return wrapped

    return decorate


def platform_admin_endpoint(view: Callable) -> Callable:
    @functools.wraps(view)
    def checked(**kwargs):
        require_platform_admin(g.user)
        return view(**kwargs)

    wrapped = token_required(checked)
    wrapped.permission = PLATFORM_ADMIN  # type: ignore[attr-defined]
    return wrapped
