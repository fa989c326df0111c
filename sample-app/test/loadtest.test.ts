import { Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { createMigratedDatabase, query, silentLogger, TestDatabase } from './support';
import { formatResult, parseLoadTestArgs, runLoadTest, seedUsers, UsageError } from '../perf/loadtest';
import { createApp } from '../src/app';
import { Database } from '../src/db';

let db: TestDatabase;
let database: Database;
let server: Server;
let url: string;

beforeAll(async () => {
  ({ db, database } = await createMigratedDatabase());
  server = createApp({ database, logger: silentLogger }).listen(0);
  await new Promise((r) => server.once('listening', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
  await database.close();
  await db.drop();
});

describe('loadtest', () => {
  test('sends the GET/POST mix to a real app and reports throughput, percentiles and success', async () => {
    const result = await runLoadTest({
      url,
      connections: 5,
      amount: 200,
      postPercent: 25,
      timeoutSeconds: 10,
      progress: false,
    });
    expect(result.requests).toBe(200);
    expect(result.mix.get + result.mix.post).toBe(200);
    expect(result.mix.post).toBeGreaterThan(20);
    expect(result.mix.get).toBeGreaterThan(100);
    expect(result.successRate).toBe(100);
    expect(result).toMatchObject({ non2xx: 0, errors: 0, timeouts: 0 });
    const { p50, p95, p99, max, average } = result.latencyMs;
    expect(p50).toBeGreaterThan(0);
    expect(p50).toBeLessThanOrEqual(p95);
    expect(p95).toBeLessThanOrEqual(p99);
    expect(p99).toBeLessThanOrEqual(max);
    expect(average).toBeGreaterThan(0);
    // durationSeconds is rounded to 10 ms for display; throughput uses the exact time.
    expect(Math.abs(result.throughput - result.requests / result.durationSeconds) / result.throughput).toBeLessThan(
      0.02,
    );
    // The POSTs really created users: 20 seeded plus one per POST.
    const [{ n }] = await query(db.config, 'SELECT count(*)::int AS n FROM users');
    expect(n).toBe(20 + result.mix.post);
    expect(formatResult(result)).toContain(`success      100 %`);
  });

  test('counts failures: a missing user is a non-2xx answer, not a success', async () => {
    const result = await runLoadTest({
      url,
      connections: 2,
      amount: 20,
      postPercent: 0,
      timeoutSeconds: 5,
      progress: false,
      ids: [999999],
    });
    expect(result.non2xx).toBe(20);
    expect(result.successRate).toBe(0);
  });

  test('seeding a URL that is not the users API fails clearly', async () => {
    await expect(seedUsers(`${url}/nope`, 1)).rejects.toThrow(
      `POST ${url}/nope/users answered 404, not 201; is --url the users API?`,
    );
  });

  test.each([
    [[], '--url is required'],
    [['--url', 'ftp://x'], '--url must be an http(s) URL, got "ftp://x"'],
    [['--url', 'http://x', '--connections', '0'], '--connections must be an integer from 1 to 10000, got "0"'],
    [['--url', 'http://x', '--duration', '5', '--amount', '10'], '--duration and --amount are mutually exclusive'],
    [['--url', 'http://x', '--post-percent', '150'], '--post-percent must be an integer from 0 to 100, got "150"'],
  ])('arguments %j are refused: %s', (argv, message) => {
    expect(() => parseLoadTestArgs(argv)).toThrow(UsageError);
    expect(() => parseLoadTestArgs(argv)).toThrow(message);
  });

  test('defaults: 50 connections for 10 seconds, 20 % POST; --json turns the progress display off', () => {
    expect(parseLoadTestArgs(['--url', 'http://api.example/'])).toEqual({
      url: 'http://api.example',
      connections: 50,
      duration: 10,
      amount: undefined,
      postPercent: 20,
      timeoutSeconds: 10,
      progress: true,
      json: false,
    });
    expect(parseLoadTestArgs(['--url', 'http://x', '--json'])).toMatchObject({ progress: false, json: true });
    expect(parseLoadTestArgs(['--help'])).toBe('help');
  });
});
