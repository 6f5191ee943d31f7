#!/usr/bin/env bash
# Validates docker-compose.yml without a Docker engine: `config -q` parses the
# file, interpolates variables and checks it against the Compose schema.
#
# Runs every Compose it finds: Docker Compose v2 (`docker compose`) and the
# stand-alone `docker-compose` (Debian bookworm ships 1.29.2: apt-get install -y
# docker-compose). The file is kept to what both accept.
#
# Then it asserts the network layout on the resolved file (deploy/check-compose-networks.js):
# PostgreSQL, Redis and MinIO publish no ports and join only internal networks, and only
# the CDN and the API publish ports.
#
# Usage: deploy/check-compose.sh      (exit 0 = valid for every Compose found)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
file="$root/docker-compose.yml"
cd "$root"

# Files the stack bind-mounts: a typo here would only show at `up`.
for f in deploy/nginx/cdn.conf deploy/nginx/s3-uploads.conf deploy/minio/init.sh deploy/minio/anonymous-read-policy.json Dockerfile; do
  if [ ! -f "$f" ]; then
    echo "check-compose.sh: $f is missing (docker-compose.yml uses it)" >&2
    exit 1
  fi
done

ran=0
check() {
  local label="$1"
  shift
  if "$@" -f "$file" config -q; then
    echo "check-compose.sh: docker-compose.yml OK with $label"
    ran=$((ran + 1))
  else
    echo "check-compose.sh: docker-compose.yml INVALID for $label" >&2
    exit 1
  fi
  if ! "$@" -f "$file" config | node "$root/deploy/check-compose-networks.js"; then
    echo "check-compose.sh: docker-compose.yml network layout WRONG for $label" >&2
    exit 1
  fi
}

if command -v docker >/dev/null 2>&1 && docker compose version >/dev/null 2>&1; then
  check "$(docker compose version 2>/dev/null | head -n1)" docker compose
fi
if command -v docker-compose >/dev/null 2>&1; then
  check "$(docker-compose version --short 2>/dev/null | sed 's/^/docker-compose /')" docker-compose
fi

if [ "$ran" -eq 0 ]; then
  echo "check-compose.sh: docker-compose is not installed, so docker-compose.yml was not validated." >&2
  echo "  Install one of: Docker Compose v2 (the 'docker compose' plugin), or on Debian/Ubuntu: apt-get install -y docker-compose" >&2
  exit 1
fi
