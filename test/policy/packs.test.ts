import * as fs from 'fs';
import * as path from 'path';
import { renderAcknowledgementsDoc } from '../../tools/acknowledgements-doc';
import { byPack, checkStack, CONTROL_TOWER, OWN_RULES, PackResult } from '../../tools/policy-harness';
import { scenario } from '../../tools/policy-scenarios';

const unacknowledged = (r: PackResult) => [...r.errors, ...r.warnings];

describe('policy gate', () => {
  const results: Record<string, Record<string, PackResult>> = {};
  const acknowledgements: Record<string, any[]> = {};
  beforeAll(() => {
    for (const name of ['dev', 'prod', 'prod-https'] as const) {
      const s = scenario(name);
      acknowledgements[name] = s.construct.policyAcknowledgements;
      // No test reads the Control Tower result of plain-HTTP prod (fwsd-guard-check's test does, through the runner).
      results[name] = byPack(checkStack(s.stack, { controlTower: name !== 'prod' }));
    }
  });

  test.each(['dev', 'prod', 'prod-https'])('%s: AwsSolutions has no unacknowledged error or warning', (name) => {
    expect(unacknowledged(results[name].AwsSolutions)).toEqual([]);
    expect(results[name].AwsSolutions.acknowledged.length).toBeGreaterThan(0);
  });

  test.each([
    ['prod-https', 'NIST.800.53.R5'],
    ['prod-https', 'HIPAA.Security'],
    ['prod-https', 'PCI.DSS.321'],
  ])('%s: %s has no unacknowledged error', (name, pack) => {
    expect(results[name][pack].errors).toEqual([]);
  });

  test.each(['dev', 'prod-https'])('%s: the Control Tower guard rules have no unacknowledged violation', (name) => {
    expect(results[name][CONTROL_TOWER].errors).toEqual([]);
  });

  test.each(['dev', 'prod', 'prod-https'])('%s: the library guard rules all pass', (name) => {
    expect(results[name][OWN_RULES].errors).toEqual([]);
  });

  test('prod without a certificate is told to add HTTPS: the compliance packs flag the HTTP listener', () => {
    const nist = results.prod['NIST.800.53.R5'].errors.map((f) => f.rule);
    expect(nist).toEqual(
      expect.arrayContaining([
        'NIST.800.53.R5-ALBHttpToHttpsRedirection',
        'NIST.800.53.R5-ELBv2ACMCertificateRequired',
      ]),
    );
  });

  test('every acknowledgement has a reason, and docs/acknowledgements.md lists exactly what the code attaches', () => {
    // The traffic-shifting scenarios' acknowledgements, without running their packs (packs-traffic.test.ts does).
    for (const name of [
      'prod-https-gate',
      'prod-https-canary',
      'prod-https-proxy',
      'dev-aurora',
      'prod-https-aurora',
    ] as const) {
      acknowledgements[name] = scenario(name).construct.policyAcknowledgements;
    }
    const all = [
      ...acknowledgements.dev,
      ...acknowledgements['prod-https'],
      ...acknowledgements['prod-https-gate'],
      ...acknowledgements['prod-https-canary'],
      ...acknowledgements['prod-https-proxy'],
      ...acknowledgements['dev-aurora'],
      ...acknowledgements['prod-https-aurora'],
    ];
    for (const ack of all) expect(ack.reason.length).toBeGreaterThan(30);
    const committed = fs.readFileSync(path.join(__dirname, '..', '..', 'docs', 'acknowledgements.md'), 'utf8');
    expect(committed).toEqual(renderAcknowledgementsDoc());
  });

  test('prod acknowledges nothing the dev profile alone may skip', () => {
    const rules = acknowledgements['prod-https'].map((a) => a.rule);
    for (const devOnly of [
      'AwsSolutions-RDS3',
      'AwsSolutions-RDS10',
      'AwsSolutions-ELB2',
      'ecs_service_assign_public_ip_disabled_check',
    ]) {
      expect(rules).not.toContain(devOnly);
    }
  });
});
