"""Where `lai login` keeps the platform's address and the API token: a JSON file that only
its owner can read ($XDG_CONFIG_HOME/lai/config.json, else ~/.config/lai/config.json); and
where `lai submit` keeps compressed images and unfinished uploads ($XDG_CACHE_HOME/lai,
else ~/.cache/lai)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path


class NotLoggedIn(Exception):
    pass


@dataclass(frozen=True)
class Login:
    url: str
    token: str


def config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "lai" / "config.json"


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    path = Path(base) / "lai"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)  # upload ids are the user's own
    return path


def save_login(login: Login) -> Path:
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    # Created 0600 from the start (not chmod-ed after writing): the token is never readable
    # by others, not even for a moment.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump({"url": login.url, "token": login.token}, out)
    path.chmod(0o600)  # an older file may have had looser bits
    return path


def load_login() -> Login:
    path = config_path()
    try:
        data = json.loads(path.read_text())
        return Login(url=str(data["url"]), token=str(data["token"]))
    except FileNotFoundError:
        raise NotLoggedIn("Not logged in: run `lai login URL` first.") from None
    except (ValueError, KeyError, TypeError):
        raise NotLoggedIn(f"{path} is damaged: run `lai login URL` again.") from None
