"""Errors a user can act on: a machine code, words for a person and an HTTP status."""


class PlatformError(Exception):
    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


class NotFound(PlatformError):
    def __init__(self, message: str) -> None:
        super().__init__("not_found", message, 404)


class Forbidden(PlatformError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message, 403)
