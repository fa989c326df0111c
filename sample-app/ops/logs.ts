import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { OperatorError } from './stack';

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `--since 15m` (s, m, h or d) as a start time in milliseconds. */
export function parseSince(value: string, now = Date.now()): number {
  const match = /^(\d+)([smhd])$/.exec(value.trim());
  if (!match || Number(match[1]) === 0) {
    throw new OperatorError(
      `--since must be a positive number with a unit s, m, h or d (for example 15m or 2h), got "${value}".`,
    );
  }
  return now - Number(match[1]) * UNITS[match[2]];
}

export interface LogLine {
  readonly timestamp: number;
  readonly stream: string;
  readonly message: string;
}

/** Reads the log group's events from `startTime`, following every page, optionally with a CloudWatch filter pattern. */
export async function fetchLogs(
  logs: CloudWatchLogsClient,
  logGroupName: string,
  startTime: number,
  filterPattern?: string,
  limit = 10_000,
): Promise<LogLine[]> {
  const lines: LogLine[] = [];
  let nextToken: string | undefined;
  do {
    const page = await logs.send(new FilterLogEventsCommand({ logGroupName, startTime, filterPattern, nextToken }));
    for (const event of page.events ?? []) {
      lines.push({
        timestamp: event.timestamp ?? 0,
        stream: event.logStreamName ?? '',
        message: (event.message ?? '').trimEnd(),
      });
    }
    nextToken = page.nextToken;
  } while (nextToken && lines.length < limit);
  return lines.sort((a, b) => a.timestamp - b.timestamp).slice(0, limit);
}

export function formatLogLine(line: LogLine): string {
  return `${new Date(line.timestamp).toISOString()} ${line.stream.split('/').pop()} ${line.message}`;
}
