#!/usr/bin/env bash
# Installs and starts whatever this machine lacks for the demo and the tests:
# Debian packages (Docker Engine, docker-compose, PostgreSQL, Redis, Chromium, debootstrap,
# busybox), the Python virtual environment, the running services and the container images
# (the base, and the compose stack's).
# Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v dockerd >/dev/null || need+=(docker.io)
command -v debootstrap >/dev/null || need+=(debootstrap)
dpkg -s busybox-static >/dev/null 2>&1 || need+=(busybox-static)  # test images: FROM scratch
command -v pg_ctlcluster >/dev/null || need+=(postgresql)
command -v redis-server >/dev/null || need+=(redis-server)
command -v chromium >/dev/null || need+=(chromium)
command -v wrk >/dev/null || need+=(wrk)  # bench/load.py: HTTP load on loopback
command -v docker-compose >/dev/null || need+=(docker-compose)  # tests/deploy: the stack
if [ ${#need[@]} -gt 0 ]; then
  echo "installing Debian packages: ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -f "$stamp" ]; then
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -e '.[test]'
  touch "$stamp"
fi

bash scripts/services.sh
bash scripts/build_base_image.sh
bash scripts/build_stack_images.sh  # compose.local.yml's images (cached)
