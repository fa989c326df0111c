import { Duration } from 'aws-cdk-lib';

/** Options shared by the strategies that move traffic between two target groups. */
export interface TrafficShiftBakeOptions {
  /**
   * How long the previous version keeps running after all traffic moved to the new one, ready for an instant
   * rollback; the deployment alarms stay active during it. 0 to 1440 minutes, whole minutes.
   *
   * @default Duration.minutes(5)
   */
  readonly bakeTime?: Duration;
}

/** Blue/green: the new version starts beside the old one and takes all traffic at once. */
export interface BlueGreenOptions extends TrafficShiftBakeOptions {}

/** Canary: a share of the traffic first, then the rest. */
export interface CanaryOptions extends TrafficShiftBakeOptions {
  /**
   * Share of production traffic the new version gets first, in percent: a multiple of 0.1 from 0.1 to 100.
   *
   * @default 5
   */
  readonly percent?: number;

  /**
   * How long the canary share runs before the rest of the traffic moves: 0 to 1440 minutes, whole minutes.
   *
   * @default Duration.minutes(10)
   */
  readonly canaryBakeTime?: Duration;
}

/** Linear: the traffic moves in equal steps. */
export interface LinearOptions extends TrafficShiftBakeOptions {
  /**
   * Share of production traffic moved at each step, in percent: a multiple of 0.1 from 3 to 100.
   *
   * @default 10
   */
  readonly stepPercent?: number;

  /**
   * How long each step runs before the next: 0 to 1440 minutes, whole minutes.
   *
   * @default Duration.minutes(6)
   */
  readonly stepBakeTime?: Duration;
}

/** @internal */
export type RolloutKind = 'rolling' | 'blueGreen' | 'canary' | 'linear';

/**
 * How a new version replaces the running one, on ECS's own deployment strategies. Every strategy keeps the migration
 * gate (it runs once, before the service is touched), the circuit breaker and the deployment alarms; the strategies
 * that move traffic between two target groups add a second target group and a listener rule whose weights ECS moves.
 */
export class RolloutStrategy {
  /** Replace tasks a few at a time behind one target group (100 % minimum healthy, 200 % maximum). */
  public static rolling(): RolloutStrategy {
    return new RolloutStrategy('RolloutStrategy.rolling()', 'rolling', {});
  }

  /** Start the new version beside the old one, move all traffic at once, keep the old one for the bake time. */
  public static blueGreen(options: BlueGreenOptions = {}): RolloutStrategy {
    return new RolloutStrategy('RolloutStrategy.blueGreen()', 'blueGreen', options);
  }

  /** Move a share of the traffic first, the rest after the canary's bake time. */
  public static canary(options: CanaryOptions = {}): RolloutStrategy {
    return new RolloutStrategy('RolloutStrategy.canary()', 'canary', options);
  }

  /** Move the traffic in equal steps, each after a bake time. */
  public static linear(options: LinearOptions = {}): RolloutStrategy {
    return new RolloutStrategy('RolloutStrategy.linear()', 'linear', options);
  }

  private constructor(
    private readonly description: string,
    /** @internal */
    public readonly _kind: RolloutKind,
    /** @internal */
    public readonly _options: CanaryOptions & LinearOptions,
  ) {}

  /** How this choice was made, as code. */
  public toString(): string {
    return this.description;
  }
}
