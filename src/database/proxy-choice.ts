import { Duration } from 'aws-cdk-lib';

/** Options of `RdsProxy.iamAuthenticated()`. */
export interface RdsProxyOptions {
  /**
   * The share of the instance's `max_connections` the proxy may open, 1 to 100. The rest is left to the app-user
   * bootstrap, the master's rotation and a reserve for administrators; the construct checks the sum at synth time.
   *
   * @default 80
   */
  readonly maxConnectionsPercent?: number;

  /**
   * How long a client waits for a database connection from the proxy's pool before the proxy refuses it, 1 second to
   * 1 hour.
   *
   * @default Duration.seconds(30)
   */
  readonly borrowTimeout?: Duration;
}

/**
 * An RDS Proxy in front of the database, or none.
 *
 * With a proxy, authentication is end-to-end IAM (`DefaultAuthScheme.IAM_AUTH`): the tasks connect to the proxy with
 * IAM authentication tokens signed by their task role, and the proxy connects to the database with IAM as the same
 * user. The app user then has no password at all: no app secret, no rotation of it and no redeploy after one (a
 * password-authenticated proxy accepts only the login its secret names, so tasks holding the previous login of the
 * alternating-users rotation would fail on every new connection until they were replaced). The master user keeps
 * its secret and its rotation; only the bootstrap and the rotation function use it, directly on the instance.
 *
 * The app must sign a token for each new connection (see docs/credentials.md): the container gets the proxy's
 * endpoint, port, database and user, and the IAM variable (`DB_IAM_AUTH=true` unless `container.databaseVariables`
 * names another) instead of a password.
 */
export class RdsProxy {
  /** No proxy: the tasks connect to the instance with the app user's password, rotated by alternating users. */
  public static none(): RdsProxy {
    return new RdsProxy('RdsProxy.none()');
  }

  /**
   * An RDS Proxy with end-to-end IAM authentication and TLS required on both legs. Billed per vCPU of the instance
   * (at least 2) at the RDS Proxy rate of the region: about 21.90 USD a month for 2 vCPUs in us-east-1.
   */
  public static iamAuthenticated(options: RdsProxyOptions = {}): RdsProxy {
    return new RdsProxy('RdsProxy.iamAuthenticated()', options);
  }

  private constructor(
    private readonly description: string,
    /** @internal The proxy's options; undefined means no proxy. */
    public readonly _options?: RdsProxyOptions,
  ) {}

  /** How this choice was made, as code. */
  public toString(): string {
    return this.description;
  }
}
