#!/usr/bin/env bash
# The integration tests in integ/ (integ-runner 2.197.x, TypeScript).
#   verify  synthesize each test and compare it with its committed snapshot, offline (CHANGED fails with a diff)
#   update  rewrite every snapshot offline (--dry-run: never deploys)
#   deploy  deploy each test to the account in your credentials, run its assertions, destroy it (needs AWS and Docker)
set -euo pipefail
cd "$(dirname "$0")/.."
export TS_NODE_PROJECT=integ/tsconfig.json TS_NODE_TRANSPILE_ONLY=true
runner=(npx integ-runner --directory integ --language typescript)

case "${1:-}" in
  verify)
    mkdir -p test-reports
    set +e
    "${runner[@]}" 2>&1 | tee test-reports/integ.log
    code=${PIPESTATUS[0]}
    set -e
    passed=$(grep -oE 'Tests: +([0-9]+) passed' test-reports/integ.log | grep -oE '[0-9]+' | tail -1 || true)
    total=$(grep -oE '([0-9]+) total' test-reports/integ.log | grep -oE '[0-9]+' | tail -1 || true)
    passed=${passed:-0}
    total=${total:-0}
    failed=$(( total - passed ))
    if [ "$code" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
    echo "{\"numPassedTests\": $passed, \"numFailedTests\": $failed, \"numTotalTestSuites\": $total}" > test-reports/integ.json
    exit "$code"
    ;;
  update)
    # --force rewrites every snapshot: the verify run ignores asset hashes, so an app change alone would leave
    # stale hashes behind, and integ-runner fails an update run that finds nothing failed to update.
    "${runner[@]}" --update-on-failed --dry-run --force
    ;;
  deploy)
    "${runner[@]}" --update-on-failed --force "${@:2}"
    ;;
  *)
    echo "usage: scripts/integ.sh verify|update|deploy [integ-runner options]" >&2
    exit 2
    ;;
esac
