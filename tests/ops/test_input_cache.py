"""The input cache (one staged copy of each dataset version's test inputs) stays under
LAI_INPUT_CACHE_GB: least recently used versions go first, never one a run is using."""

from __future__ import annotations

import io
import os
import tarfile
import time
from types import SimpleNamespace

from lai_platform.jobs.staging import bound_cache, mounted_inputs, stage_inputs, staged_size
from lai_platform.storage.local import LocalStorage

KB = 1024


def dataset(storage: LocalStorage, name: str, size: int) -> SimpleNamespace:
    """A dataset version whose inputs are one incompressible file of `size` bytes."""
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w") as tar:
        member = tarfile.TarInfo("cases/blob.bin")
        member.size = size
        tar.addfile(member, io.BytesIO(os.urandom(size)))
    data.seek(0)
    storage.save(f"inputs/{name}.tar", data)
    return SimpleNamespace(sha256=name * 8, inputs_key=f"inputs/{name}.tar")


def cached(root) -> set[str]:
    return {m.stem for m in root.glob("*.complete")}


def test_the_least_recently_used_versions_go_when_the_cache_is_full(tmp_path):
    storage, root = LocalStorage(tmp_path / "store"), tmp_path / "cache"
    versions = [dataset(storage, name, 300 * KB) for name in "abcd"]
    stage_inputs(storage, versions[0], root)
    # Room for three: an ext4 image (or a folder, where the worker cannot mount) each.
    limit = int(3.5 * staged_size(root, "a" * 8))
    for version in versions[1:3]:
        time.sleep(0.01)  # distinct use times
        stage_inputs(storage, version, root, max_bytes=limit)
    assert cached(root) == {"a" * 8, "b" * 8, "c" * 8}
    time.sleep(0.01)
    stage_inputs(storage, versions[0], root, max_bytes=limit)  # "a" used again
    stage_inputs(storage, versions[3], root, max_bytes=limit)
    assert cached(root) == {"a" * 8, "c" * 8, "d" * 8}  # "b": least recently used
    assert not (root / ("b" * 8)).exists() and not (root / f"{'b' * 8}.img").exists()


def test_a_version_in_use_is_never_removed(tmp_path):
    storage, root = LocalStorage(tmp_path / "store"), tmp_path / "cache"
    old, new = dataset(storage, "o", 300 * KB), dataset(storage, "n", 300 * KB)
    with mounted_inputs(storage, old, root) as inputs:
        limit = int(1.5 * staged_size(root, "o" * 8))  # room for one
        assert (inputs / "cases" / "blob.bin").exists()
        stage_inputs(storage, new, root, max_bytes=limit)  # over: but "o" is running
        assert cached(root) == {"o" * 8, "n" * 8}
        assert (inputs / "cases" / "blob.bin").exists()
    with (root / ".lock").open("w"):
        assert bound_cache(root, limit, keep="n" * 8) == ["o" * 8]
    assert cached(root) == {"n" * 8}
