import * as ec2 from 'aws-cdk-lib/aws-ec2';

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
