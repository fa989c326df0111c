import * as sns from 'aws-cdk-lib/aws-sns';

/** Thresholds of the alarms; each overrides the profile's default. */
export interface AlarmThresholds {
  /**
   * 5xx responses from the tasks in 5 minutes.
   *
   * @default - 20 for dev, 10 for prod
   */
  readonly target5xxCount?: number;

  /**
   * 5xx responses from the load balancer itself in 5 minutes.
   *
   * @default - 20 for dev, 10 for prod
   */
  readonly loadBalancer5xxCount?: number;

  /**
   * p99 target response time in seconds, three 5-minute periods in a row. Above 0, at most 60.
   *
   * @default - 3 for dev, 2 for prod
   */
  readonly p99LatencySeconds?: number;

  /**
   * Unhealthy targets for 5 minutes.
   *
   * @default 1
   */
  readonly unhealthyHostCount?: number;

  /**
   * Service CPU utilisation (percent) for 15 minutes.
   *
   * @default - 90 for dev, 85 for prod
   */
  readonly serviceCpuPercent?: number;

  /**
   * Service memory utilisation (percent) for 15 minutes.
   *
   * @default - 90 for dev, 85 for prod
   */
  readonly serviceMemoryPercent?: number;

  /**
   * Database CPU utilisation (percent) for 15 minutes.
   *
   * @default - 90 for dev, 80 for prod
   */
  readonly databaseCpuPercent?: number;

  /**
   * Free database storage (GiB) below which the alarm fires.
   *
   * @default - 10 % of the allocated storage
   */
  readonly databaseFreeStorageGiB?: number;

  /**
   * Freeable database memory (MiB) below which the alarm fires, for 15 minutes.
   *
   * @default - 10 % of the instance class's memory (128 MiB when the class is not known)
   */
  readonly databaseFreeableMemoryMiB?: number;

  /**
   * Database connections at which the alarm fires.
   *
   * @default - 80 % of the instance class's max_connections (LEAST(memory / 9531392, 5000)); 80 when the class is not known
   */
  readonly databaseConnections?: number;
}

/** Options of alarms that notify a topic. */
export interface AlarmOptions {
  /**
   * Thresholds; each one overrides the profile's default.
   *
   * @default - per the profile
   */
  readonly thresholds?: AlarmThresholds;
}

/** Options of alarms that notify the topic the construct creates. */
export interface NewTopicAlarmOptions extends AlarmOptions {
  /**
   * E-mail address subscribed to the topic (the recipient confirms it once).
   *
   * @default - no subscription
   */
  readonly email?: string;
}

/** The construct's alarms, and where they send their notifications (on ALARM and on OK). */
export class Alarms {
  /** Alarms to a new topic, encrypted with a new KMS key and TLS only. */
  public static toNewTopic(options: NewTopicAlarmOptions = {}): Alarms {
    return new Alarms('Alarms.toNewTopic()', true, options.thresholds, undefined, options.email);
  }

  /** Alarms to your topic; subscribe to it yourself. */
  public static toTopic(topic: sns.ITopic, options: AlarmOptions = {}): Alarms {
    return new Alarms('Alarms.toTopic(topic)', true, options.thresholds, topic);
  }

  /** No alarms. */
  public static none(): Alarms {
    return new Alarms('Alarms.none()', false);
  }

  private constructor(
    private readonly description: string,
    /** @internal */
    public readonly _enabled: boolean,
    /** @internal */
    public readonly _thresholds?: AlarmThresholds,
    /** @internal */
    public readonly _topic?: sns.ITopic,
    /** @internal */
    public readonly _email?: string,
  ) {}

  /** How this choice was made, as code. */
  public toString(): string {
    return this.description;
  }
}
