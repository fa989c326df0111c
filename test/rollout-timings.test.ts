import { Duration } from 'aws-cdk-lib';
import {
  CredentialRotation,
  DatabaseEngine,
  DeploymentAlarms,
  EnvironmentProfile,
  RdsProxy,
  RolloutStrategy,
} from '../src';
import { defaultStack, synth } from './helpers';
import { rolloutTimings } from '../tools/rollout-timings';

const seconds = (template: any) =>
  Object.fromEntries(rolloutTimings(template.toJSON()).map((t) => [t.name, t.seconds]));

// Hand-computed from the defaults: health check every 15 s, healthy after 2, unhealthy after 3, 30 s deregistration
// delay, 90 s grace period, rollback alarms of 2 of 3 minutes (5xx share) and 2 minutes (unhealthy hosts).
describe('rollout timings readout', () => {
  test('dev: each figure from the template, against hand-computed values', () => {
    expect(seconds(defaultStack(EnvironmentProfile.DEV).template)).toEqual({
      'a good rollout takes at least': 2 * 15 + 30,
      'a version that serves 5xx is rolled back after': 2 * 60,
      'a version that fails its health checks is rolled back after': 3 * 15 + 2 * 60,
      // one desired task: the circuit breaker's minimum of 3 failed tasks
      'tasks that never become healthy are rolled back after': 3 * (90 + 3 * 15),
      'an unhealthy task stops receiving traffic after': 3 * 15,
      'scale-out starts a task after': 3 * 60,
    });
  });

  test('the figures follow the template: a slower health check, and no deployment alarms', () => {
    const { template } = synth({
      loadBalancer: { healthCheck: { interval: Duration.seconds(30) }, deregistrationDelay: Duration.seconds(10) },
      service: { deploymentAlarms: DeploymentAlarms.none() },
    });
    const figures = seconds(template);
    expect(figures['a good rollout takes at least']).toBe(2 * 30 + 10);
    expect(figures['an unhealthy task stops receiving traffic after']).toBe(3 * 30);
    expect(Object.keys(figures)).not.toContain('a version that serves 5xx is rolled back after');
  });

  test('with rotation on (prod): how soon tasks move to the new login, and how long the previous one lasts', () => {
    const figures = seconds(defaultStack(EnvironmentProfile.PROD).template);
    expect(figures['after a rotation, every task has the new login after']).toBe(2 * 15 + 30);
    expect(figures['the previous login keeps working for']).toBe(30 * 86400);
    const weekly = seconds(synth({ database: { rotation: CredentialRotation.every(Duration.days(7)) } }).template);
    expect(weekly['the previous login keeps working for']).toBe(7 * 86400);
    // Dev rotates nothing by default: no rotation figures.
    expect(Object.keys(seconds(defaultStack(EnvironmentProfile.DEV).template))).not.toContain(
      'the previous login keeps working for',
    );
  });

  test('a canary or linear rollout adds its steps and the bake time to a good rollout', () => {
    const canary = rolloutTimings(
      synth({
        service: { rolloutStrategy: RolloutStrategy.canary({ canaryBakeTime: Duration.minutes(3) }) },
      }).template.toJSON() as any,
    )[0];
    expect(canary.seconds).toBe(2 * 15 + 3 * 60 + 5 * 60 + 30);
    expect(canary.formula).toBe(
      'task start + healthy threshold 2 x interval 15 s + canary 5 % for 180 s + canary bake time 300 s + deregistration delay 30 s',
    );
    const linear = seconds(
      synth({ service: { rolloutStrategy: RolloutStrategy.linear({ stepPercent: 25 }) } }).template,
    );
    // Four shifts of 25 %, a step bake after each but the last (CloudFormation's count of steps).
    expect(linear['a good rollout takes at least']).toBe(2 * 15 + 3 * 6 * 60 + 5 * 60 + 30);
  });

  test.each([
    [RolloutStrategy.canary({ percent: 1 }), 'a canary failing all its requests is rolled back after', 2000, '1 %'],
    [RolloutStrategy.canary(), 'a canary failing all its requests is rolled back after', 400, '5 %'],
    [
      RolloutStrategy.linear({ stepPercent: 4 }),
      'a first linear step failing all its requests is rolled back after',
      500,
      '4 %',
    ],
  ])(
    '%s: a line says how soon a failing first step is rolled back, and from which traffic',
    (strategy, name, requests, share) => {
      const timings = rolloutTimings(synth({ service: { rolloutStrategy: strategy } }).template.toJSON() as any);
      const line = timings.find((t) => t.name === name);
      expect(line).toEqual({
        name,
        seconds: 120,
        formula: `2 of 3 periods of 60 s on its own target group, from ${requests} requests a minute (20 a minute on its ${share}) + CloudWatch's publishing delay`,
      });
    },
  );

  test('rolling and blue/green have no first-step line', () => {
    for (const rolloutStrategy of [RolloutStrategy.rolling(), RolloutStrategy.blueGreen()]) {
      const names = rolloutTimings(synth({ service: { rolloutStrategy } }).template.toJSON() as any).map((t) => t.name);
      expect(names.filter((n) => /canary|linear step/.test(n))).toEqual([]);
    }
  });

  test('the formula names the template values it used', () => {
    const good = rolloutTimings(defaultStack(EnvironmentProfile.PROD).template.toJSON() as any)[0];
    expect(good.formula).toBe('task start + healthy threshold 2 x interval 15 s + deregistration delay 30 s');
  });

  test('a failover line per database choice, with its source: none in dev (single-AZ), 120 s Multi-AZ, 41 s behind RDS Proxy', () => {
    const failover = (template: any) => rolloutTimings(template.toJSON()).filter((t) => /failover/.test(t.name));
    expect(failover(defaultStack(EnvironmentProfile.DEV).template)).toEqual([]);
    const [instance] = failover(defaultStack(EnvironmentProfile.PROD).template);
    expect(instance).toMatchObject({ name: 'a Multi-AZ failover interrupts the database for up to', seconds: 120 });
    expect(instance.formula).toMatch(/RDS User Guide, Failover process for Amazon RDS/);
    const [proxied] = failover(
      synth({ profile: EnvironmentProfile.PROD, database: { proxy: RdsProxy.iamAuthenticated() } }).template,
    );
    expect(proxied).toMatchObject({
      name: 'a Multi-AZ failover behind RDS Proxy interrupts new queries for up to',
      seconds: Math.round(120 * 0.34),
    });
    expect(proxied.formula).toMatch(/"Amazon RDS Proxy" product page/);
  });

  test('Aurora: a 30 s failover with a reader (10 s behind a proxy), a 10-minute replacement without, the resume after a pause', () => {
    const lines = (database: object, profile = EnvironmentProfile.PROD) =>
      Object.fromEntries(
        rolloutTimings(synth({ profile, database }).template.toJSON() as any)
          .filter((t) => /Aurora|pause/.test(t.name))
          .map((t) => [t.name, t.seconds]),
      );
    expect(lines({ engine: DatabaseEngine.auroraProvisioned() })).toEqual({
      'an Aurora failover to a reader interrupts the database for up to': 30,
    });
    expect(lines({ engine: DatabaseEngine.auroraProvisioned(), proxy: RdsProxy.iamAuthenticated() })).toEqual({
      'an Aurora failover to a reader behind RDS Proxy interrupts the database for up to': Math.round(30 * 0.34),
    });
    expect(lines({ engine: DatabaseEngine.auroraServerless() }, EnvironmentProfile.DEV)).toEqual({
      'an Aurora writer without a reader is replaced after up to': 600,
      'the first connection after a pause waits up to': 15,
    });
  });
});
