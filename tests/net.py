"""Loopback helpers for tests and benchmarks that start servers."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import requests


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, timeout: float = 60) -> None:
    """Until `url` answers at all (any status)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=2)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


@contextmanager
def moto_s3() -> Iterator[str]:
    """moto's S3 server on a free loopback port, for as long as the block runs; its URL."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(url + "/moto-api/data.json")
        yield url
    finally:
        server.terminate()
        server.wait(10)


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server for a test module, with credentials it accepts set meanwhile."""
    with pytest.MonkeyPatch.context() as patch, moto_s3() as url:
        aws_test_credentials(patch)
        yield url


def aws_test_credentials(monkeypatch) -> None:
    """Credentials moto accepts (any), set for this test only."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


class CutUploads:
    """WSGI middleware for a served app: the next `times` chunk requests (PATCH
    /api/v1/uploads/...) have their connection cut after `after` bytes of the body, as a
    dropped network would (the server reads a short body; the client sees a reset)."""

    def __init__(self, app, after: int, times: int = 0) -> None:
        self.app, self.after, self.times = app, after, times
        self.cut = 0  # connections cut so far

    def arm(self, after: int, times: int = 1) -> None:
        self.after, self.times = after, times

    def __call__(self, environ, start_response):
        if (self.times > 0 and environ["REQUEST_METHOD"] == "PATCH"
                and environ["PATH_INFO"].startswith("/api/v1/uploads/")):
            self.times -= 1
            self.cut += 1
            environ["wsgi.input"] = _CutStream(environ["wsgi.input"], self.after,
                                               environ["werkzeug.socket"])
        return self.app(environ, start_response)


class _CutStream:
    def __init__(self, stream, after: int, sock) -> None:
        self.stream, self.left, self.sock = stream, after, sock

    def read(self, size: int = -1) -> bytes:
        if self.left <= 0:
            self.sock.shutdown(socket.SHUT_RDWR)
            raise ConnectionResetError("connection cut by the test")
        data = self.stream.read(self.left if size < 0 else min(size, self.left))
        self.left -= len(data)
        return data

    def readline(self, size: int = -1) -> bytes:
        return self.read(size)
