import { DatabaseEngine, RdsProxy } from '../../src';
import { byPack, checkStack, CONTROL_TOWER, OWN_RULES, PackResult } from '../../tools/policy-harness';
import { scenario } from '../../tools/policy-scenarios';

/**
 * The policy gate on the database choices (`database.proxy`, `database.engine`): RDS Proxy in front of the instance
 * and Aurora (dev serverless, prod provisioned behind the proxy) must be as clean as the default instance.
 */
const unacknowledged = (r: PackResult) => [...r.errors, ...r.warnings];

const CHOICES = {
  'dev, proxy': () => scenario('dev', { database: { proxy: RdsProxy.iamAuthenticated() } }),
  'prod-https, proxy': () => scenario('prod-https-proxy'),
  'dev, Aurora Serverless': () => scenario('dev-aurora'),
  'prod-https, Aurora provisioned behind the proxy': () =>
    scenario('prod-https', {
      database: { engine: DatabaseEngine.auroraProvisioned(), proxy: RdsProxy.iamAuthenticated() },
    }),
};
type Choice = keyof typeof CHOICES;
const NAMES = Object.keys(CHOICES) as Choice[];
const PROD = NAMES.filter((n) => n.startsWith('prod'));

const results = {} as Record<Choice, Record<string, PackResult>>;
beforeAll(() => {
  for (const name of NAMES) results[name] = byPack(checkStack(CHOICES[name]().stack, { controlTower: true }));
});

test.each(NAMES)('%s: AwsSolutions has no unacknowledged error or warning', (name) => {
  expect(unacknowledged(results[name].AwsSolutions)).toEqual([]);
});

test.each(PROD.flatMap((name) => ['NIST.800.53.R5', 'HIPAA.Security', 'PCI.DSS.321'].map((pack) => [name, pack])))(
  '%s: %s has no unacknowledged error',
  (name, pack) => {
    expect(results[name as Choice][pack].errors).toEqual([]);
  },
);

test.each(NAMES)('%s: the Control Tower guard rules and the library rules pass', (name) => {
  expect(results[name][CONTROL_TOWER].errors).toEqual([]);
  expect(results[name][OWN_RULES].errors).toEqual([]);
});
