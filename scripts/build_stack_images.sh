#!/usr/bin/env bash
# Builds the images of compose.local.yml without any registry, from the debootstrap base
# (scripts/build_base_image.sh): the platform's dependencies, the platform itself, and one
# image with PostgreSQL, Redis (Debian's packages) and moto's S3 server.
# Cached: an image is rebuilt only when it is missing or what it is built from changed (a
# hash of its inputs is kept in a label), so a second run takes a second; each build prints
# how long it took. apt reaches its mirror through the host (`--network host`); Python
# packages come as wheels made by the host's pip (its index, proxy and certificates), so no
# build talks to PyPI itself.
set -euo pipefail
cd "$(dirname "$0")/.."

BASE="${LAI_BASE_IMAGE:-lai-base-python:bookworm}"
DEPS=lai-platform-deps:local
PLATFORM=lai-platform:local
SERVICES=lai-stack-services:local

docker image inspect "$BASE" >/dev/null 2>&1 || bash scripts/build_base_image.sh
work=$(mktemp -d /var/tmp/lai-stack-build.XXXXXX)
trap 'rm -rf "$work"' EXIT

# A hash of the named files' paths and contents (folders walked, generated data skipped).
inputs_hash() {
  find "$@" -type f ! -path '*/__pycache__/*' ! -name '*.pyc' ! -path 'examples/*/data/*' \
    -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16
}

current() {  # IMAGE HASH: the image exists and was built from these inputs
  [ "$(docker image inspect -f '{{index .Config.Labels "lai.inputs"}}' "$1" 2>/dev/null)" = "$2" ]
}

# build IMAGE DOCKERFILE HASH CONTEXT [build args...]
build() {
  local image=$1 dockerfile=$2 hash=$3 context=$4 started=$SECONDS
  shift 4
  # The legacy builder: --network host needs no BuildKit, and no bridge network is made.
  if ! DOCKER_BUILDKIT=0 docker build --network host -f "$dockerfile" -t "$image" \
      --label "lai.inputs=$hash" "$@" "$context" >"$work/log" 2>&1; then
    tail -n 40 "$work/log" >&2
    echo "building $image failed" >&2
    exit 1
  fi
  echo "built $image in $((SECONDS - started)) s"
}

# wheels_context NAME REQUIREMENT...: a build folder with requirements.txt and its wheels,
# including those only the image's (older) Python needs (stack/target_requirements.py).
wheels_context() {
  local name=$1 dir="$work/$1" started=$SECONDS
  shift
  mkdir -p "$dir"
  printf '%s\n' "$@" >"$dir/requirements.txt"
  local target_python
  target_python=$(docker run --rm --network none "$BASE" python3 -c \
    'import platform; print(platform.python_version())')
  .venv/bin/python stack/target_requirements.py "$target_python" "$@" >"$dir/extra.txt"
  if ! .venv/bin/pip wheel -q -w "$dir/wheels" -r "$dir/requirements.txt" -r "$dir/extra.txt" \
      >"$work/log" 2>&1; then
    tail -n 40 "$work/log" >&2
    exit 1
  fi
  echo "wheels for $name in $((SECONDS - started)) s" >&2
  echo "$dir"
}

project() {  # the dependency lists of pyproject.toml, one a line
  .venv/bin/python -c "import tomllib, sys
p = tomllib.load(open('pyproject.toml', 'rb'))['project']
print('\n'.join(p['dependencies'] if sys.argv[1] == 'runtime' else
      [d for d in p['optional-dependencies']['test'] if d.startswith('moto')]))" "$1"
}

base_id=$(docker image inspect -f '{{.Id}}' "$BASE")

# Keyed by the dependency lists, not the whole pyproject.toml: a new marker or tool setting
# rebuilds nothing.
# Debian's Python 3.11.2 predates tarfile's extraction filters: stack/tarfile_filters.py
# loads them from this backport.
BACKPORT="backports.tarfile==1.2.0"
hash=$( (echo "$base_id $BACKPORT"; project runtime
  inputs_hash stack/platform-deps.Dockerfile stack/tarfile_filters.py) | sha256sum | cut -c1-16)
if current "$DEPS" "$hash"; then echo "$DEPS up to date"; else
  mapfile -t requirements < <(project runtime)
  context=$(wheels_context deps "${requirements[@]}" "$BACKPORT")
  cp stack/tarfile_filters.py "$context/tarfile_filters.py"
  build "$DEPS" stack/platform-deps.Dockerfile "$hash" "$context"
fi

hash=$( (echo "$base_id"; project moto; inputs_hash stack/services.Dockerfile stack/postgres.sh) | sha256sum | cut -c1-16)
if current "$SERVICES" "$hash"; then echo "$SERVICES up to date"; else
  context=$(wheels_context services "$(project moto)")
  cp stack/postgres.sh "$context/postgres.sh"
  build "$SERVICES" stack/services.Dockerfile "$hash" "$context"
fi

# The platform layer follows the working tree: a source change rebuilds it in seconds.
hash=$( (docker image inspect -f '{{.Id}}' "$DEPS"; inputs_hash pyproject.toml README.md app.py \
  gunicorn.conf.py lai_platform evaluator examples stack/platform.Dockerfile) | sha256sum | cut -c1-16)
if current "$PLATFORM" "$hash"; then echo "$PLATFORM up to date"; else
  build "$PLATFORM" stack/platform.Dockerfile "$hash" . --build-arg "DEPS_IMAGE=$DEPS"
fi
