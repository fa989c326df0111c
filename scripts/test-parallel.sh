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
  "$@" || { echo "::: FAILED: $*" >&2; status=1; }
}
# ts-jest only transpiles: the types of the tests and everything they import are checked here, once.
step npx tsc --noEmit -p test/tsconfig.json
step npx projen eslint
step npx projen integ:verify
step npx projen package:js
step node scripts/check-package.js test-reports/package.json
step bash scripts/consumers.sh
step bash scripts/ensure-postgres.sh
echo "::: sample-app: npm test"
(cd sample-app && npm test) || { echo "::: FAILED: sample-app npm test" >&2; status=1; }

wait "$jest_pid" || { echo "::: FAILED: jest" >&2; status=1; }
echo "::: jest (library suites)"
cat "$jest_log"
exit "$status"
