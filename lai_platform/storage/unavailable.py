"""An object store that does not answer is an error a user can act on (wait, send again),
not an HTTP 500: every call to the S3 client goes through `Translating`, which turns
connection failures, time-outs and the store's own 5xx answers into `StorageUnavailable`
(a 503 with words). botocore itself retries each call a few times first, with short
time-outs, so a request never hangs for minutes on a store that is down.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from botocore.config import Config
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    HTTPClientError,
    ReadTimeoutError,
)
from botocore.exceptions import (
    ConnectionError as BotoConnectionError,
)

from lai_platform.errors import PlatformError

# A few quick tries, then an answer: the web must not hold a request for minutes.
CLIENT_CONFIG = Config(
    connect_timeout=3,
    read_timeout=60,
    retries={"max_attempts": 3, "mode": "standard"},
    request_checksum_calculation="when_required",
    response_checksum_validation="when_required",
)

MESSAGE = (
    "The platform's file store is not answering right now, so nothing was stored and "
    "nothing counts against your quota. Send it again in a few minutes; if this lasts, "
    "tell the organizers."
)


class StorageUnavailable(PlatformError):
    def __init__(self) -> None:
        super().__init__("storage_unavailable", MESSAGE, 503)


def _is_outage(exc: BaseException) -> bool:
    if isinstance(exc, (BotoConnectionError, ConnectionClosedError, ReadTimeoutError,
                        HTTPClientError)):
        return True
    if isinstance(exc, ClientError):
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        return status >= 500
    return False


@contextmanager
def translated() -> Iterator[None]:
    try:
        yield
    except StorageUnavailable:
        raise
    except Exception as exc:
        if _is_outage(exc):
            raise StorageUnavailable() from exc
        raise


class Translating:
    """A boto3 client whose every method raises StorageUnavailable for an outage."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if not callable(attr) or name.startswith("_"):
            return attr
        return _wrap(attr)


def _wrap(method: Callable[..., Any]) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        with translated():
            return method(*args, **kwargs)

    return call
