// The Lambda runtime provides the AWS SDK v3; the library itself never loads this module.
/* eslint-disable import/no-extraneous-dependencies */
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
/* eslint-enable import/no-extraneous-dependencies */
import type { SqlRequest, SqlResult } from './sql';
import { isRollingBack } from '../../internal/rollback';

/**
 * The app-user bootstrap's custom resource handler. It runs outside the VPC, where it reaches Secrets Manager's
 * public endpoint: it reads the master and app credentials and hands them to the SQL function, which runs in the
 * database subnets and reaches nothing but the database. So neither profile needs a NAT gateway or an endpoint for it.
 */

/** The custom resource's properties, as CloudFormation passes them. */
export interface BootstrapProperties {
  readonly MasterSecretArn: string;
  /** The app's secret; absent when the app authenticates with IAM (behind RDS Proxy) and has no password. */
  readonly AppSecretArn?: string;
  /** The instance's address and port, given when there is no app secret to read them from. */
  readonly Host?: string;
  readonly Port?: string;
  readonly SqlFunctionName: string;
  readonly DatabaseName: string;
  readonly Username: string;
  /** The task definition the user is checked for: a new one reruns the bootstrap. */
  readonly Revision?: string;
}

export interface BootstrapEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly StackId?: string;
  readonly ResourceProperties: BootstrapProperties;
  readonly OldResourceProperties?: BootstrapProperties;
  readonly PhysicalResourceId?: string;
}

export interface BootstrapResult {
  readonly PhysicalResourceId: string;
  readonly Data?: Record<string, string>;
}

export interface BootstrapClients {
  readonly sm: SecretsManagerClient;
  readonly lambda: LambdaClient;
  readonly cfn: CloudFormationClient;
}

export interface BootstrapOptions {
  /** Wait before reading the master secret again after its login failed (a rotation may have just changed it). */
  readonly retryDelayMs?: number;
}

interface SecretFields {
  readonly username: string;
  readonly password: string;
  readonly host?: string;
  readonly port?: number | string;
}

/** Master logins tried at most this many times, reading the secret again each time. */
const MASTER_LOGIN_ATTEMPTS = 3;
const MASTER_LOGIN_FAILED = 'cannot log in as the master user';

async function readSecret(
  sm: SecretsManagerClient,
  secretId: string,
  stage: 'AWSCURRENT' | 'AWSPENDING',
): Promise<SecretFields | undefined> {
  let text: string | undefined;
  try {
    text = (await sm.send(new GetSecretValueCommand({ SecretId: secretId, VersionStage: stage }))).SecretString;
  } catch (err) {
    // Only a rotation in progress has an AWSPENDING version.
    if (stage === 'AWSPENDING' && (err as Error).name === 'ResourceNotFoundException') return undefined;
    throw err;
  }
  if (!text) return undefined;
  try {
    const parsed = JSON.parse(text);
    if (parsed && typeof parsed === 'object') return parsed as SecretFields;
  } catch {
    // JSON.parse quotes the text it failed on: never let a secret's characters reach an error message.
  }
  throw new Error(`the secret ${secretId} (${stage}) is not a JSON object`);
}

/** The logins to hand to the SQL function, read anew for every attempt. */
async function readRequest(sm: SecretsManagerClient, p: BootstrapProperties, previous: string[]): Promise<SqlRequest> {
  const app = p.AppSecretArn ? await readSecret(sm, p.AppSecretArn, 'AWSCURRENT') : undefined;
  const master = await readSecret(sm, p.MasterSecretArn, 'AWSCURRENT');
  if ((p.AppSecretArn && (!app?.username || !app.password || !app.host)) || !master?.username || !master.password) {
    throw new Error('the app and master secrets must hold username and password, and the app secret host and port');
  }
  const host = app?.host ?? p.Host;
  if (!host) throw new Error('the bootstrap needs the app secret or the Host property to find the database');
  // A master rotation between its setSecret and finishSecret steps: the pending password is the one that works.
  const masterPending = await readSecret(sm, p.MasterSecretArn, 'AWSPENDING');
  return {
    host,
    port: Number(app?.port ?? p.Port ?? 5432),
    databaseName: p.DatabaseName,
    username: p.Username,
    ...(previous.length > 0 ? { previousUsernames: previous } : {}),
    masterLogins: [master, ...(masterPending ? [masterPending] : [])].map((s) => ({
      username: s.username,
      password: s.password,
    })),
    ...(app ? { current: { username: app.username, password: app.password } } : {}),
  };
}

async function invokeSql(lambda: LambdaClient, functionName: string, request: SqlRequest): Promise<SqlResult> {
  const response = await lambda.send(
    new InvokeCommand({ FunctionName: functionName, Payload: Buffer.from(JSON.stringify(request)) }),
  );
  const body = response.Payload ? Buffer.from(response.Payload).toString('utf8') : '';
  if (response.FunctionError) {
    let message = body;
    try {
      message = (JSON.parse(body) as { errorMessage?: string }).errorMessage ?? body;
    } catch {
      // not JSON: keep the raw text (the SQL function never puts credentials in its errors)
    }
    throw new Error(`app user bootstrap failed: ${message}`);
  }
  return JSON.parse(body) as SqlResult;
}

/**
 * Creates or repairs the user. The master secret is read again when its login fails: a rotation of the master
 * password may have finished between reading it and logging in. A failure fails the deployment, except while
 * CloudFormation rolls the stack back: the previous revision's user was made by an earlier, successful run, and
 * failing the rollback would leave the stack in UPDATE_ROLLBACK_FAILED.
 */
export async function onEvent(
  clients: BootstrapClients,
  event: BootstrapEvent,
  options: BootstrapOptions = {},
): Promise<BootstrapResult> {
  const p = event.ResourceProperties;
  const physicalId = `${p.Username}@${p.DatabaseName}`;
  // The user and what it owns stay when the resource goes: they are the app's data.
  if (event.RequestType === 'Delete') return { PhysicalResourceId: event.PhysicalResourceId ?? physicalId };

  // A renamed user (database.appUsername changed): what the previous one owns is handed to the new one.
  const old = event.OldResourceProperties;
  const previous =
    event.RequestType === 'Update' &&
    old?.Username &&
    old.Username !== p.Username &&
    old.DatabaseName === p.DatabaseName
      ? [old.Username]
      : [];
  try {
    let result: SqlResult | undefined;
    for (let attempt = 1; !result; attempt++) {
      const request = await readRequest(clients.sm, p, previous);
      try {
        result = await invokeSql(clients.lambda, p.SqlFunctionName, request);
      } catch (err) {
        if (attempt >= MASTER_LOGIN_ATTEMPTS || !(err as Error).message.includes(MASTER_LOGIN_FAILED)) throw err;
        await new Promise((resolve) => setTimeout(resolve, (options.retryDelayMs ?? 2000) * attempt));
      }
    }
    return {
      PhysicalResourceId: physicalId,
      Data: Object.fromEntries(Object.entries(result).map(([k, v]) => [k, String(v)])),
    };
  } catch (err) {
    if (event.RequestType !== 'Update' || !event.StackId) throw err;
    let rollingBack: boolean;
    try {
      rollingBack = await isRollingBack(clients.cfn, event.StackId);
    } catch (statusErr) {
      throw new Error(
        `${(err as Error).message} (the stack status could not be read: ${(statusErr as Error).message})`,
      );
    }
    if (!rollingBack) throw err;
    const reason = `the rollback to ${p.Revision ?? 'the previous revision'} kept the database as it is: ${(err as Error).message}`;
    console.log(JSON.stringify({ level: 'warn', message: reason }));
    return { PhysicalResourceId: event.PhysicalResourceId ?? physicalId, Data: { RollbackNotApplied: reason } };
  }
}
