/** The names of the environment variables that carry the database settings into the container. */
export interface DatabaseVariableNames {
  /** The database host. */
  readonly host: string;
  /** The database port. */
  readonly port: string;
  /** The database name. */
  readonly name: string;
  /** The app user's name. */
  readonly user: string;
  /** The app user's password (not set behind RDS Proxy, where the app authenticates with IAM). */
  readonly password: string;
  /**
   * The connections one task may hold (`container.databasePoolSize`).
   *
   * @default 'DB_POOL_MAX'
   */
  readonly poolSize?: string;
  /**
   * Set to `true` instead of the password variable when `database.proxy` puts RDS Proxy in front: the app then signs
   * an IAM authentication token as the password of each new connection.
   *
   * @default 'DB_IAM_AUTH'
   */
  readonly iamAuthentication?: string;
  /**
   * The Aurora reader endpoint's address, set when the cluster has readers (`database.engine` readers): for
   * read-only queries that may lag the writer by milliseconds.
   *
   * @default 'DB_READ_HOST'
   */
  readonly readHost?: string;
}

/** Options of `DatabaseVariables.libpq()`. */
export interface LibpqVariablesOptions {
  /**
   * The variable that carries the pool size (libpq has none of its own).
   *
   * @default 'DB_POOL_MAX'
   */
  readonly poolSize?: string;

  /**
   * The variable set to `true` behind RDS Proxy, where the app authenticates with IAM (libpq has none of its own).
   *
   * @default 'DB_IAM_AUTH'
   */
  readonly iamAuthentication?: string;

  /**
   * The variable that carries the Aurora reader endpoint's address (libpq has none of its own).
   *
   * @default 'DB_READ_HOST'
   */
  readonly readHost?: string;
}

/** Secret fields of the app's database secret, by setting. */
const SECRET_FIELDS = { host: 'host', port: 'port', name: 'dbname', user: 'username', password: 'password' } as const;

/**
 * How the container receives the database settings: five ECS secrets read from the app's database secret (so a
 * rotation reaches each new task whatever the names), and the pool size as a plain variable. Behind RDS Proxy there is
 * no secret: host (the proxy's endpoint), port, name and user are plain variables, and the IAM variable is `true`.
 */
export class DatabaseVariables {
  /** `DB_HOST`, `DB_PORT`, `DB_NAME`, `DB_USER`, `DB_PASSWORD` and `DB_POOL_MAX` (what the sample app reads). */
  public static db(): DatabaseVariables {
    return new DatabaseVariables('DatabaseVariables.db()', {
      host: 'DB_HOST',
      port: 'DB_PORT',
      name: 'DB_NAME',
      user: 'DB_USER',
      password: 'DB_PASSWORD',
    });
  }

  /**
   * libpq's own variables, `PGHOST`, `PGPORT`, `PGDATABASE`, `PGUSER` and `PGPASSWORD`, which libpq and the clients
   * built on it or following it (psql, psycopg, node-postgres, pgx, Rails) read without code; the pool size as
   * `poolSize` (default `DB_POOL_MAX`).
   */
  public static libpq(options: LibpqVariablesOptions = {}): DatabaseVariables {
    return new DatabaseVariables('DatabaseVariables.libpq()', {
      host: 'PGHOST',
      port: 'PGPORT',
      name: 'PGDATABASE',
      user: 'PGUSER',
      password: 'PGPASSWORD',
      poolSize: options.poolSize,
      iamAuthentication: options.iamAuthentication,
      readHost: options.readHost,
    });
  }

  /** Names of your own. */
  public static custom(names: DatabaseVariableNames): DatabaseVariables {
    return new DatabaseVariables('DatabaseVariables.custom()', names);
  }

  private constructor(
    private readonly description: string,
    /** @internal */
    public readonly _names: DatabaseVariableNames,
  ) {}

  /** @internal The secret field each injected variable reads. */
  public _secretFields(): Record<string, string> {
    const n = this._names;
    return {
      [n.host]: SECRET_FIELDS.host,
      [n.port]: SECRET_FIELDS.port,
      [n.name]: SECRET_FIELDS.name,
      [n.user]: SECRET_FIELDS.user,
      [n.password]: SECRET_FIELDS.password,
    };
  }

  /** @internal The pool-size variable. */
  public get _poolSize(): string {
    return this._names.poolSize ?? 'DB_POOL_MAX';
  }

  /** @internal The variable that carries the reader endpoint. */
  public get _readHost(): string {
    return this._names.readHost ?? 'DB_READ_HOST';
  }

  /** @internal The variable that says the app authenticates with IAM. */
  public get _iamAuthentication(): string {
    return this._names.iamAuthentication ?? 'DB_IAM_AUTH';
  }

  /** How this choice was made, as code. */
  public toString(): string {
    return this.description;
  }
}
