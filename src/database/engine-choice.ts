import { Duration } from 'aws-cdk-lib';
import * as rds from 'aws-cdk-lib/aws-rds';

/** Options of `DatabaseEngine.auroraServerless()`. */
export interface AuroraServerlessOptions {
  /**
   * Aurora PostgreSQL version, 14 or newer.
   *
   * @default AuroraPostgresEngineVersion.VER_17_7
   */
  readonly version?: rds.AuroraPostgresEngineVersion;

  /**
   * Least capacity in Aurora capacity units (about 2 GiB of memory each), 0 to 256 in steps of 0.5. 0 pauses the
   * database after `autoPause` without connections; the first connection then waits up to about 15 seconds while it
   * resumes. 0 cannot be combined with `database.proxy` (RDS Proxy keeps connections open).
   *
   * @default - 0 for dev, 0.5 for prod
   */
  readonly minCapacity?: number;

  /**
   * Most capacity in Aurora capacity units, 1 to 256 in steps of 0.5; it also sets `max_connections`.
   *
   * @default - 2 for dev, 16 for prod
   */
  readonly maxCapacity?: number;

  /**
   * How long the database waits without connections before it pauses, 5 minutes to 24 hours; only with a
   * `minCapacity` of 0.
   *
   * @default - Duration.minutes(5) when `minCapacity` is 0
   */
  readonly autoPause?: Duration;

  /**
   * Serverless readers beside the writer, 0 to 15, in other Availability Zones: failover targets, and a reader
   * endpoint the container gets as `DB_READ_HOST`.
   *
   * @default - 0 for dev, 1 for prod
   */
  readonly readers?: number;
}

/** Options of `DatabaseEngine.auroraProvisioned()`. */
export interface AuroraProvisionedOptions {
  /**
   * Aurora PostgreSQL version, 14 or newer.
   *
   * @default AuroraPostgresEngineVersion.VER_17_7
   */
  readonly version?: rds.AuroraPostgresEngineVersion;

  /**
   * Readers beside the writer, 0 to 15, of the writer's class (`database.instanceType`), in other Availability
   * Zones: failover targets, and a reader endpoint the container gets as `DB_READ_HOST`.
   *
   * @default - 0 for dev, 1 for prod
   */
  readonly readers?: number;
}

/**
 * Which database runs: one RDS for PostgreSQL instance (Multi-AZ in prod), or an Aurora PostgreSQL cluster, serverless
 * or provisioned, with readers. Every choice gets the same app user and bootstrap, migration gate, rotation, TLS,
 * encryption, backups and deletion protection per profile.
 */
export class DatabaseEngine {
  /**
   * RDS for PostgreSQL, one instance: `database.engineVersion`, `instanceType`, `multiAz` and the storage props apply.
   */
  public static rdsPostgres(): DatabaseEngine {
    return new DatabaseEngine('DatabaseEngine.rdsPostgres()', 'instance', {});
  }

  /**
   * Aurora PostgreSQL Serverless v2: capacity between `minCapacity` and `maxCapacity` ACUs (0.12 USD per ACU-hour
   * in us-east-1), storage that grows by itself (0.10 USD per GB-month). Dev scales to zero by default.
   */
  public static auroraServerless(options: AuroraServerlessOptions = {}): DatabaseEngine {
    return new DatabaseEngine('DatabaseEngine.auroraServerless()', 'serverless', options);
  }

  /**
   * Aurora PostgreSQL on provisioned instances of `database.instanceType` (an r-, x2g- or t-class medium or large),
   * a writer and `readers`.
   */
  public static auroraProvisioned(options: AuroraProvisionedOptions = {}): DatabaseEngine {
    return new DatabaseEngine('DatabaseEngine.auroraProvisioned()', 'provisioned', options);
  }

  private constructor(
    private readonly description: string,
    /** @internal */
    public readonly _kind: 'instance' | 'serverless' | 'provisioned',
    /** @internal */
    public readonly _options: AuroraServerlessOptions,
  ) {}

  /** How this choice was made, as code. */
  public toString(): string {
    return this.description;
  }
}
