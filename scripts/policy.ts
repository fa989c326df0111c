/**
 * The policy gate as a report: synthesizes the construct in the dev profile, the prod profile, prod with HTTPS (alone,
 * with the migration gate, with the gate and a canary rollout),
 * runs the cdk-nag packs and the cfn-guard rules, and prints per profile: pack, errors, warnings, acknowledged.
 * Exits 1 when a goal is missed. The acknowledged findings are listed in docs/acknowledgements.md (`npx projen docs`).
 */
import { checkStack, CONTROL_TOWER, NAG_PACKS, OWN_RULES, PackResult } from '../tools/policy-harness';
import { scenario, SCENARIO_NAMES, ScenarioName } from '../tools/policy-scenarios';

/** Packs that must have zero unacknowledged errors (and, for AwsSolutions, warnings) in each scenario. */
const GOALS: Record<ScenarioName, string[]> = {
  dev: ['AwsSolutions', CONTROL_TOWER, OWN_RULES],
  prod: ['AwsSolutions', OWN_RULES],
  'prod-https': [...NAG_PACKS, CONTROL_TOWER, OWN_RULES],
  'prod-https-gate': [...NAG_PACKS, CONTROL_TOWER, OWN_RULES],
  'prod-https-canary': [...NAG_PACKS, CONTROL_TOWER, OWN_RULES],
};

function missed(name: ScenarioName, result: PackResult): boolean {
  if (!GOALS[name].includes(result.pack)) return false;
  return result.errors.length > 0 || (result.pack === 'AwsSolutions' && result.warnings.length > 0);
}

let failed = false;
for (const name of SCENARIO_NAMES) {
  const results = checkStack(scenario(name).stack);
  console.log(`\n${name}`);
  console.log(
    `  ${'pack'.padEnd(28)} ${'errors'.padStart(6)} ${'warnings'.padStart(8)} ${'acknowledged'.padStart(12)}  goal`,
  );
  for (const r of results) {
    const goal = GOALS[name].includes(r.pack) ? (missed(name, r) ? 'MISSED' : 'met') : '-';
    failed ||= goal === 'MISSED';
    console.log(
      `  ${r.pack.padEnd(28)} ${String(r.errors.length).padStart(6)} ${String(r.warnings.length).padStart(8)} ${String(r.acknowledged.length).padStart(12)}  ${goal}`,
    );
  }
  for (const r of results.filter((x) => missed(name, x))) {
    for (const f of [...r.errors, ...(r.pack === 'AwsSolutions' ? r.warnings : [])]) {
      console.log(`    ${r.pack}: ${f.rule} on ${f.resource}`);
    }
  }
}
console.log(failed ? '\npolicy gate: MISSED' : '\npolicy gate: every goal met');
process.exit(failed ? 1 : 0);
