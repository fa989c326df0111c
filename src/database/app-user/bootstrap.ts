// The Lambda runtime provides the AWS SDK v3; the library itself never loads this module.
/* eslint-disable import/no-extraneous-dependencies */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
/* eslint-enable import/no-extraneous-dependencies */
import type { SqlRequest, SqlResult } from './sql';

/**
 * The app-user bootstrap's custom resource handler. It runs outside the VPC, where it reaches Secrets Manager's
 * public endpoint: it reads the master and app credentials and hands them to the SQL function, which runs in the
 * database subnets and reaches nothing but the database. So neither profile needs a NAT gateway or an endpoint for it.
 */

/** The custom resource's properties, as CloudFormation passes them. */
export interface BootstrapProperties {
  readonly MasterSecretArn: string;
  readonly AppSecretArn: string;
  readonly SqlFunctionName: string;
  readonly DatabaseName: string;
  readonly Username: string;
}

export interface BootstrapEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly ResourceProperties: BootstrapProperties;
  readonly PhysicalResourceId?: string;
}

export interface BootstrapResult {
  readonly PhysicalResourceId: string;
  readonly Data?: Record<string, string>;
}

interface SecretFields {
  readonly username: string;
  readonly password: string;
  readonly host?: string;
  readonly port?: number | string;
}

async function readSecret(
  sm: SecretsManagerClient,
  secretId: string,
  stage: 'AWSCURRENT' | 'AWSPENDING',
): Promise<SecretFields | undefined> {
  try {
    const { SecretString } = await sm.send(new GetSecretValueCommand({ SecretId: secretId, VersionStage: stage }));
    return SecretString ? (JSON.parse(SecretString) as SecretFields) : undefined;
  } catch (err) {
    // Only a rotation in progress has an AWSPENDING version.
    if (stage === 'AWSPENDING' && (err as Error).name === 'ResourceNotFoundException') return undefined;
    throw err;
  }
}

export async function onEvent(
  sm: SecretsManagerClient,
  lambda: LambdaClient,
  event: BootstrapEvent,
): Promise<BootstrapResult> {
  const p = event.ResourceProperties;
  const physicalId = `${p.Username}@${p.DatabaseName}`;
  // The user and what it owns stay when the resource goes: they are the app's data.
  if (event.RequestType === 'Delete') return { PhysicalResourceId: event.PhysicalResourceId ?? physicalId };

  const app = await readSecret(sm, p.AppSecretArn, 'AWSCURRENT');
  const master = await readSecret(sm, p.MasterSecretArn, 'AWSCURRENT');
  if (!app?.username || !app.password || !app.host || !master?.username || !master.password) {
    throw new Error('the app and master secrets must hold username and password, and the app secret host and port');
  }
  // A master rotation between its setSecret and finishSecret steps: the pending password is the one that works.
  const masterPending = await readSecret(sm, p.MasterSecretArn, 'AWSPENDING');
  const request: SqlRequest = {
    host: app.host,
    port: Number(app.port ?? 5432),
    databaseName: p.DatabaseName,
    username: p.Username,
    masterLogins: [master, ...(masterPending ? [masterPending] : [])].map((s) => ({
      username: s.username,
      password: s.password,
    })),
    current: { username: app.username, password: app.password },
  };
  const response = await lambda.send(
    new InvokeCommand({ FunctionName: p.SqlFunctionName, Payload: Buffer.from(JSON.stringify(request)) }),
  );
  const body = response.Payload ? Buffer.from(response.Payload).toString('utf8') : '';
  if (response.FunctionError) {
    let message = body;
    try {
      message = (JSON.parse(body) as { errorMessage?: string }).errorMessage ?? body;
    } catch {
      // not JSON: keep the raw text
    }
    throw new Error(`app user bootstrap failed: ${message}`);
  }
  const result = JSON.parse(body) as SqlResult;
  return {
    PhysicalResourceId: physicalId,
    Data: Object.fromEntries(Object.entries(result).map(([k, v]) => [k, String(v)])),
  };
}
