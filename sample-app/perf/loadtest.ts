/**
 * Load test for the users API, local or deployed: npm run loadtest -- --url http://host [options]; --help for them.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';

export interface LoadTestOptions {
  readonly url: string;
  readonly connections: number;
  /** Seconds; or `amount` requests. */
  readonly duration?: number;
  readonly amount?: number;
  /** Share of requests that are POST /users (the rest are GET /users/:id), 0 to 100. */
  readonly postPercent: number;
  readonly timeoutSeconds: number;
  readonly progress: boolean;
  /** GET /users/:id only hits these ids (seeded first when not given). */
  readonly ids?: number[];
}

export interface LoadTestResult {
  readonly url: string;
  readonly connections: number;
  readonly durationSeconds: number;
  readonly requests: number;
  readonly throughput: number;
  readonly latencyMs: { average: number; p50: number; p95: number; p99: number; max: number };
  readonly successRate: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly mix: { get: number; post: number };
}

export class UsageError extends Error {}

export const USAGE = `usage: npm run loadtest -- --url URL [options]

  --url URL            base URL of the users API (http://127.0.0.1:3000, or the stack's ServiceUrl)
  --connections N      concurrent connections; default 50
  --duration SECONDS   run this long; default 10 (mutually exclusive with --amount)
  --amount N           send this many requests instead
  --post-percent P     share of POST /users, the rest GET /users/:id; default 20
  --timeout SECONDS    per-request timeout; default 10
  --json               print the result as JSON (no progress display)
  --help               this text

A short test will not trigger auto-scaling: see docs/operations.md (Load-testing a deployed service).`;

function positiveInteger(
  name: string,
  raw: string | undefined,
  fallback: number | undefined,
  min = 1,
  max = 1_000_000,
): number | undefined {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return Number(raw);
}

export function parseLoadTestArgs(argv: string[]): (LoadTestOptions & { json: boolean }) | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        url: { type: 'string' },
        connections: { type: 'string' },
        duration: { type: 'string' },
        amount: { type: 'string' },
        'post-percent': { type: 'string' },
        timeout: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean' },
      },
      strict: true,
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) return 'help';
  if (!values.url) throw new UsageError('--url is required');
  let url: URL;
  try {
    url = new URL(values.url);
  } catch {
    throw new UsageError(`--url must be an http(s) URL, got "${values.url}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`--url must be an http(s) URL, got "${values.url}"`);
  }
  if (values.duration !== undefined && values.amount !== undefined) {
    throw new UsageError('--duration and --amount are mutually exclusive');
  }
  const amount = positiveInteger('amount', values.amount, undefined);
  return {
    url: url.toString().replace(/\/$/, ''),
    connections: positiveInteger('connections', values.connections, 50, 1, 10_000)!,
    duration: amount === undefined ? positiveInteger('duration', values.duration, 10, 1, 86_400) : undefined,
    amount,
    postPercent: positiveInteger('post-percent', values['post-percent'], 20, 0, 100)!,
    timeoutSeconds: positiveInteger('timeout', values.timeout, 10, 1, 600)!,
    progress: !values.json,
    json: values.json ?? false,
  };
}

/** Creates a few users so GET /users/:id has ids to read; fails clearly when the URL is not the users API. */
export async function seedUsers(url: string, count = 20, tag = randomBytes(4).toString('hex')): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 0; i < count; i++) {
    const res = await fetch(`${url}/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: `seed-${tag}-${i}@loadtest.example`, name: `Load test seed ${i}` }),
    }).catch((err: Error) => {
      throw new UsageError(`cannot reach ${url}: ${err.message}`);
    });
    if (res.status !== 201) {
      throw new UsageError(`POST ${url}/users answered ${res.status}, not 201; is --url the users API?`);
    }
    ids.push(((await res.json()) as { id: number }).id);
  }
  return ids;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const round = (n: number) => Math.round(n * 100) / 100;

/** Runs the GET/POST mix and measures every response. */
export async function runLoadTest(options: LoadTestOptions): Promise<LoadTestResult> {
  const ids = options.ids ?? (await seedUsers(options.url));
  const runTag = randomBytes(4).toString('hex');
  let sequence = 0;
  const mix = { get: 0, post: 0 };
  const latencies: number[] = [];
  const started = Date.now();
  let finish: (err: Error | null, result: autocannon.Result) => void = () => undefined;
  const done = new Promise<autocannon.Result>((resolve, reject) => {
    finish = (err, result) => (err ? reject(err) : resolve(result));
  });
  const instance = autocannon(
    {
      url: options.url,
      connections: options.connections,
      ...(options.amount !== undefined ? { amount: options.amount } : { duration: options.duration ?? 10 }),
      timeout: options.timeoutSeconds,
      requests: [
        {
          setupRequest: (request) => {
            if (Math.random() * 100 < options.postPercent) {
              mix.post++;
              return {
                ...request,
                method: 'POST',
                path: '/users',
                headers: { 'content-type': 'application/json' },
                body: JSON.stringify({ email: `lt-${runTag}-${sequence++}@loadtest.example`, name: 'Load test' }),
              };
            }
            mix.get++;
            return {
              ...request,
              method: 'GET',
              path: `/users/${ids[Math.floor(Math.random() * ids.length)]}`,
              body: undefined,
            };
          },
        },
      ],
    },
    (err, result) => finish(err, result),
  );
  instance.on('response', (_client: unknown, _status: number, _bytes: number, responseTime: number) =>
    latencies.push(responseTime),
  );
  if (options.progress) {
    autocannon.track(instance, {
      renderProgressBar: true,
      renderResultsTable: false,
      renderLatencyTable: false,
      outputStream: process.stderr,
    });
  }
  const result = await done;
  const seconds = (Date.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const total = result['1xx'] + result['2xx'] + result['3xx'] + result['4xx'] + result['5xx'];
  const attempted = total + result.errors;
  return {
    url: options.url,
    connections: options.connections,
    durationSeconds: round(seconds),
    requests: total,
    throughput: round(total / seconds),
    latencyMs: {
      average: round(latencies.reduce((a, b) => a + b, 0) / Math.max(latencies.length, 1)),
      p50: round(percentile(latencies, 50)),
      p95: round(percentile(latencies, 95)),
      p99: round(percentile(latencies, 99)),
      max: round(latencies[latencies.length - 1] ?? 0),
    },
    successRate: round((result['2xx'] / Math.max(attempted, 1)) * 100),
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    mix,
  };
}

export function formatResult(r: LoadTestResult): string {
  return [
    `${r.url}: ${r.requests} requests in ${r.durationSeconds} s over ${r.connections} connections (GET ${r.mix.get}, POST ${r.mix.post})`,
    `  throughput   ${r.throughput} req/s`,
    `  latency      avg ${r.latencyMs.average} ms, p50 ${r.latencyMs.p50} ms, p95 ${r.latencyMs.p95} ms, p99 ${r.latencyMs.p99} ms, max ${r.latencyMs.max} ms`,
    `  success      ${r.successRate} % (non-2xx ${r.non2xx}, errors ${r.errors}, timeouts ${r.timeouts})`,
  ].join('\n');
}

/* istanbul ignore next: process wiring */
if (require.main === module) {
  void (async () => {
    try {
      const parsed = parseLoadTestArgs(process.argv.slice(2));
      if (parsed === 'help') {
        process.stdout.write(`${USAGE}\n`);
        return 0;
      }
      const result = await runLoadTest(parsed);
      process.stdout.write(`${parsed.json ? JSON.stringify(result) : formatResult(result)}\n`);
      return 0;
    } catch (err) {
      process.stderr.write(`${(err as Error).message}\n${err instanceof UsageError ? `\n${USAGE}\n` : ''}`);
      return err instanceof UsageError ? 2 : 1;
    }
  })().then((code) => process.exit(code));
}
