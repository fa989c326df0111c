#!/usr/bin/env bash
# Synthesizes sample-app/infra the way a user would: in a fresh folder, with the packed library tarball (the build's
# `npm pack` output) and the given aws-cdk-lib, without AWS credentials or a Docker engine. Then checks the
# templates and prints a summary per stack.
#
# usage: scripts/consumer-synth.sh <aws-cdk-lib version or range> [report-name] [--summary]
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
version="${1:?usage: consumer-synth.sh <aws-cdk-lib version> [report-name] [--summary]}"
report="${2:-consumer}"
summary="${3:-}"

tarball="$(ls "$root"/dist/js/*.jsii.tgz 2>/dev/null | head -1 || true)"
if [ -z "$tarball" ]; then
  echo "consumer-synth: no packed library in dist/js; run 'npx projen compile && npx projen package:js' first" >&2
  exit 1
fi

work="$(mktemp -d)/consumer"
mkdir -p "$work"
trap '[ -n "${KEEP_CONSUMER:-}" ] || rm -rf "$(dirname "$work")"' EXIT
cp -r "$root/sample-app/infra/bin" "$root/sample-app/infra/tsconfig.json" "$work/"
echo '{ "name": "consumer", "private": true }' > "$work/package.json"

echo "consumer-synth: installing aws-cdk-lib@$version and $(basename "$tarball") into a fresh app (about a minute)"
(cd "$work" && npm install --no-audit --no-fund --loglevel=error \
  "aws-cdk-lib@$version" "constructs@^10.5.1" "$tarball" "cdk-nag@2.38.2" \
  "ts-node@10.9.2" "typescript@5.9.2" "@types/node@20.19.11" "@cdklabs/cdk-validator-cfnguard@0.0.62" >/dev/null)
installed="$(node -p "require('$work/node_modules/aws-cdk-lib/package.json').version")"

echo "consumer-synth: synthesizing UsersApi-dev and UsersApi-prod with aws-cdk-lib $installed and the cdk-nag packs (about 30 seconds)"
started=$(date +%s%N)
(cd "$work" && env -u AWS_PROFILE AWS_ACCESS_KEY_ID= AWS_SECRET_ACCESS_KEY= \
  SAMPLE_APP_DIR="$root/sample-app" CDK_OUTDIR="$work/cdk.out" \
  CDK_CONTEXT_JSON='{"profile":"all","nag":"true","tls":"upstream"}' \
  TS_NODE_TRANSPILE_ONLY="${CONSUMER_TRANSPILE_ONLY:-false}" npx ts-node --prefer-ts-exts bin/app.ts)
elapsed=$(( ($(date +%s%N) - started) / 1000000 ))

# The database choices, without the cdk-nag aspects (the library's policy tests run the packs on them): prod with RDS
# Proxy in front of the instance, prod on Aurora provisioned (a reader) behind the proxy, and dev on Aurora
# Serverless v2 (scale to zero). Their templates go through the checks and cfn-guard below.
variant() {
  local name="$1" context="$2"
  echo "consumer-synth: synthesizing $name with aws-cdk-lib $installed"
  (cd "$work" && env -u AWS_PROFILE AWS_ACCESS_KEY_ID= AWS_SECRET_ACCESS_KEY= \
    SAMPLE_APP_DIR="$root/sample-app" CDK_OUTDIR="$work/cdk.out.$name" CDK_CONTEXT_JSON="$context" \
    TS_NODE_TRANSPILE_ONLY="${CONSUMER_TRANSPILE_ONLY:-false}" npx ts-node --prefer-ts-exts bin/app.ts)
  cp "$work/cdk.out.$name/$name.template.json" "$work/cdk.out/"
}
variant UsersApi-prod-proxy '{"profile":"prod","tls":"upstream","databaseProxy":"true"}'
variant UsersApi-prod-aurora-provisioned-proxy '{"profile":"prod","tls":"upstream","databaseEngine":"aurora-provisioned","databaseProxy":"true"}'
variant UsersApi-dev-aurora-serverless '{"profile":"dev","databaseEngine":"aurora-serverless"}'

# cfn-guard as a consumer runs it: the package's runner, the Control Tower rules from the consumer's own
# @cdklabs/cdk-validator-cfnguard, the construct's acknowledgements honoured. consumer-check.js reads the results.
# CONSUMER_GUARD=skip skips it; both consumer checks run it (a few seconds of cfn-guard a template: only the Control
# Tower rule files that can apply).
for stack in UsersApi-dev UsersApi-prod UsersApi-prod-proxy UsersApi-prod-aurora-provisioned-proxy UsersApi-dev-aurora-serverless; do
  [ "${CONSUMER_GUARD:-run}" = "skip" ] && continue
  set +e
  (cd "$work" && npx --no-install fwsd-guard-check "cdk.out/$stack.template.json") > "$work/cdk.out/$stack.guard.txt" 2>&1
  echo $? > "$work/cdk.out/$stack.guard.status"
  set -e
done

mkdir -p "$root/test-reports"
node "$root/scripts/consumer-check.js" "$work/cdk.out" "$installed" "$root/test-reports/$report.json" "$elapsed" $summary
if [ "$summary" = "--summary" ]; then
  echo
  echo "consumer-synth: the monthly cost and the rollout timings, from the templates"
  (cd "$root" && npx ts-node --project scripts/tsconfig.json scripts/readouts.ts "$work/cdk.out/UsersApi-dev.template.json" "$work/cdk.out/UsersApi-prod.template.json" "$work/cdk.out/UsersApi-prod-proxy.template.json" \
    "$work/cdk.out/UsersApi-prod-aurora-provisioned-proxy.template.json" "$work/cdk.out/UsersApi-dev-aurora-serverless.template.json")
  rm -rf "$root/demo.out" && mkdir -p "$root/demo.out" && cp -r "$work/cdk.out" "$root/demo.out/cdk.out"
  echo
  echo "The synthesized templates, cdk-nag reports (*-NagReport.csv) and assets are in demo.out/cdk.out/ (git-ignored)."
  echo "The scratch app they came from is deleted at exit; KEEP_CONSUMER=1 npm run demo keeps it and prints its path."
fi
if [ -n "${KEEP_CONSUMER:-}" ]; then echo "consumer-synth: the scratch app is kept in $work"; fi
