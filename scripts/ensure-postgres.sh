#!/usr/bin/env bash
# Makes sure the PostgreSQL the sample app's tests use answers on 127.0.0.1:5432. Starts the local cluster when it
# is installed but down; fails with a clear message when there is none.
set -euo pipefail

HOST="${PGHOST:-127.0.0.1}"
PORT="${PGPORT:-5432}"

ready() { pg_isready -q -h "$HOST" -p "$PORT" 2>/dev/null; }

if ! command -v pg_isready >/dev/null 2>&1; then
  echo "ensure-postgres: pg_isready not found; install PostgreSQL (apt-get install postgresql) or set TEST_PG_URL" >&2
  exit 1
fi
if ready; then
  echo "ensure-postgres: PostgreSQL answers on $HOST:$PORT"
  exit 0
fi
if command -v pg_lsclusters >/dev/null 2>&1; then
  pg_lsclusters --no-header | while read -r version cluster _; do
    echo "ensure-postgres: starting cluster $version/$cluster"
    pg_ctlcluster --skip-systemctl-redirect "$version" "$cluster" start || true
  done
fi
for _ in $(seq 1 30); do
  if ready; then
    echo "ensure-postgres: PostgreSQL answers on $HOST:$PORT"
    exit 0
  fi
  sleep 1
done
echo "ensure-postgres: PostgreSQL does not answer on $HOST:$PORT" >&2
exit 1
