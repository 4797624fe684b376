"""Every log line of a run carries its submission id.

`run_submission` is wrapped by `with_submission_id`, which sets a context variable for the
run. A filter, applied to every record the process creates (installed by `create_app`, so in
the web and in each Celery worker, whose pool processes inherit it), adds `submission_id` to
the record and, whatever the formatter, starts its message with `[submission N]`. Threads a
run starts copy its context (`run_in_context`).
"""

from __future__ import annotations

import contextvars
import functools
import logging
import threading
from collections.abc import Callable
from typing import Any

submission_id: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "lai_submission_id", default=None
)


class SubmissionIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        current = submission_id.get()
        if not hasattr(record, "submission_id"):
            record.submission_id = current
            if current is not None:
                # Once per record, though it passes every handler's filter.
                record.msg = f"[submission {current}] {record.msg}"
        return True


_FILTER = SubmissionIdFilter()
_installed = False


def install() -> None:
    """Every record this process creates goes through the filter, whichever handler (or
    none: logging's last resort) writes it; idempotent."""
    global _installed
    if _installed:
        return
    _installed = True
    make = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        _FILTER.filter(record)
        return record

    logging.setLogRecordFactory(factory)


def with_submission_id(handler: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate a job handler `(app, submission_id)`: its log lines carry the id."""

    @functools.wraps(handler)
    def wrapped(app: Any, sub_id: int, *args: Any, **kwargs: Any) -> Any:
        token = submission_id.set(sub_id)
        try:
            return handler(app, sub_id, *args, **kwargs)
        finally:
            submission_id.reset(token)

    return wrapped


def run_in_context(target: Callable[..., Any], *args: Any, **kwargs: Any) -> threading.Thread:
    """A thread running `target` in a copy of this context (so with its submission id)."""
    context = contextvars.copy_context()
    return threading.Thread(target=context.run, args=(target, *args), kwargs=kwargs,
                            daemon=True)
