import { CfnResource } from 'aws-cdk-lib';
import { byPack, checkStack, CONTROL_TOWER, OWN_RULES, PackResult } from '../../tools/policy-harness';
import { scenario } from '../../tools/policy-scenarios';

// The policy gate of the scenarios with a migration gate and a canary, and the gate's failures on tampered stacks:
// apart from packs.test.ts so the two run on both cores.
const unacknowledged = (r: PackResult) => [...r.errors, ...r.warnings];

describe('policy gate, prod with the migration gate and with a canary rollout', () => {
  const results: Record<string, Record<string, PackResult>> = {};
  beforeAll(() => {
    for (const name of ['prod-https-gate', 'prod-https-canary'] as const) {
      results[name] = byPack(checkStack(scenario(name).stack));
    }
  });

  test.each(['prod-https-gate', 'prod-https-canary'])(
    '%s: AwsSolutions has no unacknowledged error or warning',
    (name) => {
      expect(unacknowledged(results[name].AwsSolutions)).toEqual([]);
      expect(results[name].AwsSolutions.acknowledged.length).toBeGreaterThan(0);
    },
  );

  test.each([
    ['prod-https-gate', 'NIST.800.53.R5'],
    ['prod-https-gate', 'HIPAA.Security'],
    ['prod-https-gate', 'PCI.DSS.321'],
    ['prod-https-canary', 'NIST.800.53.R5'],
    ['prod-https-canary', 'HIPAA.Security'],
    ['prod-https-canary', 'PCI.DSS.321'],
  ])('%s: %s has no unacknowledged error', (name, pack) => {
    expect(results[name][pack].errors).toEqual([]);
  });

  test.each(['prod-https-gate', 'prod-https-canary'])(
    '%s: the Control Tower guard rules have no unacknowledged violation',
    (name) => {
      expect(results[name][CONTROL_TOWER].errors).toEqual([]);
    },
  );

  test.each(['prod-https-gate', 'prod-https-canary'])('%s: the library guard rules all pass', (name) => {
    expect(results[name][OWN_RULES].errors).toEqual([]);
  });
});

describe('the gate fails when a safe default is turned off', () => {
  test('prod without deletion protection fails the compliance packs and the library rule', () => {
    const s = scenario('prod-https', { database: { deletionProtection: false } });
    const results = byPack(checkStack(s.stack, { controlTower: false, nagPacks: ['NIST.800.53.R5'] }));
    expect(results['NIST.800.53.R5'].errors).toContainEqual({
      rule: 'NIST.800.53.R5-RDSInstanceDeletionProtectionEnabled',
      resource: 'Policy-prod-https/Api/Database/Resource',
    });
    expect(results[OWN_RULES].errors.map((f) => f.rule)).toContain('rds_deletion_protection_in_prod');
  });

  test('a password in plain environment and unencrypted storage (through escape hatches) fail the library rules', () => {
    const s = scenario('dev');
    const taskDef = s.construct.taskDefinition.node.defaultChild as CfnResource;
    taskDef.addPropertyOverride('ContainerDefinitions.0.Environment', [{ Name: 'DB_PASSWORD', Value: 'hunter2' }]);
    (s.construct.database!.node.defaultChild as CfnResource).addPropertyOverride('StorageEncrypted', false);
    const results = byPack(checkStack(s.stack, { controlTower: false, nagPacks: [] }));
    // The guard rules read the final template, so escape-hatch overrides cannot slip past them.
    expect(results[OWN_RULES].errors.map((f) => f.rule).sort()).toEqual([
      'ecs_no_plaintext_secrets',
      'rds_storage_encrypted',
    ]);
  });
});
