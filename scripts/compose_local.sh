#!/usr/bin/env bash
# docker-compose on this machine: docker-compose.yml merged with compose.local.yml, then run.
#   LAI_SECRET_KEY=... bash scripts/compose_local.sh [-p PROJECT] up -d
# One step between the two: with host networking Docker refuses published ports
# ("host" network_mode is incompatible with port_bindings), and compose v1 cannot remove a
# list entry in an override, so the merged file (`docker-compose config`) loses its `ports`
# (the web binds LAI_BIND on loopback directly). Everything else is the production file.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
merged=$(mktemp /tmp/lai-compose.XXXXXX.yml)
trap 'rm -f "$merged"' EXIT
docker-compose -f "$root/docker-compose.yml" -f "$root/compose.local.yml" config \
  | "$root/.venv/bin/python" -c '
import sys, yaml
config = yaml.safe_load(sys.stdin)
for service in config["services"].values():
    if service.get("network_mode") == "host":
        service.pop("ports", None)
yaml.safe_dump(config, sys.stdout, sort_keys=False)' >"$merged"
docker-compose -f "$merged" --project-directory "$root" "$@"
