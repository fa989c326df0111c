#!/usr/bin/env bash
# The test command's suites after the build, on both cores: the library's jest suites in the background (they use
# both cores, but wait on cfn-guard and PostgreSQL a good part of the time), and beside them, one after the other,
# the checks that are mostly single-threaded or waiting on npm: eslint, the integ snapshots, the package, the two
# consumer checks and the sample app. Each keeps its own report in test-reports/; jest's output is printed at the end.
# Fails if any of them fails. Coverage is not collected here (npx projen test -- --coverage, or npx jest, collects it).
set -uo pipefail
cd "$(dirname "$0")/.."

mkdir -p test-reports
jest_log="test-reports/jest.log"
npx jest --json --outputFile=test-reports/jest-results.json --ci --coverage=false "$@" > "$jest_log" 2>&1 &
jest_pid=$!

status=0
step() {
  echo "::: $*"
  "$@" || { echo "::: FAILED: $*" >&2; return 1; }
}
# Two chains beside jest: the checks of the sources, and the package with what consumes it. Each chain's output goes
# to its own log, printed when it ends.
checks() {
  # ts-jest only transpiles: the types of the tests and everything they import are checked here, once.
  step npx tsc --noEmit -p test/tsconfig.json &&
    step bash scripts/sample-install.sh wait &&
    step npx projen eslint &&
    step npx projen integ:verify
}
consumers() {
  step npx projen package:js &&
    step node scripts/check-package.js test-reports/package.json &&
    step bash scripts/consumers.sh &&
    step bash scripts/sample-install.sh wait &&
    (cd sample-app && step npm test)
}
checks > test-reports/checks.log 2>&1 &
checks_pid=$!
consumers > test-reports/consumers.log 2>&1 &
consumers_pid=$!

wait "$checks_pid" || status=1
echo "::: sources: tsc, eslint, integ snapshots"
cat test-reports/checks.log
wait "$consumers_pid" || status=1
echo "::: package, consumer checks, sample app"
cat test-reports/consumers.log
wait "$jest_pid" || { echo "::: FAILED: jest" >&2; status=1; }
echo "::: jest (library suites)"
cat "$jest_log"
exit "$status"
