"""The OpenAPI 3.1 description of /api/v1, generated from the app's routes: paths and path
parameters from the URL rules, security from the auth decorators' `auth` marker, summaries
from the views' docstrings, bodies and responses from `@documented` (api/docs.py)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, jsonify

from lai_platform.api.blueprint import api_bp
from lai_platform.api.docs import ERROR, JSON, documented, operation_of
from lai_platform.api.schemas import COMPONENTS, OPEN

METHODS = ("get", "post", "put", "patch", "delete")
CONVERTERS = {"int": {"type": "integer"}, "float": {"type": "number"}}
PARAMETER = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")
# Any operation may answer these (a bad body, an unknown slug, a quota, the database away).
ERROR_STATUSES = (400, 403, 404, 409, 413, 429, 503)
SECURITY = {"token": [{"bearerAuth": []}], "optional": [{}, {"bearerAuth": []}]}
REASONS = {200: "OK", 201: "Created", 202: "Accepted", 206: "Partial content",
           400: "Bad request", 401: "No valid API token", 403: "Forbidden",
           404: "Not found", 409: "Conflict", 413: "Body too large", 416: "Range not satisfiable",
           429: "Too many requests", 503: "Unavailable"}


def api_rules(app: Flask) -> list:
    prefix = api_bp.url_prefix + "/"
    return [rule for rule in app.url_map.iter_rules() if rule.rule.startswith(prefix)]


def undocumented_routes(app: Flask) -> list[str]:
    """The /api/v1 rules whose view carries no `@documented`."""
    return [rule.rule for rule in api_rules(app)
            if operation_of(app.view_functions[rule.endpoint]) is None]


def openapi_path(rule: str) -> str:
    return PARAMETER.sub(lambda m: "{" + m.group(2) + "}", rule)


def path_parameters(rule: str) -> list[dict]:
    return [{"name": name, "in": "path", "required": True,
             "schema": CONVERTERS.get(converter or "default", {"type": "string"})}
            for converter, name in PARAMETER.findall(rule)]


def openapi_document(app: Flask) -> dict[str, Any]:
    paths: dict[str, dict] = {}
    for rule in sorted(api_rules(app), key=lambda r: r.rule):
        view = app.view_functions[rule.endpoint]
        item = paths.setdefault(openapi_path(rule.rule), {})
        for method in METHODS:
            if method.upper() in (rule.methods or ()):
                item[method] = operation(rule, view, method)
    return {
        "openapi": "3.1.0",
        "info": {"title": "LAI Challenge Platform API", "version": "1",
                 "description": "Authenticate with `Authorization: Bearer <token>` (tokens "
                                "are made on the account page). Every error is "
                                '{"error": {"code", "message"}}.'},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {"schemas": COMPONENTS, "securitySchemes": {
            "bearerAuth": {"type": "http", "scheme": "bearer"}}},
    }


def operation(rule, view: Callable, method: str) -> dict[str, Any]:
    declared = operation_of(view) or {}
    summary, description = _doc(view)
    op: dict[str, Any] = {
        "operationId": rule.endpoint.rsplit(".", 1)[-1] + ("" if method == "get" else
                                                           f"_{method}"),
        "summary": summary,
        "tags": [view.__module__.rsplit(".", 1)[-1]],
        "parameters": path_parameters(rule.rule) + [
            {"name": name, "in": "query", "required": False, "schema": schema}
            for name, schema in declared.get("query", {}).items()],
        "responses": responses(declared.get("responses", {}), getattr(view, "auth", None)),
        "security": SECURITY.get(getattr(view, "auth", None), []),
    }
    if description:
        op["description"] = description
    if getattr(view, "permission", None) is not None:
        op["x-permission"] = str(view.permission)
    if declared.get("request") is not None:
        op["requestBody"] = {"required": declared["required"], "content": {
            declared["request_type"]: {"schema": declared["request"]}}}
    if not declared:
        op["responses"] = {"default": {"description": "undocumented"}}
    return op


def responses(declared: dict, auth: str | None) -> dict[str, dict]:
    statuses = dict.fromkeys(ERROR_STATUSES + ((401,) if auth else ()), ERROR) | declared
    return {str(status): _response(status, body) for status, body in sorted(statuses.items())}


def _response(status: int, body) -> dict:
    description = REASONS.get(status, "Response")
    if isinstance(body, str):  # a media type: a file, not JSON
        return {"description": description,
                "content": {body: {"schema": {"type": "string", "format": "binary"}}}}
    return {"description": description, "content": {JSON: {"schema": body}}}


def _doc(view: Callable) -> tuple[str, str]:
    text = (view.__doc__ or "").strip()
    if not text:
        return view.__name__.replace("_endpoint", "").replace("_", " ").capitalize(), ""
    first = text.split("\n\n", 1)[0]
    summary = " ".join(first.split()).split(". ")[0].rstrip(".")
    return summary[:120], " ".join(text.split())


@api_bp.get("/openapi.json")
@documented({200: OPEN})
def openapi_json():
    """This description of the API (OpenAPI 3.1)."""
    return jsonify(openapi_document(current_app))
