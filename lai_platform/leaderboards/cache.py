"""Leaderboard pages for a crowd: bytes rendered once per ranking version, served with an
ETag and caching headers a CDN can use, so reading one costs about what a static file costs.

Which version is current is read from the database at most every LAI_LEADERBOARD_TTL_S (0.5 s)
per process and phase; a new ranking is therefore visible that soon, and every reader in
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
from lai_platform.ops.counters import LEADERBOARD_CACHE

PUBLIC_CACHING = "public, max-age=1, s-maxage=1, stale-while-revalidate=10"


class PageCache:
    """Per process: (phase id, version) by slugs, and the newest rendered bytes of each page.

    When a new version appears, one thread renders the page while the others keep serving
    the bytes they have (for the milliseconds that takes): a new ranking never makes a crowd
    of readers render the same page at once.
    """

    def __init__(self, version_ttl_s: float = 0.5, capacity: int = 2048) -> None:
        self.version_ttl_s = version_ttl_s
        self.capacity = capacity
        self._versions: dict[tuple[str, str], tuple[float, int, int]] = {}
        self._refreshing: set[tuple[str, str]] = set()
        self._pages: OrderedDict[tuple, tuple[int, bytes]] = OrderedDict()
        self._building: dict[tuple, threading.Event] = {}
        self._lock = threading.Lock()

    def phase_version(self, slug: str, phase_slug: str) -> tuple[int, int]:
        """(phase id, ranking version); NotFound for an unknown phase."""
        name, now = (slug, phase_slug), time.monotonic()
        with self._lock:
            known = self._versions.get(name)
            fresh = known is not None and now - known[0] < self.version_ttl_s
            if fresh or (known is not None and name in self._refreshing):
                return known[1], known[2]  # another thread is asking the database already
            self._refreshing.add(name)
        try:
            row = db.session.execute(
                select(Phase.id, Phase.ranks_version)
                .join(Challenge, Challenge.id == Phase.challenge_id)
                .where(Challenge.slug == slug, Phase.slug == phase_slug)
            ).first()
        finally:
            with self._lock:
                self._refreshing.discard(name)
        if row is None:
            raise NotFound(f"No phase '{phase_slug}' in challenge '{slug}'.")
        with self._lock:
            self._versions[name] = (now, row[0], row[1])
        return row[0], row[1]

    def page(self, key: tuple, version: int, build: Callable[[], bytes]) -> tuple[int, bytes]:
        """(version, bytes) of the page `key`: this version's, or, while another thread
        renders it, the newest one there is."""
        with self._lock:
            entry = self._pages.get(key)
            if entry is not None and entry[0] >= version:
                self._pages.move_to_end(key)
                LEADERBOARD_CACHE.labels("hit").inc()
                return entry
            rendering = self._building.get(key)
            if rendering is None:
                self._building[key] = threading.Event()
        LEADERBOARD_CACHE.labels("miss").inc()  # rendered now, or an older version served
        if rendering is not None:
            if entry is not None:
                return entry
            rendering.wait(30)
            return self._pages.get(key) or (version, build())
        try:
            body = build()
            with self._lock:
                self._pages[key] = (version, body)
                self._pages.move_to_end(key)
                while len(self._pages) > self.capacity:
                    self._pages.popitem(last=False)
        finally:
            with self._lock:
                done = self._building.pop(key)
            done.set()  # a failed render must not leave readers waiting for it
        return version, body

    def forget(self) -> None:
        """Drop everything (an organizer's change that is not a ranking, and tests)."""
        with self._lock:
            self._versions.clear()
            self._pages.clear()


def cached_response(cache: PageCache, slug: str, phase_slug: str, kind: str, page: int,
                    build: Callable[[], bytes], mimetype: str) -> Response:
    """A page of a leaderboard from `cache`, or 304 when the reader has this version."""
    phase_id, version = cache.phase_version(slug, phase_slug)
    headers = {"Cache-Control": PUBLIC_CACHING, "Vary": "Cookie, Accept-Encoding"}
    if request.if_none_match.contains(_etag(phase_id, version, kind, page)):
        response = Response(status=304, headers=headers)
        response.set_etag(_etag(phase_id, version, kind, page))
        return response
    served, body = cache.page((phase_id, kind, page), version, build)
    response = Response(body, mimetype=mimetype, headers=headers)
    response.set_etag(_etag(phase_id, served, kind, page))
    return response


def _etag(phase_id: int, version: int, kind: str, page: int) -> str:
    return f"lb-{phase_id}-{version}-{kind}-{page}"
