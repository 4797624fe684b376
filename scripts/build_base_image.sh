#!/usr/bin/env bash
# Builds the Python base image for the baseline and test containers without any container
# registry: debootstrap a minimal Debian root file system and `docker import` it.
# Cached: does nothing when the image already exists (pass --force to rebuild).
set -euo pipefail

IMAGE="${LAI_BASE_IMAGE:-lai-base-python:bookworm}"
PACKAGES="python3,python3-numpy,python3-scipy,python3-sklearn,python3-nibabel"

if [ "${1:-}" != "--force" ] && docker image inspect "$IMAGE" >/dev/null 2>&1; then
  echo "base image $IMAGE already present"
  exit 0
fi

# Use the Debian mirror this machine's apt is already configured with.
mirror=$(grep -hE '^\s*URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null \
  | awk '{print $2}' | grep -v security | head -n1 || true)
if [ -z "$mirror" ]; then
  mirror=$(grep -hE '^\s*deb\s' /etc/apt/sources.list 2>/dev/null | awk '{print $2}' | head -n1 || true)
fi
[ -n "$mirror" ] || { echo "no Debian mirror found in apt's sources" >&2; exit 1; }

command -v debootstrap >/dev/null || apt-get install -y -qq debootstrap >/dev/null

root=$(mktemp -d /var/tmp/lai-rootfs.XXXXXX)
trap 'rm -rf "$root"' EXIT
echo "debootstrapping $IMAGE (a few minutes)..."
debootstrap --variant=minbase --include="$PACKAGES" bookworm "$root" "$mirror" >/dev/null
# Trim what a container never needs.
# Compilers and headers come in through scipy's build-time helpers (pythran): a container
# only runs Python, so drop them (about 350 MB).
rm -rf "$root"/var/cache/apt/* "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* \
  "$root"/usr/share/man/* "$root"/usr/share/locale/* "$root"/usr/include "$root"/usr/lib/gcc \
  "$root"/usr/libexec/gcc "$root"/usr/lib/python3/dist-packages/pythran
find "$root"/usr/lib -name '*.a' -delete
rm -f "$root"/usr/lib/x86_64-linux-gnu/lib{asan,tsan,lsan,ubsan,hwasan}.so*
tar -C "$root" -c . | docker import \
  --change 'ENV PYTHONDONTWRITEBYTECODE=1' \
  --change 'CMD ["/usr/bin/python3"]' - "$IMAGE" >/dev/null
echo "built $IMAGE"
