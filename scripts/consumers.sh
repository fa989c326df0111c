#!/usr/bin/env bash
# Runs the two consumer checks, the projen tasks consumer:floor (aws-cdk-lib 2.257.0) and consumer:latest (newest
# 2.x), side by side: each is mostly an npm install and a synthesis, so together they take little more than one.
# Prints each one's output in turn; fails if either fails. Both run cfn-guard (fwsd-guard-check) over their templates;
# the floor consumer also type-checks the sample infra against the packed library, the latest one only transpiles it
# (same source), to save the machine's two cores.
set -uo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
logs="$(mktemp -d)"
trap 'rm -rf "$logs"' EXIT

(cd "$root" && npx projen consumer:floor) > "$logs/floor.log" 2>&1 &
floor=$!
(cd "$root" && CONSUMER_TRANSPILE_ONLY=true npx projen consumer:latest) > "$logs/latest.log" 2>&1 &
latest=$!

status=0
wait "$floor" || status=1
echo "== consumer:floor"
cat "$logs/floor.log"
wait "$latest" || status=1
echo "== consumer:latest"
cat "$logs/latest.log"
exit "$status"
