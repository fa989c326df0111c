/** Options of the alarms that roll a deployment back. */
export interface RollbackAlarmOptions {
  /**
   * Share of the requests answered with a 5xx by the tasks, in percent, above which a deployment is rolled back:
   * 2 of 3 one-minute periods. 1 to 100.
   *
   * @default 5
   */
  readonly target5xxPercent?: number;

  /**
   * Requests per minute below which the 5xx share is not judged, so a handful of requests (or none) cannot roll a
   * deployment back. At least 1.
   *
   * @default 20
   */
  readonly minimumRequestsPerMinute?: number;

  /**
   * Unhealthy targets at which a deployment is rolled back: 2 one-minute periods in a row. 1 to 1000.
   *
   * @default 1
   */
  readonly unhealthyHostCount?: number;
}

/**
 * ECS deployment alarms: while a deployment runs, an alarm in ALARM makes ECS roll the service back to the previous
 * task definition, and CloudFormation reports the failed deployment. The circuit breaker catches tasks that never
 * become healthy; these catch a version that passes its health check and then serves errors.
 */
export class DeploymentAlarms {
  /** Roll back on a 5xx share above a threshold, or on unhealthy targets. */
  public static rollbackOnErrors(options: RollbackAlarmOptions = {}): DeploymentAlarms {
    return new DeploymentAlarms('DeploymentAlarms.rollbackOnErrors()', options);
  }

  /** No deployment alarms: the circuit breaker alone rolls back, only tasks that never become healthy. */
  public static none(): DeploymentAlarms {
    return new DeploymentAlarms('DeploymentAlarms.none()');
  }

  private constructor(
    private readonly description: string,
    /** @internal */
    public readonly _rollback?: RollbackAlarmOptions,
  ) {}

  /** How this choice was made, as code. */
  public toString(): string {
    return this.description;
  }
}
