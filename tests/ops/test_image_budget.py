"""Images a worker loaded stay under a disk budget, least recently used removed first; an
image in use, used just now, or a base image is never removed; free disk is checked before
an image is fetched; a run whose image is already loaded fetches nothing."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest
from docker.errors import ImageNotFound

from lai_platform.runner.image_budget import (
    BASE_IMAGES,
    ImageBudget,
    NoRoomForImage,
    StoredImage,
    evictions,
)
from lai_platform.runner.image_loading import HOLD_REPOSITORY

GB = 2**30


def img(n: int) -> str:
    return f"sha256:{n:064x}"


def test_evictions_take_the_least_recently_used_until_it_fits():
    stored = [StoredImage(img(1), 4 * GB, 10), StoredImage(img(2), 4 * GB, 30),
              StoredImage(img(3), 4 * GB, 20)]
    assert evictions(stored, budget=10 * GB, incoming=1 * GB, protected=set()) == [img(1)]
    assert evictions(stored, budget=10 * GB, incoming=5 * GB, protected=set()) == [
        img(1), img(3)]
    assert evictions(stored, budget=10 * GB, incoming=5 * GB, protected={img(1)}) == [
        img(3), img(2)]
    assert evictions(stored, budget=20 * GB, incoming=5 * GB, protected=set()) == []


class FakeDocker:
    """The few engine calls the budget makes, with sizes made up."""

    def __init__(self, sizes: dict[str, int], running: set[str] = frozenset(),
                 base: str | None = None) -> None:
        self.sizes = dict(sizes)
        self.running = running
        self.base = base
        self.removed: list[str] = []
        self.images = SimpleNamespace(get=self._get, remove=self._remove)
        self.api = SimpleNamespace(containers=lambda all: [{"ImageID": i} for i in running])

    def _get(self, ref: str):
        image_id = self.base if ref in BASE_IMAGES else ref
        if image_id is None or image_id not in self.sizes:
            raise ImageNotFound(ref)
        return SimpleNamespace(id=image_id, attrs={"Size": self.sizes[image_id]})

    def _remove(self, ref: str) -> None:
        image_id = "sha256:" + ref.removeprefix(f"{HOLD_REPOSITORY}:")
        del self.sizes[image_id]
        self.removed.append(image_id)

    def info(self) -> dict:
        return {"DockerRootDir": "/nonexistent-docker-root"}


def budget(tmp_path, budget_gb: float = 10, min_free_gb: float = 0) -> ImageBudget:
    return ImageBudget(tmp_path / "uses.json", int(budget_gb * GB), int(min_free_gb * GB),
                       disks=[tmp_path], recent_s=60)


def test_images_over_the_budget_go_least_recently_used_first(tmp_path):
    docker = FakeDocker({img(n): 3 * GB for n in range(1, 5)} | {img(9): 3 * GB})
    keeper = budget(tmp_path)
    now = time.time()
    for n, age in ((1, 500), (2, 100), (3, 300), (4, 200)):
        keeper.uses.touch(img(n), now - age)
    # img(9) is on the engine but was never used by this worker: not ours to remove.
    removed = keeper.make_room(docker, img(5), 2 * GB)
    assert removed == [img(1), img(3)]  # 4 x 3 GB + 2 GB -> 8 GB <= 10 GB
    assert img(9) in docker.sizes
    assert set(keeper.uses.read()) == {img(2), img(4)}


def test_images_in_use_used_just_now_or_base_are_kept(tmp_path):
    sizes = {img(n): 4 * GB for n in range(1, 5)}
    docker = FakeDocker(sizes, running={img(1)}, base=img(2))
    keeper = budget(tmp_path, budget_gb=4)
    now = time.time()
    for n, age in ((1, 900), (2, 800), (3, 10), (4, 700)):
        keeper.uses.touch(img(n), now - age)
    # Over the budget whatever happens: only img(4) may go (1 runs, 2 is a base image,
    # 3 was used 10 s ago: a run may be about to start it).
    assert keeper.make_room(docker, img(7), GB) == [img(4)]


def test_no_room_on_disk_is_said_before_anything_is_fetched(tmp_path):
    docker = FakeDocker({img(1): GB})
    keeper = budget(tmp_path, budget_gb=100, min_free_gb=10**6)  # a million GB free: never
    keeper.uses.touch(img(1), time.time() - 900)
    with pytest.raises(NoRoomForImage, match="GiB free"):
        keeper.make_room(docker, img(2), GB)
    assert docker.removed == [img(1)]  # it tried: the least recently used went first


def test_a_run_whose_image_is_loaded_fetches_nothing(ada, image, fake, monkeypatch):
    platform = ada.platform
    fetched = []
    storage = platform.services.storage
    real = storage.local_path

    def counting(key):
        fetched.append(key)
        return real(key)

    monkeypatch.setattr(storage, "local_path", counting)
    first = ada.submit(image).get_json()["id"]
    started = time.monotonic()
    platform.run_queued()
    cold = time.monotonic() - started
    image_fetches = [k for k in fetched if k.startswith("images/")]
    assert len(image_fetches) == 1 and fake.rooms and fake.rooms[0][1] > 0
    fetched.clear()
    ada.submit(image)
    started = time.monotonic()
    platform.run_queued()
    warm = time.monotonic() - started
    assert [k for k in fetched if k.startswith("images/")] == []
    assert len(fake.rooms) == 1  # no room needed either
    print(f"fake-executor run, image fetched and loaded: {cold:.3f} s; already loaded: "
          f"{warm:.3f} s (submission {first} then the next)")


@pytest.mark.docker
def test_the_docker_executor_removes_the_least_recently_used_image(tmp_path):
    from lai_platform.runner.docker_executor import DockerExecutor  # noqa: PLC0415
    from tests.docker_images import build_unique_image, save_image  # noqa: PLC0415 (Docker)

    images = [build_unique_image() for _ in range(2)]
    tarballs = [save_image(i, tmp_path / f"{n}.tar") for n, i in enumerate(images)]
    for image_id in images:  # only the tarball is left, as on a fresh worker
        DockerExecutor().remove_image(image_id)
    keeper = ImageBudget(tmp_path / "uses.json", 0, 0, disks=[tmp_path], recent_s=0)
    executor = DockerExecutor(image_budget=keeper)
    try:
        for image_id, tarball in zip(images, tarballs, strict=True):
            executor.load_image(tarball, image_id)
        keeper.uses.touch(images[0], time.time() - 60)
        size = executor._client.images.get(images[1]).attrs["Size"]
        keeper.budget_bytes = 2 * size  # room for the newer one and the incoming one
        started = time.monotonic()
        executor.make_room(img(7), size)
        print(f"make_room with one eviction: {time.monotonic() - started:.2f} s")
        assert not executor.has_image(images[0]) and executor.has_image(images[1])
    finally:
        for image_id in images:
            executor.remove_image(image_id)
