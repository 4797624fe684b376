"""Requirements the image's Python needs beyond what the host's pip resolves.

The host's pip (scripts/build_stack_images.sh) resolves environment markers for the host's
Python, e.g. 3.11.7, while the image's Debian Python may be older (3.11.2): a dependency
marked `python_full_version < "3.11.3"` is then missing from the wheels. This walks the
installed requirement tree of the host's virtual environment, evaluates markers for the
target version, and prints what the host does not have installed.

    python target_requirements.py 3.11.2 flask==3.1.3 redis==6.4.0 ...
"""

from __future__ import annotations

import sys
from importlib import metadata

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name


def missing(version: str, roots: list[str]) -> list[str]:
    env = default_environment() | {"python_full_version": version,
                                   "python_version": ".".join(version.split(".")[:2])}
    todo = [(Requirement(r), "") for r in roots]
    seen: set[tuple[str, str]] = set()
    extra: dict[str, str] = {}
    while todo:
        req, extra_name = todo.pop()
        if req.marker and not req.marker.evaluate(env | {"extra": extra_name}):
            continue
        name = canonicalize_name(req.name)
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            extra[name] = str(Requirement(f"{req.name}{req.specifier}"))
            continue
        for wanted in [""] + sorted(req.extras):
            if (name, wanted) in seen:
                continue
            seen.add((name, wanted))
            todo += [(Requirement(r), wanted) for r in dist.requires or []]
    return sorted(extra.values())


if __name__ == "__main__":
    print("\n".join(missing(sys.argv[1], sys.argv[2:])))
