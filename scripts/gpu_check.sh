#!/usr/bin/env bash
# Can this machine run GPU submissions? Run on a (would-be) GPU worker, from the repository:
#   scripts/gpu_check.sh
# Checks, each printed PASS/FAIL: the NVIDIA driver (nvidia-smi), the engine's runtimes,
# `docker run --gpus all` with a tiny image built here (static busybox, `docker import`:
# no registry), and the worker's own start-up probe (what decides whether it serves -Q gpu).
# Exit status 0 only if a container got a GPU both ways. Removes what it creates.
set -u
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
IMAGE=lai-gpu-check:local
failed=0
pass() { printf 'PASS  %s\n' "$*"; }
fail() { printf 'FAIL  %s\n' "$*"; failed=1; }

if out=$(nvidia-smi -L 2>&1); then pass "driver: $(echo "$out" | head -4 | tr '\n' ';')"
else fail "driver: nvidia-smi: $(echo "$out" | head -2 | tr '\n' ' ')"; fi

if ! docker info >/dev/null 2>&1; then
    fail "engine: docker info failed (is dockerd running, may this user use it?)"
    echo "RESULT: no GPU for containers (no engine)"; exit 1
fi
pass "engine runtimes: $(docker info --format '{{range $k, $v := .Runtimes}}{{$k}} {{end}}')"

if ! docker image inspect "$IMAGE" >/dev/null 2>&1; then
    busybox=$(command -v busybox || true)
    if [ -z "$busybox" ] || ! file -L "$busybox" 2>/dev/null | grep -q static; then
        fail "tiny image: a static busybox is needed (apt-get install busybox-static)"
    else
        root=$(mktemp -d); mkdir -p "$root/bin" "$root/dev" "$root/proc" "$root/sys"
        cp "$busybox" "$root/bin/busybox"
        for tool in sh ls cat; do ln -s busybox "$root/bin/$tool"; done
        tar -C "$root" -c . | docker import -c 'CMD ["/bin/sh"]' - "$IMAGE" >/dev/null \
            && pass "tiny image $IMAGE built locally" || fail "tiny image: docker import failed"
        rm -rf "$root"
    fi
fi

if docker image inspect "$IMAGE" >/dev/null 2>&1; then
    if out=$(timeout 120 docker run --rm --network none --gpus all "$IMAGE" \
             sh -c 'ls /dev/nvidia*' 2>&1); then
        pass "docker run --gpus all: $(echo "$out" | tr '\n' ' ')"
    else
        fail "docker run --gpus all: $(echo "$out" | head -2 | tr '\n' ' ')"
    fi
fi

if out=$(timeout 180 "$PY" - "$IMAGE" <<'PY' 2>&1
import sys
import docker
from lai_platform.runner.gpu_probe import probe_gpu
ok, why = probe_gpu(docker.from_env(timeout=120), sys.argv[1])
print(why)
sys.exit(0 if ok else 1)
PY
); then pass "worker probe: $out"; else fail "worker probe: $out"; fi

docker image rm "$IMAGE" >/dev/null 2>&1 || true
if [ "$failed" = 0 ]; then
    echo "RESULT: GPU OK: a worker here serves -Q gpu"
else
    echo "RESULT: no GPU for containers here: a worker here refuses -Q gpu (see FAIL lines)"
fi
exit "$failed"
