import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';

/** The outputs FargateWebServiceWithDatabase adds, by their short name. */
export interface StackOutputs {
  readonly ServiceUrl: string;
  readonly ClusterName: string;
  readonly ServiceName: string;
  readonly RepositoryUri: string;
  readonly LogGroupName: string;
  readonly DatabaseInstanceId: string;
  readonly [name: string]: string;
}

/** A problem an operator can act on: printed as it is, without a stack trace. */
export class OperatorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OperatorError';
  }
}

const REQUIRED = ['ServiceUrl', 'ClusterName', 'ServiceName', 'RepositoryUri', 'LogGroupName', 'DatabaseInstanceId'];

/** Turns SDK errors that mean "no credentials" or "no such stack" into messages that say what to do. */
export function explain(err: unknown, stackName: string): Error {
  const e = err as { name?: string; message?: string };
  if (e?.name === 'CredentialsProviderError' || /Could not load credentials|credential/i.test(e?.message ?? '')) {
    return new OperatorError(
      'No AWS credentials found. Set AWS_PROFILE (after `aws sso login` or `aws configure`) or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, and AWS_REGION.',
    );
  }
  if (e?.name === 'ValidationError' && /does not exist/.test(e?.message ?? '')) {
    return new OperatorError(
      `Stack ${stackName} is not deployed in this account and region. Deploy it first: npm run ops -- deploy --profile <dev|prod>.`,
    );
  }
  if (err instanceof Error) return err;
  return new Error(String(err));
}

/** Reads the construct's outputs from the deployed stack (output ids end with an 8-character hash). */
export async function readStackOutputs(cfn: CloudFormationClient, stackName: string): Promise<StackOutputs> {
  let response;
  try {
    response = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
  } catch (err) {
    throw explain(err, stackName);
  }
  const stack = response.Stacks?.[0];
  if (!stack) throw new OperatorError(`Stack ${stackName} is not deployed in this account and region.`);
  const outputs: Record<string, string> = {};
  for (const output of stack.Outputs ?? []) {
    const name = (output.OutputKey ?? '').replace(/^Api/, '').replace(/[0-9A-F]{8}$/, '');
    if (output.OutputValue !== undefined) outputs[name] = output.OutputValue;
  }
  const missing = REQUIRED.filter((key) => !outputs[key]);
  if (missing.length > 0) {
    throw new OperatorError(
      `Stack ${stackName} (${stack.StackStatus}) lacks the outputs ${missing.join(', ')}; is it a FargateWebServiceWithDatabase stack that finished deploying?`,
    );
  }
  return outputs as StackOutputs;
}
