"""Checking what organizers type: each reader appends a sentence saying what is wrong to
`problems` and returns the value, so a form reports every problem at once."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from lai_platform.errors import PlatformError

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
# A domain name: labels of letters, digits and inner hyphens, a dot between, no scheme.
DOMAIN = re.compile(r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
TRUE_WORDS = ("on", "true", "1", "yes")


class Invalid(PlatformError):
    """Settings refused: every problem found, one sentence each; nothing was saved."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid_settings", " ".join(problems), 400)
        self.problems = problems


def raise_problems(problems: list[str]) -> None:
    if problems:
        raise Invalid(problems)


def check_slug(slug: str, what: str, problems: list[str]) -> str:
    slug = (slug or "").strip()
    if not SLUG.match(slug):
        problems.append(f"The {what} slug {slug!r} must be 1 to 64 lower-case letters, digits "
                        "and inner hyphens (e.g. 'liver-2025').")
    return slug


def text(values: dict, name: str, problems: list[str], *, required: bool = False,
         max_length: int = 100_000) -> str:
    value = values.get(name)
    value = "" if value is None else str(value)
    value = value.strip() if max_length <= 500 else value
    if required and not value.strip():
        problems.append(f"The {name} must not be empty.")
    if len(value) > max_length:
        problems.append(f"The {name} is {len(value)} characters long; at most {max_length}.")
    return value


def flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value or "").strip().lower() in TRUE_WORDS


def number(name: str, value: Any, problems: list[str], *, low: float, high: float,
           integer: bool = True, label: str = "") -> int | float | None:
    """A number within [low, high], or None for an empty value."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    shown = label or name
    try:
        if isinstance(value, bool):
            raise ValueError
        parsed = float(value)
        if integer:
            if parsed != int(parsed):
                raise ValueError
            parsed = int(parsed)
    except (TypeError, ValueError, OverflowError):
        kind = "a whole number" if integer else "a number"
        problems.append(f"{shown} must be {kind}, not {value!r}.")
        return None
    if not low <= parsed <= high:
        problems.append(f"{shown} must be between {_plain(low)} and {_plain(high)}, "
                        f"not {_plain(parsed)}.")
        return None
    return parsed


def utc_time(name: str, value: Any, problems: list[str]) -> datetime | None:
    """A UTC time as the form or JSON gives it ("2025-06-01 12:00", ISO 8601 with Z or an
    offset); stored naive, in UTC, like every time on the platform."""
    if isinstance(value, datetime):
        parsed = value
    elif value is None or not str(value).strip():
        return None
    else:
        raw = str(value).strip().replace("Z", "+00:00").replace("z", "+00:00")
        try:
            parsed = datetime.fromisoformat(raw)
        except ValueError:
            problems.append(f"{name} must be a UTC time like 2025-06-01 12:00, not {value!r}.")
            return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed.replace(microsecond=0)


def domains(value: Any, problems: list[str]) -> list[str]:
    """An allow-list of e-mail domains: one per line (or a list)."""
    items = value if isinstance(value, list) else str(value or "").splitlines()
    found: list[str] = []
    for item in items:
        domain = str(item).strip().lower().lstrip("@")
        if not domain:
            continue
        if not DOMAIN.match(domain):
            problems.append(f"{str(item).strip()!r} is not an e-mail domain (write it like "
                            "'uni-example.org', without '@' or 'https://').")
        elif domain not in found:
            found.append(domain)
    return found


def _plain(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


TEAM_MAX_SIZE = 1000


def team_settings(given: Mapping[str, Any], problems: list[str]) -> dict[str, Any]:
    """The challenge's team settings found in GIVEN (a form, JSON or a bundle), checked."""
    values: dict[str, Any] = {}
    if "team_changes_close_at" in given:
        values["team_changes_close_at"] = utc_time(
            "team_changes_close_at", given["team_changes_close_at"], problems)
    if "team_max_size" in given:
        values["team_max_size"] = number("team_max_size", given["team_max_size"], problems,
                                         low=1, high=TEAM_MAX_SIZE)
    return values
