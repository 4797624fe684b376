"""Errors a user can act on: a machine code, words for a person and an HTTP status."""


class PlatformError(Exception):
    def __init__(self, code: str, message: str, status: int = 400,
                 details: dict | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        # Beside "error" in an API answer, e.g. the offset a resumable upload is at.
        self.details = details or {}


class NotFound(PlatformError):
    def __init__(self, message: str) -> None:
        super().__init__("not_found", message, 404)


class Forbidden(PlatformError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message, 403)


def conflict() -> PlatformError:
    """What a unique-constraint race becomes: two people chose the same name at once."""
    return PlatformError(
        "conflict",
        "This clashes with a change someone made at the same moment (for example the same "
        "name chosen twice); nothing of yours was saved. Reload the page and try again.",
        409,
    )
