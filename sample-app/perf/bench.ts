/**
 * Benchmark: the sample app against a minimal node:http + pg baseline, on the same PostgreSQL, alternating
 * (baseline, app, baseline, app, ...) so drift on the machine hits both. Reports req/s and p99 for GET /users/:id
 * and POST /users at concurrency 50, the median over the rounds, and app/baseline ratios.
 *
 * npm run bench -- [--rounds 5] [--duration 5] [--connections 50] [--json]
 */
import { ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { runLoadTest } from './loadtest';
import globalSetup from '../test/global-setup';
import globalTeardown from '../test/global-teardown';
import { createMigratedDatabase, envFor } from '../test/support';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    duration: { type: 'string', default: '5' },
    connections: { type: 'string', default: '50' },
    json: { type: 'boolean' },
  },
});
const rounds = Number(values.rounds);
const duration = Number(values.duration);
const connections = Number(values.connections);

interface Started {
  readonly child: ChildProcess;
  readonly url: string;
}

/**
 * Starts a server and waits for its "listening" line. Its stdout goes through a pipe to a separate reader (`cat`
 * into a file), as a container's stdout goes to a log driver. It must not come back into this process: this process
 * is also the load generator, and reading the app's log stream here slowed the load for the app (which logs every
 * request) and not for the baseline (which logs nothing); see docs/performance.md.
 */
async function start(name: string, command: string[], env: NodeJS.ProcessEnv, logDir: string): Promise<Started> {
  const logFile = path.join(logDir, `${name}.log`);
  const out = openSync(logFile, 'w');
  const reader = spawn('cat', [], { stdio: ['pipe', out, 'inherit'] });
  closeSync(out);
  const child = spawn(command[0], command.slice(1), {
    cwd: path.join(__dirname, '..'),
    env: { PATH: process.env.PATH, PORT: '0', ...env },
    stdio: ['ignore', reader.stdin!, 'inherit'],
  });
  // The app holds the pipe's write end now; once it exits, the reader sees the end of its input and exits too.
  reader.stdin!.destroy();
  const started = Date.now();
  for (;;) {
    const head = readFileSync(logFile, 'utf8').slice(0, 100_000);
    const match = /"port":(\d+)[^\n]*"msg":"listening"|"msg":"listening","port":(\d+)/.exec(head);
    if (match) return { child, url: `http://127.0.0.1:${Number(match[1] ?? match[2])}` };
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode} before listening`);
    if (Date.now() - started > 30000) throw new Error(`${name} did not start`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  // The tests' private PostgreSQL 17, TLS required (unless TEST_PG_URL names another server): both servers below
  // reach it over TLS, as on RDS.
  await globalSetup();
  try {
    await bench();
  } finally {
    await globalTeardown();
  }
}

async function bench() {
  const { db, sequelize } = await createMigratedDatabase();
  await sequelize.query(
    "INSERT INTO users (email, name, created_at, updated_at) SELECT 'seed' || g || '@bench.example', 'Seed ' || g, now(), now() FROM generate_series(1, 1000) g",
  );
  await sequelize.close();
  const ids = Array.from({ length: 1000 }, (_, i) => i + 1);
  const env = {
    ...envFor(db.config),
    LOG_LEVEL: 'info',
    NODE_ENV: 'production',
    MIGRATE_ON_START: 'false',
  };
  const logDir = mkdtempSync(path.join(tmpdir(), 'bench-'));
  const targets = {
    baseline: await start(
      'baseline',
      [process.execPath, '-r', 'ts-node/register/transpile-only', 'perf/baseline.ts'],
      env,
      logDir,
    ),
    app: await start('app', [process.execPath, 'dist/index.js'], env, logDir),
  };
  const samples: Record<string, { rps: number[]; p99: number[] }> = {};
  const record = (key: string, rps: number, p99: number) => {
    samples[key] ??= { rps: [], p99: [] };
    samples[key].rps.push(rps);
    samples[key].p99.push(p99);
  };
  try {
    // Warm-up: JIT, pools and caches of both.
    for (const target of Object.values(targets)) {
      await runLoadTest({
        url: target.url,
        connections,
        duration: 2,
        postPercent: 50,
        timeoutSeconds: 10,
        progress: false,
        ids,
      });
    }
    for (let round = 1; round <= rounds; round++) {
      for (const [name, target] of Object.entries(targets)) {
        for (const [endpoint, postPercent] of [
          ['GET /users/:id', 0],
          ['POST /users', 100],
        ] as const) {
          const r = await runLoadTest({
            url: target.url,
            connections,
            duration,
            postPercent,
            timeoutSeconds: 10,
            progress: false,
            ids,
          });
          if (r.successRate < 100) {
            throw new Error(
              `${name} ${endpoint}: ${r.successRate} % success (non-2xx ${r.non2xx}, errors ${r.errors})`,
            );
          }
          record(`${name} ${endpoint}`, r.throughput, r.latencyMs.p99);
          if (!values.json) {
            process.stderr.write(
              `round ${round} ${name.padEnd(8)} ${endpoint.padEnd(15)} ${r.throughput} req/s, p99 ${r.latencyMs.p99} ms\n`,
            );
          }
        }
      }
    }
  } finally {
    for (const target of Object.values(targets)) target.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    await db.drop();
    rmSync(logDir, { recursive: true, force: true });
  }
  const rows = ['GET /users/:id', 'POST /users'].map((endpoint) => {
    const base = samples[`baseline ${endpoint}`];
    const app = samples[`app ${endpoint}`];
    const row = {
      endpoint,
      baselineRps: median(base.rps),
      appRps: median(app.rps),
      baselineP99: median(base.p99),
      appP99: median(app.p99),
    };
    return {
      ...row,
      rpsRatio: Math.round((row.appRps / row.baselineRps) * 100) / 100,
      p99Ratio: Math.round((row.appP99 / row.baselineP99) * 100) / 100,
    };
  });
  const machine = `${cpus().length} cores (${cpus()[0]?.model.trim()}), ${Math.round(totalmem() / 1024 ** 3)} GiB, Node.js ${process.version}`;
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ machine, rounds, duration, connections, rows })}\n`);
    return;
  }
  console.log(`\n${machine}; ${rounds} rounds of ${duration} s at concurrency ${connections}, medians`);
  console.log('endpoint          baseline req/s   app req/s   ratio   baseline p99   app p99   ratio');
  for (const r of rows) {
    console.log(
      `${r.endpoint.padEnd(17)} ${String(r.baselineRps).padStart(14)} ${String(r.appRps).padStart(11)} ${String(r.rpsRatio).padStart(7)}x ${String(r.baselineP99).padStart(11)} ms ${String(r.appP99).padStart(6)} ms ${String(r.p99Ratio).padStart(6)}x`,
    );
  }
  const get = rows[0];
  console.log(
    `\ngoal GET /users/:id: app >= 0.5x baseline req/s: ${get.rpsRatio >= 0.5 ? 'met' : 'MISSED'} (${get.rpsRatio}x); p99 <= 2.5x: ${get.p99Ratio <= 2.5 ? 'met' : 'MISSED'} (${get.p99Ratio}x)`,
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
