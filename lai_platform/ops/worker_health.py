"""A worker's /healthz: a tiny HTTP server thread in the worker's main process, on
LAI_WORKER_HEALTH_HOST:LAI_WORKER_HEALTH_PORT (loopback by default: a health check runs on
the worker's own machine or in its container)."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from flask import Flask

from lai_platform.ops import health

log = logging.getLogger(__name__)


def serve(app: Flask, host: str, port: int,
          about: Callable[[], dict]) -> ThreadingHTTPServer | None:
    """Start answering GET /healthz (None: port 0, or it is taken; the worker runs on)."""
    if not port:
        return None

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            if self.path.split("?")[0] != "/healthz":
                self.send_error(404)
                return
            fine, body = health.report(app, "worker")
            body["worker"] = about()
            data = json.dumps(body).encode()
            self.send_response(200 if fine else 503)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args) -> None:  # noqa: A002
            log.debug("healthz: " + format, *args)

    try:
        server = ThreadingHTTPServer((host, port), Handler)
    except OSError as exc:  # two workers on one machine: the second goes without
        log.warning("worker health endpoint not started on %s:%s: %s", host, port, exc)
        return None
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="lai-worker-health",
                     daemon=True).start()
    log.info("worker health endpoint on http://%s:%s/healthz", host, server.server_port)
    return server
