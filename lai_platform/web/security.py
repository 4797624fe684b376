"""What every request and response goes through: body limits before anything reads a body,
security headers, and redirects that stay on this site.

Bodies: uploads (the submission routes) check who is asking before they read a byte and
then stream; every other route gets a small body, smaller still without credentials, so a
stranger cannot make the server write gigabytes to disk before a form or token is refused.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, abort, request, session
from flask_wtf.csrf import validate_csrf
from werkzeug.routing import IntegerConverter
from wtforms.validators import ValidationError

# Routes that stream a large body themselves, after their own early checks.
STREAMING_ENDPOINTS = {"api.create_submission", "web.upload", "api.send_upload_chunk",
                       "organize.upload_bundle_page", "api.create_challenge",
                       "organize.upload_dataset", "api.upload_dataset"}
SIGNED_IN_BODY_BYTES = 2**20  # forms and JSON: a comment, a phase setting
ANONYMOUS_BODY_BYTES = 64 * 2**10  # a login or registration form
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
       "frame-ancestors 'none'")


def limit_body() -> None:
    """Before every request (and before CSRF checks read a form): refuse an oversized body
    at once, and cap what may be read of one whose length is not declared."""
    if request.endpoint in STREAMING_ENDPOINTS:
        return
    credentials = "Authorization" in request.headers or "user_id" in session
    limit = SIGNED_IN_BODY_BYTES if credentials else ANONYMOUS_BODY_BYTES
    if request.content_length is not None and request.content_length > limit:
        abort(413)
    request.max_content_length = limit


def security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


def same_site_path(target: str | None) -> str | None:
    """`target` if it is a path on this site as a browser would read it, else None.

    Browsers drop tabs and newlines from URLs and read a backslash as a slash, so
    "/\\t/evil.example" and "/\\\\evil.example" both lead off-site; they are refused.
    """
    if not target:
        return None
    cleaned = "".join(ch for ch in target if ch not in "\t\r\n").replace("\\", "/")
    parts = urlsplit(cleaned)
    if parts.scheme or parts.netloc or not cleaned.startswith("/") or cleaned.startswith("//"):
        return None
    return cleaned


def same_origin_referrer() -> str | None:
    """The Referer as a path on this site, or None when it points elsewhere."""
    referrer = request.referrer
    if not referrer:
        return None
    parts = urlsplit(referrer)
    if parts.netloc != request.host:
        return None
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return same_site_path(path)


class DatabaseInt(IntegerConverter):
    """Ids the database can hold: a larger number in a URL matches no route (404) instead of
    failing in the database (500)."""

    def __init__(self, url_map, *args, **kwargs) -> None:
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(url_map, *args, **kwargs)


def install(app: Flask) -> None:
    """Before any route is registered; the body limit before Flask-WTF's CSRF check (which
    reads a form)."""
    app.url_map.converters["int"] = DatabaseInt
    app.before_request(limit_body)
    app.after_request(security_headers)


def valid_csrf(token: str | None) -> bool:
    """The page's CSRF token (a form field or the X-CSRFToken header) is this session's."""
    try:
        validate_csrf(token)
    except ValidationError:
        return False
    return True
