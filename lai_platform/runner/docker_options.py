"""The hardened `docker run` settings every participant container gets.

Kept apart from the run loop so the settings can be read (and reviewed) in one place.
"""

from __future__ import annotations

from typing import Any

from docker.types import DeviceRequest, LogConfig, Mount, Ulimit

from lai_platform.runner.base import RunSpec
from lai_platform.runner.outputs import CONTAINER_UID

PLATFORM_LABEL = "lai.platform"  # on every container we start, so strays can be found
TMP_MB = 64


def container_options(spec: RunSpec, host_cpus: int | None = None) -> dict[str, Any]:
    """Keyword arguments for `client.containers.create(spec.image_id, **options)`."""
    limits = spec.limits
    memory = limits.memory_mb * 2**20
    cpus = min(limits.cpus, host_cpus) if host_cpus else limits.cpus
    # One byte over the limit: a file cut off by the ulimit is then visibly over it.
    fsize = limits.output_max_bytes + 1
    options: dict[str, Any] = {
        "network_mode": "none",
        "read_only": True,
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges"],
        "user": f"{CONTAINER_UID}:{CONTAINER_UID}",
        "pids_limit": limits.pids,
        "mem_limit": memory,
        "memswap_limit": memory,  # equal: no swap on top of the memory limit
        "nano_cpus": int(cpus * 1e9),
        "shm_size": limits.shm_mb * 2**20,
        "ipc_mode": "private",
        "init": True,  # PID 1 reaps zombies and forwards signals; a kill stops everything
        "mounts": [
            Mount("/input", str(spec.input_dir.resolve()), type="bind", read_only=True),
            Mount("/output", str(spec.output_dir.resolve()), type="bind", read_only=False),
        ],
        # Owned by the container user: the engine gives a tmpfs the owner and mode of the
        # image's own /tmp (often root, 0755), which the user could not write to.
        "tmpfs": {"/tmp": f"rw,nosuid,nodev,size={TMP_MB}m,mode=1777,"
                          f"uid={CONTAINER_UID},gid={CONTAINER_UID}"},
        "ulimits": [
            Ulimit(name="fsize", soft=fsize, hard=fsize),
            Ulimit(name="core", soft=0, hard=0),  # no core dumps
        ],
        "labels": {**spec.labels, PLATFORM_LABEL: "1"},  # a spec cannot hide a container
        # Logs are read from the attach stream; this only bounds the daemon's copy on disk.
        "log_config": LogConfig(
            type="json-file",
            config={"max-size": str(max(limits.log_max_bytes, 2**20)), "max-file": "1"},
        ),
        "stdin_open": False,
        "tty": False,
    }
    if spec.name:
        options["name"] = spec.name
    if limits.gpu:
        options["device_requests"] = [DeviceRequest(count=-1, capabilities=[["gpu"]])]
    return options
