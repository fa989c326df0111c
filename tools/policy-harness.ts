import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { App, Aspects, CfnResource, IAspect, Stack } from 'aws-cdk-lib';
import {
  AwsSolutionsChecks,
  HIPAASecurityChecks,
  INagLogger,
  NagLoggerNonComplianceData,
  NagMessageLevel,
  NIST80053R5Checks,
  PCIDSS321Checks,
} from 'cdk-nag';
// The shipped runner is plain JavaScript (a package bin); its split is the one this harness reports.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { splitFindings, controlTowerRuleFiles } = require('../bin/fwsd-guard-check');

/** The library's own guard rules, shipped in the npm package. */
export const POLICY_DIR = path.join(__dirname, '..', 'policy');
/** The cdk-nag packs the harness runs, by the names their findings carry. */
export type NagPackName = 'AwsSolutions' | 'NIST.800.53.R5' | 'HIPAA.Security' | 'PCI.DSS.321';
export const NAG_PACKS: readonly NagPackName[] = ['AwsSolutions', 'NIST.800.53.R5', 'HIPAA.Security', 'PCI.DSS.321'];
export const CONTROL_TOWER = 'ControlTower (cfn-guard)';
export const OWN_RULES = 'Library rules (cfn-guard)';

export interface Finding {
  readonly rule: string;
  readonly resource: string;
}

export interface PackResult {
  readonly pack: string;
  readonly errors: Finding[];
  readonly warnings: Finding[];
  readonly acknowledged: Finding[];
}

/** Counts every cdk-nag outcome per pack: findings by level, validation failures as warnings, suppressions. */
class CountingLogger implements INagLogger {
  readonly results: Map<string, PackResult>;

  /** Only the packs that run have a result: a pack left out cannot read as clean. */
  constructor(packs: readonly string[]) {
    this.results = new Map(packs.map((pack) => [pack, { pack, errors: [], warnings: [], acknowledged: [] }]));
  }

  private finding(data: { ruleId: string; resource: CfnResource }, findingId?: string): Finding {
    const suffix = findingId && findingId !== data.ruleId ? `[${findingId}]` : '';
    return { rule: `${data.ruleId}${suffix}`, resource: data.resource.node.path };
  }

  onCompliance(): void {}
  onNotApplicable(): void {}
  onNonCompliance(data: NagLoggerNonComplianceData): void {
    const result = this.results.get(data.nagPackName)!;
    (data.ruleLevel === NagMessageLevel.ERROR ? result.errors : result.warnings).push(
      this.finding(data, data.findingId),
    );
  }
  onSuppressed(data: NagLoggerNonComplianceData): void {
    this.results.get(data.nagPackName)!.acknowledged.push(this.finding(data, data.findingId));
  }
  onError(data: { nagPackName: string; ruleId: string; resource: CfnResource }): void {
    this.results
      .get(data.nagPackName)!
      .warnings.push(this.finding({ ...data, ruleId: `CdkNagValidationFailure[${data.ruleId}]` }));
  }
  onSuppressedError(data: { nagPackName: string; ruleId: string; resource: CfnResource }): void {
    this.results.get(data.nagPackName)!.acknowledged.push(this.finding(data));
  }
}

/** The installed @cdklabs/cdk-validator-cfnguard (the Control Tower rules) and its cfn-guard binary. */
export const VALIDATOR_DIR = path.dirname(require.resolve('@cdklabs/cdk-validator-cfnguard/package.json'));

export const GUARD_BINARY = (() => {
  const arch = process.arch === 'arm64' ? 'aarch64' : 'x86_64';
  const os = process.platform === 'darwin' ? 'macos' : 'ubuntu';
  return path.join(VALIDATOR_DIR, 'bin', os, arch, 'cfn-guard');
})();

/** Rule files already parsed in this process (a file that parses once parses every time). */
const PARSED_RULE_FILES = new Set<string>();

/**
 * Runs guard rule files over templates. A template that does not exist, or a rule file that does not parse, is a
 * clear error rather than a silent pass.
 */
export function runGuardRules(rulePaths: string[], templatePaths: string[], controlTower = false) {
  for (const template of templatePaths) {
    if (!fs.existsSync(template)) throw new Error(`template not found: ${template}`);
  }
  const ruleFiles = rulePaths.flatMap((p) => {
    if (!fs.existsSync(p)) throw new Error(`guard rules not found: ${p}`);
    return fs.statSync(p).isDirectory()
      ? fs
          .readdirSync(p)
          .filter((f) => f.endsWith('.guard'))
          .map((f) => path.join(p, f))
      : [p];
  });
  for (const file of ruleFiles.filter((f) => !PARSED_RULE_FILES.has(f))) {
    try {
      execFileSync(GUARD_BINARY, ['parse-tree', '--rules', file], { stdio: 'pipe' });
      PARSED_RULE_FILES.add(file);
    } catch (err) {
      const detail = String((err as { stderr?: Buffer }).stderr ?? err)
        .trim()
        .split('\n')[0];
      throw new Error(`guard rule file does not parse: ${file}: ${detail}`);
    }
  }
  if (!controlTower) {
    const validator = new CfnGuardValidator({
      controlTowerRulesEnabled: false,
      rules: ruleFiles,
      maxBuffer: 64 * 1024 * 1024,
    });
    return validator.validate({ templatePaths });
  }
  // The Control Tower rules that can apply to each template (the shipped runner's choice), one template at a time.
  const reports = templatePaths.map((templatePath) =>
    new CfnGuardValidator({
      controlTowerRulesEnabled: false,
      rules: [...ruleFiles, ...controlTowerRuleFiles(VALIDATOR_DIR, JSON.parse(fs.readFileSync(templatePath, 'utf8')))],
      maxBuffer: 64 * 1024 * 1024,
    }).validate({ templatePaths: [templatePath] }),
  );
  return { success: reports.every((r) => r.success), violations: reports.flatMap((r) => r.violations) };
}

function guardResult(
  pack: string,
  template: any,
  report: ReturnType<typeof runGuardRules>,
  honourAcknowledgements: boolean,
): PackResult {
  // The same split the shipped runner (bin/fwsd-guard-check) makes for consumers.
  const { acknowledged, open } = splitFindings(report, template);
  return honourAcknowledgements
    ? { pack, errors: open, warnings: [], acknowledged }
    : { pack, errors: [...open, ...acknowledged], warnings: [], acknowledged: [] };
}

/**
 * Runs the four cdk-nag packs, the Control Tower guard rules and the library's own guard rules on one stack.
 * The stack's app must not have been synthesized yet (the cdk-nag aspects run at synthesis). `controlTower: false`
 * skips the Control Tower rules (a few seconds of cfn-guard a template) where a test does not read their result.
 */
export function checkStack(
  stack: Stack,
  options: { readonly controlTower?: boolean; readonly nagPacks?: readonly NagPackName[] } = {},
): PackResult[] {
  const names = options.nagPacks ?? NAG_PACKS;
  const logger = new CountingLogger(names);
  const props = { additionalLoggers: [logger] };
  const packs: Record<NagPackName, () => IAspect> = {
    AwsSolutions: () => new AwsSolutionsChecks(props),
    'NIST.800.53.R5': () => new NIST80053R5Checks(props),
    'HIPAA.Security': () => new HIPAASecurityChecks(props),
    'PCI.DSS.321': () => new PCIDSS321Checks(props),
  };
  // A test that reads some packs' results runs only those (each pack is a few seconds of synthesis).
  for (const name of names) {
    Aspects.of(stack).add(packs[name]());
  }
  const assembly = (stack.node.root as App).synth();
  const artifact = assembly.getStackByName(stack.stackName);
  const template = artifact.template;
  return [
    ...logger.results.values(),
    ...(options.controlTower === false
      ? []
      : [guardResult(CONTROL_TOWER, template, runGuardRules([], [artifact.templateFullPath], true), true)]),
    guardResult(OWN_RULES, template, runGuardRules([POLICY_DIR], [artifact.templateFullPath]), false),
  ];
}

export function byPack(results: PackResult[]): Record<string, PackResult> {
  return Object.fromEntries(results.map((r) => [r.pack, r]));
}
