/**
 * docs/acknowledgements.md: every policy finding the construct acknowledges, rendered from the acknowledgements the
 * construct records in the policy scenarios. Used by test/policy/packs.test.ts and scripts/docs.ts.
 */
import { scenario, SCENARIO_NAMES } from './policy-scenarios';

/** Every scenario but plain-HTTP prod, whose acknowledgements prod-https has too (it only lacks the certificate). */
const SCENARIOS = SCENARIO_NAMES.filter((name) => name !== 'prod');

export function renderAcknowledgementsDoc(): string {
  const rows = new Map<string, { scenarios: Set<string>; reason: string }>();
  for (const name of SCENARIOS) {
    for (const ack of scenario(name).construct.policyAcknowledgements) {
      const resource = ack.resourcePath.replace(/^Policy-[a-z-]+\//, '').replace(/\/Resource$/, '');
      const key = `| \`${ack.rule}\` | ${resource}${ack.appliesTo ? ` (${ack.appliesTo.join(', ')})` : ''} |`;
      const row = rows.get(key) ?? { scenarios: new Set<string>(), reason: ack.reason };
      row.scenarios.add(name);
      rows.set(key, row);
    }
  }
  const profileOf = (scenarios: Set<string>): string => {
    const aurora = [...scenarios].filter((n) => n.endsWith('-aurora'));
    const base = new Set([...scenarios].filter((n) => !n.endsWith('-aurora')));
    if (base.size === 0) {
      const which = aurora.length > 1 ? 'both' : aurora[0].startsWith('dev') ? 'dev' : 'prod';
      return `with Aurora (\`database.engine\`), ${which}`;
    }
    return base.has('dev')
      ? base.size > 1
        ? 'both'
        : 'dev'
      : base.has('prod-https')
        ? 'prod'
        : base.has('prod-https-gate')
          ? 'with `migrations`'
          : base.has('prod-https-proxy')
            ? 'with `database.proxy`'
            : 'with a traffic-shifting `rolloutStrategy`';
  };
  const lines = [
    '# Policy acknowledgements',
    '',
    '<!-- Generated from the construct by `npx projen docs`; test/policy/packs.test.ts fails when it is stale. -->',
    '',
    'Each finding the construct acknowledges on purpose, attached as metadata to the one resource it concerns',
    '(`cdk_nag.rules_to_suppress` for cdk-nag, `guard.SuppressedRules` for cfn-guard), and only in the configuration',
    'where it applies. "profile" says where it appears: dev, prod (with HTTPS), both, only with the migration gate,',
    'only with a blue/green, canary or linear `service.rolloutStrategy`, only with RDS Proxy (`database.proxy`), or only',
    'with Aurora (`database.engine`).',
    '',
    '| rule | resource | profile | why |',
    '| --- | --- | --- | --- |',
  ];
  for (const [key, row] of rows) lines.push(`${key} ${profileOf(row.scenarios)} | ${row.reason} |`);
  return `${lines.join('\n')}\n`;
}
