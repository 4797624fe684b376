"""Imported by the platform image's Python at start, through a .pth file (compose.local.yml
only; Debian's own sitecustomize would shadow one of ours).

Debian bookworm's Python is 3.11.2, older than tarfile's extraction filters (3.11.4), which
the platform relies on (`extractall(filter="data")` refuses links and paths leaving the
target). Where they are missing, `tarfile` is the standard library's own newer module as
packaged by backports.tarfile, so every `import tarfile` gets the filters.
"""

import sys
import tarfile

if not hasattr(tarfile, "data_filter"):
    from backports import tarfile as _backport

    sys.modules["tarfile"] = _backport
