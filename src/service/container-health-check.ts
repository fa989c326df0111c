import * as ecs from 'aws-cdk-lib/aws-ecs';

/** The container's own health check (Docker `HEALTHCHECK`), run by the ECS agent. */
export class ContainerHealthCheck {
  /**
   * `node` fetches `http://127.0.0.1:<container.port><loadBalancer.healthCheck.path>` every 30 seconds (timeout 5 s,
   * 3 retries, 30 s start period). Needs Node.js 18 or later in the image.
   */
  public static nodeFetch(): ContainerHealthCheck {
    return new ContainerHealthCheck('ContainerHealthCheck.nodeFetch()', true);
  }

  /** Your own health check command and timings. */
  public static fromHealthCheck(healthCheck: ecs.HealthCheck): ContainerHealthCheck {
    return new ContainerHealthCheck('ContainerHealthCheck.fromHealthCheck(healthCheck)', false, healthCheck);
  }

  /** No container health check: for images without Node.js that you do not give a command for. */
  public static none(): ContainerHealthCheck {
    return new ContainerHealthCheck('ContainerHealthCheck.none()', false);
  }

  private constructor(
    private readonly description: string,
    /** @internal */
    public readonly _nodeFetch: boolean,
    /** @internal */
    public readonly _healthCheck?: ecs.HealthCheck,
  ) {}

  /** How this choice was made, as code. */
  public toString(): string {
    return this.description;
  }
}
