"""Health checks: database, object store, broker and container engine, each bounded in time.

A report names each check and whether it passed, with the exception's class when it did not:
never its message, which may hold a URL with a password or a host name.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

import redis
from flask import Flask
from sqlalchemy import text

from lai_platform import services
from lai_platform.extensions import db

CHECK_TIMEOUT_S = 3.0
PROBE_KEY = "healthz/probe"  # never written: asking whether it exists reaches the store


def _database() -> None:
    with db.engine.connect() as conn:
        conn.execute(text("SELECT 1"))


def _storage() -> None:
    services.get().storage.exists(PROBE_KEY)


def _broker() -> None:
    url = services.get().settings.broker_url
    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    finally:
        client.close()


def _engine() -> None:
    ping = getattr(services.get().executor, "ping", None)
    if ping is not None:
        ping()


def checks_for(app: Flask, role: str) -> dict[str, Callable[[], None] | str]:
    """What a `role` ("web" or "worker") depends on; a string says why a check is skipped."""
    settings = services.get(app).settings
    found: dict[str, Callable[[], None] | str] = {"database": _database, "storage": _storage}
    found["broker"] = _broker if settings.broker_url else "embedded: no broker"
    if role == "worker" or not settings.broker_url:
        found["engine"] = _engine
    else:
        found["engine"] = "workers run the containers"
    return found


def report(app: Flask, role: str, timeout_s: float = CHECK_TIMEOUT_S) -> tuple[bool, dict]:
    """(all fine, JSON report): every check runs at once, each in its own thread."""
    checks = checks_for(app, role)

    def run(check: Callable[[], None]) -> dict:
        started = time.monotonic()
        with app.app_context():
            try:
                check()
            except Exception as exc:  # any failure is "down"; its class says which kind
                return {"ok": False, "error": type(exc).__name__}
            finally:
                db.session.remove()
        return {"ok": True, "ms": round(1000 * (time.monotonic() - started), 1)}

    results: dict[str, dict] = {}
    pool = ThreadPoolExecutor(max_workers=len(checks), thread_name_prefix="lai-healthz")
    futures = {name: pool.submit(run, check) for name, check in checks.items()
               if callable(check)}
    deadline = time.monotonic() + timeout_s
    for name, check in checks.items():
        if not callable(check):
            results[name] = {"ok": True, "skipped": check}
            continue
        try:
            results[name] = futures[name].result(max(0.0, deadline - time.monotonic()))
        except FutureTimeout:
            results[name] = {"ok": False, "error": f"no answer within {timeout_s:.0f} s"}
    pool.shutdown(wait=False)  # a hung check must not hold the answer
    down = sorted(name for name, result in results.items() if not result["ok"])
    return not down, {"status": "down" if down else "ok", "role": role, "down": down,
                      "checks": results}
