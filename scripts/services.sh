#!/usr/bin/env bash
# Starts the local services on loopback: Docker Engine (no bridge, no iptables: containers
# run with --network none anyway), PostgreSQL and Redis. Idempotent.
set -euo pipefail

if ! docker info >/dev/null 2>&1; then
  echo "starting dockerd"
  nohup dockerd --bridge=none --iptables=false --ip6tables=false >/var/log/lai-dockerd.log 2>&1 &
  for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || { echo "dockerd did not start; see /var/log/lai-dockerd.log" >&2; exit 1; }
fi

if ! pg_isready -q -h 127.0.0.1 2>/dev/null; then
  echo "starting PostgreSQL"
  cluster=$(pg_lsclusters -h | awk 'NR==1 {print $1" "$2}')
  # shellcheck disable=SC2086
  pg_ctlcluster $cluster start
  for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 && break; sleep 1; done
fi
# A role and database for the tests (password auth on loopback).
su postgres -c "psql -tAc \"SELECT 1 FROM pg_roles WHERE rolname='lai'\"" | grep -q 1 || \
  su postgres -c "psql -q -c \"CREATE ROLE lai LOGIN SUPERUSER PASSWORD 'lai'\""

if ! redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then
  echo "starting Redis"
  redis-server --bind 127.0.0.1 --port 6379 --daemonize yes --save '' --appendonly no >/dev/null
  for _ in $(seq 30); do redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && break; sleep 0.5; done
fi
