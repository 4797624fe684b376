"""Which passwords are refused: short ones, common ones (a bundled list), and ones that a
guess by pattern finds at once (one character repeated, a run along the keyboard or the
alphabet, the e-mail address itself)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

MIN_PASSWORD = 10
_RUNS = ("0123456789", "9876543210", "abcdefghijklmnopqrstuvwxyz", "qwertyuiop", "asdfghjkl",
         "zxcvbnm", "1qaz2wsx3edc4rfv")


@cache
def common_passwords() -> frozenset[str]:
    text = (Path(__file__).with_name("common_passwords.txt")).read_text()
    return frozenset(line.strip() for line in text.splitlines()
                     if line.strip() and not line.startswith("#"))


def password_problem(password: str, email: str = "") -> str | None:
    """Why `password` is refused, in words for the person; None when it is fine."""
    if len(password) < MIN_PASSWORD:
        return f"The password must have at least {MIN_PASSWORD} characters."
    lowered = password.lower()
    if lowered in common_passwords():
        return "This password is one of the most common ones: choose another."
    if len(set(lowered)) < 4:
        return "The password repeats too few characters: choose a longer mix."
    if any(lowered in run * 2 or run.startswith(lowered) for run in _RUNS):
        return "The password is a run of keys or letters: choose another."
    local = email.split("@")[0].lower()
    if len(local) >= 4 and local in lowered and len(lowered) - len(local) < 4:
        return "The password is too close to your e-mail address: choose another."
    return None
