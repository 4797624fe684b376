"""The platform's HTTP API as Python calls; every failure becomes a `ClientError` whose
message is fit to show to a person (the API's own message, or what went wrong on the way)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests

TIMEOUT_S = 30  # per network read, not per transfer: large bodies stream for as long as needed


class ClientError(Exception):
    """Something to tell the user, with the exit code to end on."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.message, self.exit_code = message, exit_code


class ApiError(ClientError):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code = status, code


@contextmanager
def explained(url: str) -> Iterator[None]:
    """Network failures in words: what failed and what to try."""
    try:
        yield
    except requests.exceptions.SSLError as exc:
        raise ClientError(f"TLS failed talking to {url}: {exc}. Check the address "
                          "(https:// or http://) and the server's certificate.") from None
    except requests.exceptions.ConnectionError as exc:
        raise ClientError(f"Cannot reach the platform at {url} ({_reason(exc)}). Check the "
                          "address and your network, then try again.") from None
    except requests.exceptions.Timeout:
        raise ClientError(f"The platform at {url} did not answer within {TIMEOUT_S} s; it "
                          "may be overloaded. Try again in a minute.") from None


def _reason(exc: Exception) -> str:
    text = str(exc)
    for hint in ("Connection refused", "Name or service not known", "timed out",
                 "Temporary failure in name resolution", "Connection reset"):
        if hint in text:
            return hint.lower()
    return type(exc).__name__


def raise_for_api(response: requests.Response) -> None:
    if response.status_code < 400:
        return
    try:
        error = response.json()["error"]
        code, message = str(error["code"]), str(error["message"])
    except (ValueError, KeyError, TypeError):
        code = "http_error"
        message = f"The platform answered {response.status_code} {response.reason}."
    raise ApiError(response.status_code, code, message)


class Api:
    def __init__(self, url: str, token: str | None) -> None:
        self.url = url.rstrip("/")
        self.session = requests.Session()
        self.session.headers["User-Agent"] = "lai-client"
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def request(self, method: str, path: str, *, stream: bool = False,
                **kwargs: Any) -> requests.Response:
        with explained(self.url):
            response = self.send(method, path, stream=stream, **kwargs)
        raise_for_api(response)
        return response

    def send(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """The bare exchange: network errors raised as requests' own, any HTTP status
        returned (for callers that retry, or read an error answer's body)."""
        kwargs.setdefault("timeout", TIMEOUT_S)
        return self.session.request(method, f"{self.url}/api/v1{path}", **kwargs)

    def get(self, path: str, **kwargs: Any) -> Any:
        return self._json(self.request("GET", path, **kwargs))

    def post(self, path: str, **kwargs: Any) -> Any:
        return self._json(self.request("POST", path, **kwargs))

    def _json(self, response: requests.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            raise ClientError(f"{self.url} answered something that is not the platform's "
                              "JSON API: is this the right address?") from None
