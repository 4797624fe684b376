"""What `lai` prints: tables cut to the terminal's width, colours only on a terminal (and
never with NO_COLOR), progress on stderr only when stderr is a terminal."""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from collections.abc import Sequence
from typing import Any, TextIO

COLOURS = {"green": "32", "red": "31", "yellow": "33", "bold": "1", "dim": "2"}
STATE_COLOURS = {"succeeded": "green", "failed": "red", "running": "yellow",
                 "queued": "dim", "approved": "green", "pending": "yellow"}


def colour(text: str, name: str | None, stream: TextIO = sys.stdout) -> str:
    if not name or os.environ.get("NO_COLOR") or not stream.isatty():
        return text
    return f"\033[{COLOURS[name]}m{text}\033[0m"


def state(text: str | None) -> str:
    return colour(str(text), STATE_COLOURS.get(str(text)))


def print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, sort_keys=True))


def cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], width: int | None = None) -> str:
    """Columns padded to their widest cell; the widest columns are cut (with "…"), then the
    last ones left out, until the table fits the terminal."""
    width = width or shutil.get_terminal_size((100, 24)).columns
    cells = [[cell(v) for v in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    while sum(widths) + 2 * (len(widths) - 1) > width and max(widths) > 6:
        widths[widths.index(max(widths))] -= 1
    # Still too wide: the last columns go (--json has them all).
    while sum(widths) + 2 * (len(widths) - 1) > width and len(widths) > 1:
        widths.pop()
    headers, cells = headers[: len(widths)], [r[: len(widths)] for r in cells]

    def line(values: Sequence[str]) -> str:
        parts = [v if len(v) <= w else v[: w - 1] + "…" for v, w in zip(values, widths,
                                                                     strict=True)]
        return "  ".join(p.ljust(w) for p, w in zip(parts, widths, strict=True)).rstrip()

    head = colour(line(list(headers)), "bold")
    return "\n".join([head, *(line(r) for r in cells)])


def note(text: str) -> None:
    """One line for the person on stderr (stdout stays for the result, and for --json)."""
    clear = "\r\033[K" if sys.stderr.isatty() else ""  # over a progress bar being drawn
    sys.stderr.write(f"{clear}lai: {text}\n")
    sys.stderr.flush()


class Progress:
    """A one-line progress bar on stderr, redrawn at most ten times a second; silent when
    stderr is not a terminal (a log file gets no bar)."""

    def __init__(self, label: str, total: int | None, done: int = 0) -> None:
        self.label, self.total, self.done = label, total, done
        self.enabled = sys.stderr.isatty()
        self._drawn = 0.0
        self._started = time.monotonic()
        self._start_bytes = done

    def add(self, n: int) -> None:
        self.done += n
        now = time.monotonic()
        if self.enabled and now - self._drawn >= 0.1:
            self._drawn = now
            self._draw(now)

    def move_to(self, done: int) -> None:
        """After a resume: the bar shows what the other side holds; the rate counts only
        bytes that moved."""
        self._start_bytes += done - self.done
        self.done = done

    def _draw(self, now: float) -> None:
        rate = (self.done - self._start_bytes) / max(now - self._started, 1e-6)
        text = f"{self.label}: {_size(self.done)}"
        if self.total:
            share = min(self.done / self.total, 1.0)
            bar = "#" * int(share * 24)
            text = f"{self.label} [{bar:<24}] {share:4.0%} {_size(self.done)}/{_size(self.total)}"
        sys.stderr.write(f"\r{text} {_size(rate)}/s\033[K")
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            self._draw(time.monotonic())
            sys.stderr.write("\n")


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"
