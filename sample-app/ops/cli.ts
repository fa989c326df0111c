/**
 * Operator commands for the sample app: npm run ops -- <command> [options]; every command takes --help.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { ECRClient } from '@aws-sdk/client-ecr';
import { ECSClient } from '@aws-sdk/client-ecs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { RDSClient } from '@aws-sdk/client-rds';
import { planBuildAndPush, registryLogin, serviceCpuArchitecture } from './build-and-push';
import { fetchLogs, formatLogLine, parseSince } from './logs';
import { explain, OperatorError, readStackOutputs } from './stack';
import { Clients, collectStatus, formatStatus } from './status';
import { watchDeployment } from './watch';

export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Runs a command; returns its exit code. */
  run(command: string[], options?: { cwd?: string; input?: string }): number;
  sleep(ms: number): Promise<void>;
  exists(file: string): boolean;
  clients(): Clients & { logs: CloudWatchLogsClient; ecr: ECRClient };
}

const APP_DIR = path.join(__dirname, '..');
const INFRA_DIR = path.join(APP_DIR, 'infra');

const COMMON = `  --profile dev|prod   which stack (UsersApi-dev or UsersApi-prod); default dev
  --stack NAME         another stack name
  --help               this text`;

const HELP: Record<string, string> = {
  deploy: `usage: npm run ops -- deploy [--profile dev|prod]\n\nDeploys the stack with the CDK (builds the image from sample-app/ for the task's architecture).\n${COMMON}`,
  destroy: `usage: npm run ops -- destroy [--profile dev|prod]\n\nDestroys the stack (prod keeps its database snapshot, repository and logs).\n${COMMON}`,
  'build-and-push': `usage: npm run ops -- build-and-push [--tag TAG]\n\nBuilds the image for the service's CPU architecture, tags it with the git commit (or --tag) and pushes it to\nthe stack's ECR repository.\n  --tag TAG            image tag; default the short git commit\n${COMMON}`,
  'deploy-app': `usage: npm run ops -- deploy-app [--tag TAG] [--timeout MINUTES]\n\nDeploys the stack running TAG from its repository (push it first with build-and-push), then follows the ECS\ndeployment to its end like \`watch\`: exit 0 only when it completed, 1 when it failed or was rolled back.\n  --tag TAG            image tag; default the short git commit\n  --timeout MINUTES    how long to follow the rollout; default 30\n${COMMON}`,
  watch: `usage: npm run ops -- watch [--interval SECONDS] [--timeout MINUTES]\n\nFollows the service's newest deployment to its end, printing the rollout state, task counts, target health and\nthe service's events. Exit 0 when it completed; 1 when it failed, was rolled back (circuit breaker or\ndeployment alarm) or did not finish in time, with the reason.\n  --interval SECONDS   seconds between looks; default 5\n  --timeout MINUTES    give up after this long; default 30\n${COMMON}`,
  status: `usage: npm run ops -- status\n\nOne look: service desired/running/pending, deployments and rollout state, target health, database, URL.\n${COMMON}`,
  live: `usage: npm run ops -- live [--interval SECONDS] [--count N]\n\nThe status, refreshed.\n  --interval SECONDS   seconds between refreshes; default 5\n  --count N            stop after N refreshes; default 720 (an hour at 5 s)\n${COMMON}`,
  logs: `usage: npm run ops -- logs [--since 15m] [--filter PATTERN] [--follow]\n\nPrints the service's log events.\n  --since DURATION     how far back: 30s, 15m, 2h, 1d; default 15m\n  --filter PATTERN     CloudWatch Logs filter pattern, e.g. '{ $.level >= 50 }' or 'error'\n  --follow             keep polling for new events (Ctrl-C stops)\n${COMMON}`,
};
const USAGE = `usage: npm run ops -- <command> [options]\n\ncommands: ${Object.keys(HELP).join(', ')}\nEach command takes --help.`;

function gitTag(): string {
  const result = spawnSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: APP_DIR, encoding: 'utf8' });
  if (result.status !== 0) throw new OperatorError('No git commit to tag the image with; pass --tag.');
  return result.stdout.trim();
}

function cdk(io: Io, args: string[]): number {
  if (!io.exists(path.join(INFRA_DIR, 'node_modules'))) {
    throw new OperatorError(
      'sample-app/infra is not installed: run `npx projen pack-library` at the repository root, then `npm install` in sample-app/infra.',
    );
  }
  return io.run(['npx', 'cdk', ...args], { cwd: INFRA_DIR });
}

/** `watch`, and the end of `deploy-app`: follows the newest deployment; 0 only when it completed. */
async function follow(
  io: Io,
  stackName: string,
  values: Record<string, string | boolean | undefined>,
  since: Date,
): Promise<number> {
  const interval = Number(values.interval);
  const timeout = Number(values.timeout);
  if (!Number.isInteger(interval) || interval < 1 || !Number.isInteger(timeout) || timeout < 1) {
    io.err('--interval and --timeout must be positive integers');
    return 2;
  }
  const clients = io.clients();
  const outputs = await readStackOutputs(clients.cloudFormation, stackName);
  const result = await watchDeployment(clients.ecs, clients.elbv2, outputs, {
    out: (text) => io.out(text),
    sleep: (ms) => io.sleep(ms),
    intervalMs: interval * 1000,
    timeoutMs: timeout * 60000,
    since,
  });
  const message = `deployment ${result.deploymentId} ${result.outcome}: ${result.reason}`;
  if (result.outcome === 'completed') {
    io.out(message);
    return 0;
  }
  io.err(message);
  return 1;
}

/** Runs one command; returns the process exit code. */
export async function main(argv: string[], io: Io): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === 'help') {
    io.out(USAGE);
    return command ? 0 : 2;
  }
  if (!HELP[command]) {
    io.err(`unknown command "${command}"\n${USAGE}`);
    return 2;
  }
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: rest,
      options: {
        help: { type: 'boolean' },
        profile: { type: 'string', default: 'dev' },
        stack: { type: 'string' },
        tag: { type: 'string' },
        interval: { type: 'string', default: '5' },
        count: { type: 'string', default: '720' },
        since: { type: 'string', default: '15m' },
        filter: { type: 'string' },
        follow: { type: 'boolean' },
        timeout: { type: 'string', default: '30' },
      },
      strict: true,
    }));
  } catch (err) {
    io.err(`${(err as Error).message}\n\n${HELP[command]}`);
    return 2;
  }
  if (values.help) {
    io.out(HELP[command]);
    return 0;
  }
  const profile = String(values.profile);
  if (profile !== 'dev' && profile !== 'prod') {
    io.err(`--profile must be dev or prod, got "${profile}"`);
    return 2;
  }
  const stackName = (values.stack as string | undefined) ?? `UsersApi-${profile}`;

  try {
    switch (command) {
      case 'deploy':
        return cdk(io, ['deploy', '-c', `profile=${profile}`, stackName]);
      case 'destroy':
        return cdk(io, ['destroy', '-c', `profile=${profile}`, stackName]);
      case 'deploy-app': {
        const tag = (values.tag as string | undefined) ?? gitTag();
        const started = new Date();
        const deployed = cdk(io, ['deploy', '-c', `profile=${profile}`, '-c', `imageTag=${tag}`, stackName]);
        io.out(
          deployed === 0 ? 'cdk deploy finished; following the ECS deployment' : 'cdk deploy failed; what ECS says:',
        );
        const watched = await follow(io, stackName, values, started);
        return deployed === 0 ? watched : deployed;
      }
      case 'watch':
        return await follow(io, stackName, values, new Date());
      case 'build-and-push': {
        const clients = io.clients();
        const outputs = await readStackOutputs(clients.cloudFormation, stackName);
        const architecture = await serviceCpuArchitecture(clients.ecs, outputs);
        const plan = planBuildAndPush(
          outputs.RepositoryUri,
          architecture,
          (values.tag as string | undefined) ?? gitTag(),
          APP_DIR,
        );
        const login = await registryLogin(clients.ecr);
        io.out(`building ${plan.image} for ${plan.platform}`);
        const steps = [
          ['docker', 'login', '--username', login.username, '--password-stdin', plan.registry],
          ...plan.commands,
        ];
        for (const step of steps) {
          const code = io.run(step, step[1] === 'login' ? { input: login.password } : {});
          if (code !== 0) {
            io.err(`${step.slice(0, 2).join(' ')} failed with exit code ${code}`);
            return code;
          }
        }
        io.out(
          `pushed ${plan.image}; deploy it with: npm run ops -- deploy-app --profile ${profile} --tag ${plan.image.split(':').pop()}`,
        );
        return 0;
      }
      case 'status':
        io.out(formatStatus(await collectStatus(io.clients(), stackName)));
        return 0;
      case 'live': {
        const interval = Number(values.interval);
        const count = Number(values.count);
        if (!Number.isInteger(interval) || interval < 1 || !Number.isInteger(count) || count < 1) {
          io.err('--interval and --count must be positive integers');
          return 2;
        }
        const clients = io.clients();
        for (let i = 0; i < count; i++) {
          io.out(
            `\x1b[2J\x1b[H${formatStatus(await collectStatus(clients, stackName))}\n\nrefresh ${i + 1}/${count} every ${interval}s (Ctrl-C stops)`,
          );
          if (i + 1 < count) await io.sleep(interval * 1000);
        }
        return 0;
      }
      case 'logs': {
        const clients = io.clients();
        const outputs = await readStackOutputs(clients.cloudFormation, stackName);
        let since = parseSince(String(values.since));
        const filter = values.filter as string | undefined;
        do {
          // Errors (no credentials, a missing log group) are explained by the catch below, like every command's.
          const lines = await fetchLogs(clients.logs, outputs.LogGroupName, since, filter);
          for (const line of lines) io.out(formatLogLine(line));
          if (lines.length > 0) since = lines[lines.length - 1].timestamp + 1;
          if (values.follow) await io.sleep(2000);
        } while (values.follow);
        return 0;
      }
    }
  } catch (err) {
    if (err instanceof OperatorError) {
      io.err(err.message);
      return 1;
    }
    const explained = explain(err, stackName);
    io.err(explained instanceof OperatorError ? explained.message : `${command} failed: ${explained.message}`);
    return 1;
  }
  return 2;
}

/* istanbul ignore next: the process wiring; main() is what the tests drive */
if (require.main === module) {
  const io: Io = {
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(`${text}\n`),
    run: (command, options = {}) =>
      spawnSync(command[0], command.slice(1), {
        cwd: options.cwd,
        input: options.input,
        stdio: options.input === undefined ? 'inherit' : ['pipe', 'inherit', 'inherit'],
      }).status ?? 1,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    exists: existsSync,
    clients: () => ({
      cloudFormation: new CloudFormationClient({}),
      ecs: new ECSClient({}),
      elbv2: new ElasticLoadBalancingV2Client({}),
      rds: new RDSClient({}),
      logs: new CloudWatchLogsClient({}),
      ecr: new ECRClient({}),
    }),
  };
  main(process.argv.slice(2), io).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`${(err as Error)?.message ?? String(err)}\n`);
      process.exit(1);
    },
  );
}
