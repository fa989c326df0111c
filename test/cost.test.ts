import * as fs from 'fs';
import * as path from 'path';
import { Duration } from 'aws-cdk-lib';
import { CredentialRotation, DatabaseEngine, EnvironmentProfile, RdsProxy } from '../src';
import { defaultStack, synth } from './helpers';
import { estimateCost, formatEstimate } from '../tools/cost';

// Hand-computed from the price table (730 hours a month), for the default stacks of each profile.
const HOURS = 730;
const ALB = 0.0225 * HOURS + 0.008 * HOURS; // load balancer + 1 LCU
const IP = 0.005 * HOURS;

describe('cost readout', () => {
  test('dev: ALB, two ALB IPs, one task with a public IP, db.t4g.micro, 20 GB, two secrets (master, app), three keys, alarms', () => {
    const e = estimateCost(defaultStack(EnvironmentProfile.DEV).template.toJSON() as any);
    const task = (0.25 * 0.04048 + 0.5 * 0.004445) * HOURS;
    const essential = ALB + 2 * IP + task + IP + 0.016 * HOURS + 20 * 0.115 + 2 * 0.4;
    expect(e.essentialTotal).toBeCloseTo(essential, 1);
    // Alarm metrics: ten alarms on one metric, one on two, and the deployment alarms on two and one.
    expect(e.total).toBeCloseTo(essential + 3 /* KMS */ + (10 + 2 + 2 + 1) * 0.1 /* alarm metrics */, 1);
    expect(e.total).toBeCloseTo(61.51, 1);
    // The goal: dev within 10 % of the cheapest stack that can run the service at all.
    expect(e.total / e.essentialTotal).toBeLessThan(1.1);
  });

  test('prod: two NAT gateways and their IPs, two tasks, Multi-AZ db.m7g.large with 100 GB x 2, WAF, dashboard', () => {
    const e = estimateCost(defaultStack(EnvironmentProfile.PROD).template.toJSON() as any);
    const tasks = 2 * (0.5 * 0.04048 + 1 * 0.004445) * HOURS;
    const expected =
      ALB +
      2 * IP +
      2 * 0.045 * HOURS +
      2 * IP +
      tasks +
      2 * 0.168 * HOURS +
      2 * 100 * 0.115 +
      2 * 0.4 /* master and app secrets */ +
      3 +
      (5 + 4) +
      5 *
        0.1 /* rotation alarms: the two rotation functions' errors, the redeploy's errors and failed invocations, the failed deployments */ +
      1.5 +
      3;
    expect(e.total).toBeCloseTo(expected, 1);
    expect(e.total).toBeCloseTo(424.69, 1);
    expect(e.lines.map((l) => l.item)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/2 NAT gateway/),
        expect.stringMatching(/db\.m7g\.large, Multi-AZ/),
        expect.stringMatching(/web ACL, 4 rules/),
      ]),
    );
    expect(e.notEstimated).toEqual(
      expect.arrayContaining(['WAF requests', 'AWS Backup storage', 'Container Insights metrics']),
    );
  });

  test('dev says what turning rotation on would add, and that is what a dev stack with rotation costs more', () => {
    const off = estimateCost(defaultStack(EnvironmentProfile.DEV).template.toJSON() as any);
    const on = estimateCost(
      synth({ database: { rotation: CredentialRotation.every(Duration.days(30)) } }).template.toJSON() as any,
    );
    expect(off.rotationWouldAdd!.monthlyUsd).toBeCloseTo(0.01 * HOURS + 5 * 0.1, 2);
    expect(on.total - off.total).toBeCloseTo(off.rotationWouldAdd!.monthlyUsd, 2);
    expect(on.rotationWouldAdd).toBeUndefined();
    expect(formatEstimate('dev', off)).toMatch(
      /password rotation is off; turning it on \(database\.rotation\) adds \+7\.80 USD a month: a Secrets Manager interface endpoint in one AZ \(7\.30 USD\), 5 alarm metrics \(0\.50 USD\)/,
    );
    // Prod rotates by default: nothing to add.
    expect(
      estimateCost(defaultStack(EnvironmentProfile.PROD).template.toJSON() as any).rotationWouldAdd,
    ).toBeUndefined();
  });

  test('an instance class missing from the price table is reported, not guessed', () => {
    const e = estimateCost({
      Resources: {
        Db: {
          Type: 'AWS::RDS::DBInstance',
          Properties: { DBInstanceClass: 'db.x2g.16xlarge', AllocatedStorage: '20' },
        },
      },
    });
    expect(e.notEstimated).toContain('RDS instance class db.x2g.16xlarge (not in the price table)');
    expect(e.total).toBeCloseTo(2.3, 2);
  });

  test('the readout names the price date and the gap to the cheapest stack', () => {
    const text = formatEstimate(
      'UsersApi-dev',
      estimateCost(defaultStack(EnvironmentProfile.DEV).template.toJSON() as any),
    );
    expect(text).toMatch(/^UsersApi-dev: about 61\.5\d USD a month \(us-east-1 on-demand list prices of 2026-11-27\)/);
    expect(text).toMatch(/cheapest stack that can run the service .*: 57\.0\d USD; this stack: \+7\.\d %/);
  });

  test('RDS Proxy: 2 vCPUs of the instance at the proxy rate, its refused-logins alarm; one secret and four rotation alarm metrics less', () => {
    const plain = estimateCost(defaultStack(EnvironmentProfile.PROD).template.toJSON() as any);
    const proxied = estimateCost(
      synth({
        profile: EnvironmentProfile.PROD,
        database: { proxy: RdsProxy.iamAuthenticated() },
      }).template.toJSON() as any,
    );
    const proxyLine = proxied.lines.find((l) => /RDS Proxy/.test(l.item))!;
    expect(proxyLine.item).toMatch(/RDS Proxy, 2 vCPU of db\.m7g\.large/);
    expect(proxyLine.monthlyUsd).toBeCloseTo(2 * 0.015 * HOURS, 2);
    expect(proxyLine.essential).toBe(false);
    // No app secret (0.40) and no app rotation, redeploy or failed-deployment alarms (4 metrics, 0.40); the proxy's
    // ProxyLoginFailed alarm adds one metric (0.10).
    expect(proxied.total - plain.total).toBeCloseTo(2 * 0.015 * HOURS - 0.4 - 4 * 0.1 + 0.1, 2);
    expect(proxied.total).toBeCloseTo(445.89, 1);
  });

  test('dev with RDS Proxy: turning rotation on adds the endpoint and one alarm metric (the master only)', () => {
    const e = estimateCost(synth({ database: { proxy: RdsProxy.iamAuthenticated() } }).template.toJSON() as any);
    expect(e.rotationWouldAdd!.monthlyUsd).toBeCloseTo(0.01 * HOURS + 0.1, 2);
    expect(e.rotationWouldAdd!.what).toMatch(/1 alarm metric \(0\.10 USD\), the master password's rotation function/);
  });
});

describe('cost readout for Aurora', () => {
  test('serverless dev: the writer at 0 ACUs costs nothing while paused; capacity, storage and I/O are listed as not estimated', () => {
    const e = estimateCost(synth({ database: { engine: DatabaseEngine.auroraServerless() } }).template.toJSON() as any);
    const writer = e.lines.find((l) => /Aurora Serverless v2/.test(l.item));
    // 0 USD lines are left out: the paused writer adds nothing.
    expect(writer).toBeUndefined();
    expect(e.notEstimated).toEqual(
      expect.arrayContaining([
        'Aurora Serverless v2 capacity above the minimum (up to 2 ACUs, 0.12 USD/ACU-h)',
        'Aurora storage and I/O (0.1 USD/GB-month, 0.2 USD per million I/Os)',
      ]),
    );
    expect(e.lines.some((l) => /gp3/.test(l.item))).toBe(false);
  });

  test('serverless prod: writer and reader at 0.5 ACU each', () => {
    const e = estimateCost(
      synth({
        profile: EnvironmentProfile.PROD,
        database: { engine: DatabaseEngine.auroraServerless() },
      }).template.toJSON() as any,
    );
    const members = e.lines.filter((l) => /Aurora Serverless v2, 0.5 ACU minimum/.test(l.item));
    expect(members).toHaveLength(2);
    for (const m of members) expect(m.monthlyUsd).toBeCloseTo(0.5 * 0.12 * HOURS, 2);
  });

  test('provisioned prod: a writer and a reader of db.r7g.large, and a proxy billed on both members', () => {
    const e = estimateCost(
      synth({
        profile: EnvironmentProfile.PROD,
        database: { engine: DatabaseEngine.auroraProvisioned(), proxy: RdsProxy.iamAuthenticated() },
      }).template.toJSON() as any,
    );
    const members = e.lines.filter((l) => /Aurora db\.r7g\.large/.test(l.item));
    expect(members).toHaveLength(2);
    for (const m of members) expect(m.monthlyUsd).toBeCloseTo(0.276 * HOURS, 2);
    const proxy = e.lines.find((l) => /RDS Proxy/.test(l.item))!;
    expect(proxy.item).toMatch(/4 vCPU of 2 x db\.r7g\.large/);
    expect(proxy.monthlyUsd).toBeCloseTo(4 * 0.015 * HOURS, 2);
  });

  test('a proxy in front of Aurora Serverless v2 is billed at least 8 ACUs', () => {
    const e = estimateCost(
      synth({
        database: { engine: DatabaseEngine.auroraServerless({ minCapacity: 0.5 }), proxy: RdsProxy.iamAuthenticated() },
      }).template.toJSON() as any,
    );
    expect(e.lines.find((l) => /RDS Proxy/.test(l.item))!.monthlyUsd).toBeCloseTo(8 * 0.015 * HOURS, 2);
  });
});

describe("docs/database.md's cost table is what the readout computes", () => {
  const doc = fs.readFileSync(path.join(__dirname, '..', 'docs', 'database.md'), 'utf8');
  /** The database tier's lines of a stack: instances, their storage, Aurora members, the proxy. */
  const tier = (props: Parameters<typeof synth>[0], match: RegExp) => {
    const e = estimateCost(synth(props).template.toJSON() as any);
    return e.lines.filter((l) => match.test(l.item)).reduce((sum, l) => sum + l.monthlyUsd, 0);
  };
  const DB = /ApiDatabase(?!Proxy)/;
  const PROXY = /RDS Proxy/;
  const prod = EnvironmentProfile.PROD;
  test.each([
    ['instance, dev', { database: {} }, DB, 'db.t4g.micro, 20 GB: %s USD'],
    ['instance, prod', { profile: prod }, DB, '100 GB x 2: %s USD'],
    ['proxy on the instance', { database: { proxy: RdsProxy.iamAuthenticated() } }, PROXY, '+ %s USD (2 vCPUs)'],
    [
      'Aurora Serverless, prod',
      { profile: prod, database: { engine: DatabaseEngine.auroraServerless() } },
      DB,
      '0.5 ACU at least: %s USD',
    ],
    [
      'Aurora provisioned, dev',
      { database: { engine: DatabaseEngine.auroraProvisioned() } },
      DB,
      'db.t4g.medium: %s USD',
    ],
    [
      'Aurora provisioned, prod',
      { profile: prod, database: { engine: DatabaseEngine.auroraProvisioned() } },
      DB,
      'writer and reader: %s USD',
    ],
    [
      'proxy on Aurora Serverless',
      {
        database: { engine: DatabaseEngine.auroraServerless({ minCapacity: 0.5 }), proxy: RdsProxy.iamAuthenticated() },
      },
      PROXY,
      '+ %s USD (serverless: 8 ACUs minimum)',
    ],
    [
      'proxy on Aurora provisioned, prod',
      { profile: prod, database: { engine: DatabaseEngine.auroraProvisioned(), proxy: RdsProxy.iamAuthenticated() } },
      PROXY,
      '+ %s USD (4 vCPUs of two members)',
    ],
  ] as const)('%s', (_name, props, match, text) => {
    const usd = tier(props as any, match);
    expect(usd).toBeGreaterThan(0);
    expect(doc).toContain(text.replace('%s', usd.toFixed(2)));
  });
});
