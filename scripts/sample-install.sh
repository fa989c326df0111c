#!/usr/bin/env bash
# The sample app's `npm ci`, in the background while the library compiles (the test command starts it first; eslint
# and the sample app's tests wait for it).
#   sample-install.sh start   starts it; its output and exit status go to test-reports/sample-install/
#   sample-install.sh wait    waits for it (runs it now when it was never started); fails with its log if it failed
set -uo pipefail
cd "$(dirname "$0")/.."
dir=test-reports/sample-install

run() { (cd sample-app && npm ci --no-audit --no-fund) > "$dir/log" 2>&1; echo $? > "$dir/status.tmp" && mv "$dir/status.tmp" "$dir/status"; }

case "${1:-}" in
  start)
    rm -rf "$dir" && mkdir -p "$dir"
    (run) < /dev/null > /dev/null 2>&1 &
    echo "sample-install: npm ci of sample-app started in the background"
    ;;
  wait)
    if [ ! -d "$dir" ]; then mkdir -p "$dir" && run; fi
    while [ ! -f "$dir/status" ]; do sleep 1; done
    status="$(cat "$dir/status")"
    if [ "$status" != 0 ]; then
      cat "$dir/log"
      echo "sample-install: npm ci of sample-app failed (exit $status)" >&2
      exit 1
    fi
    ;;
  *)
    echo "usage: sample-install.sh start|wait" >&2
    exit 2
    ;;
esac
