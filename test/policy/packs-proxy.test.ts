import { RdsProxy } from '../../src';
import { byPack, checkStack, CONTROL_TOWER, OWN_RULES, PackResult } from '../../tools/policy-harness';
import { scenario } from '../../tools/policy-scenarios';

/** The policy gate with RDS Proxy in front (`database.proxy`): its resources must be as clean as the rest. */
const unacknowledged = (r: PackResult) => [...r.errors, ...r.warnings];

describe('policy gate with RdsProxy.iamAuthenticated()', () => {
  const results: Record<string, Record<string, PackResult>> = {};
  beforeAll(() => {
    results.dev = byPack(
      checkStack(scenario('dev', { database: { proxy: RdsProxy.iamAuthenticated() } }).stack, { controlTower: true }),
    );
    results['prod-https'] = byPack(checkStack(scenario('prod-https-proxy').stack, { controlTower: true }));
  });

  test.each(['dev', 'prod-https'])('%s: AwsSolutions has no unacknowledged error or warning', (name) => {
    expect(unacknowledged(results[name].AwsSolutions)).toEqual([]);
  });

  test.each([
    ['prod-https', 'NIST.800.53.R5'],
    ['prod-https', 'HIPAA.Security'],
    ['prod-https', 'PCI.DSS.321'],
  ])('%s: %s has no unacknowledged error', (name, pack) => {
    expect(results[name][pack].errors).toEqual([]);
  });

  test.each(['dev', 'prod-https'])('%s: Control Tower guard rules and the library rules pass', (name) => {
    expect(results[name][CONTROL_TOWER].errors).toEqual([]);
    expect(results[name][OWN_RULES].errors).toEqual([]);
  });
});
