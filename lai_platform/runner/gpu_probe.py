"""Can this engine give a container a GPU? Asked once when a worker starts.

The answer comes from doing it: a tiny container with a device request for every GPU,
from an image already on the worker (no registry is asked). Docker's own words are kept,
so an operator reads why a worker refused the gpu queue (no NVIDIA runtime, no driver...).
"""

from __future__ import annotations

import docker
from docker.errors import APIError, DockerException, ImageNotFound
from docker.types import DeviceRequest

from lai_platform.runner.image_budget import BASE_IMAGES

PROBE_TIMEOUT_S = 60


def probe_image(client: docker.DockerClient, preferred: str = "") -> str | None:
    """An image to probe with: `preferred`, a base image, else any tagged local image."""
    for ref in filter(None, (preferred, *BASE_IMAGES)):
        try:
            client.images.get(ref)
            return ref
        except ImageNotFound:
            continue
    for image in client.images.list():
        if image.tags:
            return image.tags[0]
    return None


def probe_gpu(client: docker.DockerClient, image: str = "") -> tuple[bool, str]:
    """(True, what was seen) if a container got a GPU; (False, why not) otherwise."""
    try:
        runtimes = sorted((client.info().get("Runtimes") or {}).keys())
        ref = probe_image(client, image)
        if ref is None:
            return False, "no local image to probe the GPU with"
        container = client.containers.create(
            ref, ["sh", "-c", "nvidia-smi -L 2>/dev/null || ls /dev/nvidia0"],
            device_requests=[DeviceRequest(count=-1, capabilities=[["gpu"]])],
            network_mode="none", labels={"lai.gpu-probe": "1"},
        )
    except DockerException as exc:
        return False, f"the engine is not usable ({type(exc).__name__}: {exc})"
    try:  # the refusal usually comes at start, once the container exists: always removed
        container.start()
        exit_code = container.wait(timeout=PROBE_TIMEOUT_S).get("StatusCode")
        seen = container.logs().decode(errors="replace").strip().splitlines()
    except APIError as exc:
        return False, (f"the engine refused a GPU device request ({exc.explanation or exc}); "
                       f"runtimes: {', '.join(runtimes) or 'none'}")
    except DockerException as exc:
        return False, f"the GPU probe container failed ({type(exc).__name__}: {exc})"
    finally:
        container.remove(force=True)
    if exit_code != 0:
        return False, f"a container with a GPU device request saw no GPU ({'; '.join(seen)})"
    return True, f"a container saw: {'; '.join(seen[:8])}"
