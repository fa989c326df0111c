import { Pool } from 'pg';
import { ConnectionError, DatabaseError, Model, ModelStatic } from 'sequelize';
import { User } from './models/user';

/** A user as the API answers it: the model's attributes, by their names. */
export type UserJson = ReturnType<User['toJSON']>;

const SQLSTATE = /^[0-9A-Z]{5}$/;
const quote = (identifier: string) => `"${identifier.replace(/"/g, '""')}"`;

/**
 * The hot read path of the users API, `GET /users/:id`, on its own pg pool: one parameterised statement, rows as pg
 * returns them. It skips Sequelize's per-query work (option merging, bind rewriting, hooks, the retry wrapper, a
 * captured stack trace per query, model instances), which costs this endpoint more CPU than the query itself
 * (docs/performance.md).
 *
 * It cannot drift from the model: the column list is derived from the model's attributes (database column AS
 * attribute name), so a column added to the model is read here too, and a test compares its answer with the model's
 * `toJSON()`. Errors come out as Sequelize's error classes, so the error handler maps them like every other path:
 * an SQL error is a `DatabaseError`, a failure to reach or hear from the server a `ConnectionError` (503).
 */
export class UserReads {
  /** The statement `findById` runs. */
  public readonly selectById: string;

  constructor(
    private readonly pool: Pool,
    model: ModelStatic<Model> = User,
  ) {
    const attributes: [string, { field?: string }][] = Object.entries(model.getAttributes());
    const column = (name: string) => quote(attributes.find(([n]) => n === name)?.[1].field ?? name);
    const columns = attributes.map(([name]) => `${column(name)} AS ${quote(name)}`).join(', ');
    const table = model.getTableName();
    const tableName = typeof table === 'string' ? quote(table) : `${quote(table.schema)}.${quote(table.tableName)}`;
    this.selectById = `SELECT ${columns} FROM ${tableName} WHERE ${column(model.primaryKeyAttribute)} = $1`;
  }

  /** The user with this id, or undefined. */
  public async findById(id: number): Promise<UserJson | undefined> {
    let client;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw new ConnectionError(asError(err));
    }
    let failure: Error | undefined;
    try {
      const result = await client.query<UserJson>(this.selectById, [id]);
      return result.rows[0];
    } catch (err) {
      const original = asError(err);
      const code = (original as Error & { code?: unknown }).code;
      if (typeof code === 'string' && SQLSTATE.test(code)) {
        throw new DatabaseError(Object.assign(original, { sql: this.selectById, parameters: [id] }));
      }
      // A timeout, reset or termination leaves the connection in an unknown state: it is discarded, not reused.
      failure = original;
      throw new ConnectionError(original);
    } finally {
      client.release(failure);
    }
  }
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
