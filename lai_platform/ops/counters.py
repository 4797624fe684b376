"""Counters kept in each process (see ops.metrics for how they are added up). Apart from
ops.metrics, which reads the database, so that hot paths import only prometheus-client."""

from __future__ import annotations

from prometheus_client import Counter

LEADERBOARD_CACHE = Counter(
    "lai_leaderboard_cache_requests", "Leaderboard page requests by cache result",
    ["result"],  # hit: bytes served as rendered before; miss: rendered now
)
