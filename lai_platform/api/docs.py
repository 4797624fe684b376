"""`@documented`: the request body and responses of an API view, declared next to it; the
OpenAPI description (api/openapi.py) reads them. Every /api/v1 route must carry one
(tests/test_openapi.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lai_platform.api.schemas import Schema, ref

JSON = "application/json"
TAR = "application/x-tar"
MULTIPART = "multipart/form-data"


def documented(responses: dict[int, Schema | str], *, request: Schema | None = None,
               request_type: str = JSON, required: bool = True,
               query: dict[str, Schema] | None = None) -> Callable:
    """RESPONSES: status → schema of its JSON body, or a media type (e.g. "text/csv") for a
    body that is not JSON. REQUEST: the JSON Schema of the body (REQUEST_TYPE names
    another media type; REQUIRED false: the body may be left out). QUERY: query parameters.
    Error statuses (4xx, 503) are added for every operation with the shared Error object."""

    def mark(view: Callable) -> Callable:
        view.openapi = {  # type: ignore[attr-defined]
            "responses": responses, "request": request, "request_type": request_type,
            "required": required, "query": query or {},
        }
        return view

    return mark


def operation_of(view: Callable) -> dict[str, Any] | None:
    return getattr(view, "openapi", None)


ERROR = ref("Error")
