import { DatabaseEngine, RdsProxy } from '../../src';
import { byPack, checkStack, CONTROL_TOWER, OWN_RULES, PackResult } from '../../tools/policy-harness';
import { scenario } from '../../tools/policy-scenarios';

/** The policy gate with Aurora PostgreSQL (`database.engine`): the cluster must be as clean as the instance. */
const unacknowledged = (r: PackResult) => [...r.errors, ...r.warnings];

describe('policy gate with Aurora', () => {
  const results: Record<string, Record<string, PackResult>> = {};
  beforeAll(() => {
    results['dev-serverless'] = byPack(checkStack(scenario('dev-aurora').stack, { controlTower: true }));
    results['prod-https-provisioned-proxy'] = byPack(
      checkStack(
        scenario('prod-https', {
          database: { engine: DatabaseEngine.auroraProvisioned(), proxy: RdsProxy.iamAuthenticated() },
        }).stack,
        { controlTower: true },
      ),
    );
  });

  test.each(['dev-serverless', 'prod-https-provisioned-proxy'])(
    '%s: AwsSolutions has no unacknowledged error or warning',
    (name) => {
      expect(unacknowledged(results[name].AwsSolutions)).toEqual([]);
    },
  );

  test.each(['NIST.800.53.R5', 'HIPAA.Security', 'PCI.DSS.321'])(
    'prod-https-provisioned-proxy: %s has no unacknowledged error',
    (pack) => {
      expect(results['prod-https-provisioned-proxy'][pack].errors).toEqual([]);
    },
  );

  test.each(['dev-serverless', 'prod-https-provisioned-proxy'])(
    '%s: Control Tower guard rules and the library rules pass',
    (name) => {
      expect(results[name][CONTROL_TOWER].errors).toEqual([]);
      expect(results[name][OWN_RULES].errors).toEqual([]);
    },
  );
});
