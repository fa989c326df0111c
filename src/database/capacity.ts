import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { isKnown, PropChecker } from '../internal/validation';

const GIB = 1024 ** 3;
/** Memory (GiB) of the common sizes of the general-purpose and burstable classes; memory-optimised classes double it. */
const SIZE_MEMORY_GIB: Record<string, number> = {
  nano: 0.5,
  micro: 1,
  small: 2,
  medium: 4,
  large: 8,
  xlarge: 16,
  '2xlarge': 32,
  '4xlarge': 64,
  '8xlarge': 128,
  '12xlarge': 192,
  '16xlarge': 256,
  '24xlarge': 384,
};

/**
 * Memory of an instance type in bytes, from its size (and doubled for r/x/z classes); undefined when unknown.
 * Used only to derive defaults that can each be overridden.
 */
export function instanceMemoryBytes(instanceType: ec2.InstanceType): number | undefined {
  const [family, size] = instanceType.toString().split('.');
  const base = SIZE_MEMORY_GIB[size];
  if (base === undefined || !family) return undefined;
  const factor = /^[rxz]/.test(family) ? 2 : 1;
  return base * factor * GIB;
}

/** PostgreSQL on RDS: max_connections = LEAST(DBInstanceClassMemory / 9531392, 5000). */
export function maxConnections(memoryBytes: number): number {
  return Math.min(Math.floor(memoryBytes / 9531392), 5000);
}

/** Who holds connections to the database at most, for the synth-time budget. */
export interface ConnectionDemand {
  readonly maxCapacity: number;
  readonly poolSize: number;
  /** The migration gate's task holds a pool too. */
  readonly migrationTask: boolean;
  /** The rotation functions (master and app) each hold a connection while they run. */
  readonly rotation: boolean;
  readonly reserve: number;
  /** The memory that sets `max_connections`; undefined when unknown (the check is skipped). */
  readonly memoryBytes?: number;
  /** What sets that memory, as the message names it, e.g. "`database.instanceType` t4g.micro". */
  readonly capacitySource: string;
  /** How to give it more, e.g. "choose a larger `database.instanceType`". */
  readonly moreCapacity: string;
  /**
   * With RDS Proxy, the share of `max_connections` (percent) the proxy may open: the tasks and the migration task
   * connect to the proxy, which multiplexes them over at most that many, and the app has no password to rotate.
   */
  readonly proxyMaxConnectionsPercent?: number;
}

/**
 * Refuses a configuration whose connections at full scale cannot fit the instance class's `max_connections`: then
 * scale-out would end in connection errors, not in more capacity. Skipped when a value is a token or the class's
 * memory is unknown.
 */
export function checkConnectionBudget(check: PropChecker, demand: ConnectionDemand): void {
  const memory = demand.memoryBytes;
  if (memory === undefined || !isKnown(demand.maxCapacity) || !isKnown(demand.poolSize)) return;
  const limit = maxConnections(memory);
  const proxyPercent = demand.proxyMaxConnectionsPercent;
  const parts: string[] = [];
  let total = 0;
  if (proxyPercent !== undefined) {
    if (!isKnown(proxyPercent)) return;
    const share = Math.floor((limit * proxyPercent) / 100);
    parts.push(`the proxy's \`maxConnectionsPercent\` (${proxyPercent} % of ${limit} = ${share})`);
    total += share;
  } else {
    parts.push(`\`scaling.maxCapacity\` (${demand.maxCapacity}) x \`container.databasePoolSize\` (${demand.poolSize})`);
    total += demand.maxCapacity * demand.poolSize;
    if (demand.migrationTask) {
      parts.push(`the migration task (${demand.poolSize})`);
      total += demand.poolSize;
    }
  }
  parts.push('the app-user bootstrap (1)');
  total += 1;
  if (demand.rotation) {
    // Behind a proxy only the master's password rotates.
    const functions = proxyPercent !== undefined ? 1 : 2;
    parts.push(`the rotation function${functions > 1 ? 's' : ''} (${functions})`);
    total += functions;
  }
  parts.push(`a reserve (${demand.reserve})`);
  total += demand.reserve;
  const remedy =
    proxyPercent !== undefined
      ? `lower \`database.proxy\` maxConnectionsPercent, or ${demand.moreCapacity}`
      : `lower \`scaling.maxCapacity\` or \`container.databasePoolSize\`, ${demand.moreCapacity}, or put RdsProxy.iamAuthenticated() in front (\`database.proxy\`)`;
  check.refuse(
    total > limit,
    `${parts.join(' + ')} = ${total} connections, more than the ${limit} that ${demand.capacitySource} allows (max_connections); ${remedy}.`,
  );
}
