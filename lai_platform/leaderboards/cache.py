"""Leaderboard pages for a crowd: bytes rendered once per ranking version, served with an
ETag and caching headers a CDN can use, so reading one costs about what a static file costs.

Which version is current is read from the database at most once a second per process (and
per phase); a new ranking is therefore visible within about a second, and every reader in
between gets the same bytes without a query.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from flask import Response, request
from sqlalchemy import select

from lai_platform.errors import NotFound
from lai_platform.extensions import db
from lai_platform.models import Challenge, Phase

PUBLIC_CACHING = "public, max-age=1, s-maxage=1, stale-while-revalidate=10"


class PageCache:
    """Per process: (phase id, version) by slugs, and rendered pages by version."""

    def __init__(self, version_ttl_s: float = 1.0, capacity: int = 2048) -> None:
        self.version_ttl_s = version_ttl_s
        self.capacity = capacity
        self._versions: dict[tuple[str, str], tuple[float, int, int]] = {}
        self._pages: OrderedDict[tuple, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def phase_version(self, slug: str, phase_slug: str) -> tuple[int, int]:
        """(phase id, ranking version); NotFound for an unknown phase."""
        now = time.monotonic()
        known = self._versions.get((slug, phase_slug))
        if known is not None and now - known[0] < self.version_ttl_s:
            return known[1], known[2]
        row = db.session.execute(
            select(Phase.id, Phase.ranks_version)
            .join(Challenge, Challenge.id == Phase.challenge_id)
            .where(Challenge.slug == slug, Phase.slug == phase_slug)
        ).first()
        if row is None:
            raise NotFound(f"No phase '{phase_slug}' in challenge '{slug}'.")
        self._versions[(slug, phase_slug)] = (now, row[0], row[1])
        return row[0], row[1]

    def page(self, key: tuple, build: Callable[[], bytes]) -> bytes:
        with self._lock:
            body = self._pages.get(key)
            if body is not None:
                self._pages.move_to_end(key)
                return body
        body = build()  # outside the lock: two readers may both build; both get the same
        with self._lock:
            self._pages[key] = body
            while len(self._pages) > self.capacity:
                self._pages.popitem(last=False)
        return body

    def forget(self) -> None:
        """Drop everything (an organizer's change that is not a ranking, and tests)."""
        with self._lock:
            self._versions.clear()
            self._pages.clear()


def cached_response(cache: PageCache, slug: str, phase_slug: str, kind: str, page: int,
                    build: Callable[[], bytes], mimetype: str) -> Response:
    """A page of a leaderboard from `cache`, or 304 when the reader has this version."""
    phase_id, version = cache.phase_version(slug, phase_slug)
    etag = f"lb-{phase_id}-{version}-{kind}-{page}"
    headers = {"Cache-Control": PUBLIC_CACHING, "Vary": "Cookie, Accept-Encoding"}
    if request.if_none_match.contains(etag):
        response = Response(status=304, headers=headers)
    else:
        body = cache.page((phase_id, version, kind, page), build)
        response = Response(body, mimetype=mimetype, headers=headers)
    response.set_etag(etag)
    return response
