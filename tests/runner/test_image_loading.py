"""Loading participant images: once per ID, verified, and without taking over tags."""

from __future__ import annotations

import gzip
import json
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from lai_platform.images.tarball import inspect_image_tarball
from lai_platform.runner import DockerExecutor, Executor, ImageLoadError, image_loading
from tests.docker_images import (
    build_test_image,
    build_unique_image,
    docker_available,
    docker_client,
    oci_members,
    save_image,
    to_oci_layout,
    write_tarball,
)

pytestmark = [
    pytest.mark.docker,
    pytest.mark.skipif(not docker_available(), reason="needs a Docker Engine and /bin/busybox"),
]


class LoadCounter:
    """Counts `docker load` requests by wrapping the client's API call."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        api = docker_client().api
        real = api.load_image

        def counting(*args: object, **kwargs: object) -> object:
            self.calls += 1
            return real(*args, **kwargs)

        monkeypatch.setattr(api, "load_image", counting)


@pytest.fixture
def executor() -> DockerExecutor:
    return DockerExecutor(docker_client())


@pytest.fixture
def fresh_image(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """An image of this test's own, saved to a tarball and then removed from Docker."""
    image_id = build_unique_image()
    tarball = save_image(image_id, tmp_path / "image.tar")
    docker_client().images.remove(image_id, force=True)
    yield image_id, tarball
    DockerExecutor(docker_client()).remove_image(image_id)


def test_docker_executor_is_an_executor(executor: DockerExecutor) -> None:
    assert isinstance(executor, Executor)


def test_real_docker_save_passes_validation_with_dockers_id(tmp_path: Path) -> None:
    image_id = build_test_image("ok")
    info = inspect_image_tarball(save_image("lai-test-ok:latest", tmp_path / "ok.tar"), 2**30)
    assert info.image_id == image_id
    assert info.repo_tags == ["lai-test-ok:latest"]
    assert info.entrypoint == ["/bin/sh", "/run.sh"]
    assert (info.architecture, info.os) == ("amd64", "linux")


def test_image_is_loaded_once(
    executor: DockerExecutor, fresh_image: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    image_id, tarball = fresh_image
    counter = LoadCounter(monkeypatch)
    assert not executor.has_image(image_id)

    executor.load_image(tarball, image_id)
    executor.load_image(tarball, image_id)

    assert executor.has_image(image_id)
    assert counter.calls == 1


def test_mismatched_id_is_refused_before_loading(
    executor: DockerExecutor, fresh_image: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    image_id, tarball = fresh_image
    counter = LoadCounter(monkeypatch)
    with pytest.raises(ImageLoadError):
        executor.load_image(tarball, "sha256:" + "1" * 64)
    assert counter.calls == 0
    assert not executor.has_image(image_id)


def test_mismatch_found_after_loading_raises(
    executor: DockerExecutor, fresh_image: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the file changed after validation, what Docker loaded is checked too."""
    image_id, tarball = fresh_image
    expected = "sha256:" + "2" * 64
    real_inspect = image_loading.inspect_image_tarball

    def stale_inspect(path: Path, max_bytes: int, **options):  # validated earlier
        info = real_inspect(path, max_bytes, **options)
        return type(info)(**{**info.__dict__, "image_id": expected})

    monkeypatch.setattr(image_loading, "inspect_image_tarball", stale_inspect)
    with pytest.raises(ImageLoadError, match="expected"):
        executor.load_image(tarball, expected)


def test_short_ids_and_tags_are_not_image_ids(executor: DockerExecutor) -> None:
    with pytest.raises(ValueError):
        executor.has_image("lai-test-ok:latest")
    with pytest.raises(ValueError):
        executor.load_image(Path("/nonexistent.tar"), "sha256:abc")


def test_oci_layout_loads_with_the_same_id(
    executor: DockerExecutor, fresh_image: tuple[str, Path], tmp_path: Path
) -> None:
    image_id, classic = fresh_image
    oci = to_oci_layout(classic, tmp_path / "oci.tar")
    assert inspect_image_tarball(oci, 2**30).image_id == image_id

    executor.load_image(oci, image_id)
    assert executor.has_image(image_id)


@pytest.mark.parametrize("compress", [False, True], ids=["tar", "tar.gz"])
def test_an_oci_archive_without_manifest_json_loads(
    executor: DockerExecutor, fresh_image: tuple[str, Path], tmp_path: Path, compress: bool
) -> None:
    """What `podman save --format oci-archive` and `skopeo copy ... oci-archive:` write: an
    index.json and blobs, with gzip-compressed layers, and no manifest.json."""
    image_id, classic = fresh_image
    with tarfile.open(classic) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))[0]
        config = tar.extractfile(manifest["Config"]).read()
        layers = [gzip.compress(tar.extractfile(name).read()) for name in manifest["Layers"]]
    members = oci_members(config, layers)
    del members["manifest.json"]
    oci = write_tarball(tmp_path / "podman.tar", members, compress=compress)
    assert inspect_image_tarball(oci, 2**30).docker_manifest is not None

    executor.load_image(oci, image_id)
    assert executor.has_image(image_id)


def test_loading_does_not_take_over_existing_tags(executor: DockerExecutor, tmp_path: Path) -> None:
    """A tarball tagged like an image already on the worker must not replace that tag."""
    client = docker_client()
    tag = f"lai-test-victim-{tmp_path.name.lower()}:latest"
    participant = build_unique_image()
    client.api.tag(participant, *tag.split(":"))
    tarball = save_image(tag, tmp_path / "participant.tar")
    client.images.remove(participant, force=True)
    victim = build_unique_image()
    client.api.tag(victim, *tag.split(":"))
    try:
        assert inspect_image_tarball(tarball, 2**30).repo_tags == [tag]
        executor.load_image(tarball, participant)

        assert client.images.get(tag).id == victim
        assert executor.has_image(participant)
        held = client.images.get(participant).tags
        assert held == [f"{image_loading.HOLD_REPOSITORY}:{participant.removeprefix('sha256:')}"]
    finally:
        executor.remove_image(participant)
        executor.remove_image(victim)
    assert not executor.has_image(participant)


def test_remove_image_twice_is_fine(executor: DockerExecutor, fresh_image) -> None:
    image_id, tarball = fresh_image
    executor.load_image(tarball, image_id)
    assert executor.has_image(image_id)
    executor.remove_image(image_id)
    assert not executor.has_image(image_id)
    executor.remove_image(image_id)  # already gone: no error
    executor.remove_image("sha256:" + "3" * 64)  # never loaded: no error
    assert not executor.has_image(image_id)
