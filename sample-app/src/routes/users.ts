import { Request, RequestHandler, Router } from 'express';
import { HttpError, methodNotAllowed, validationError } from '../errors';
import { EMAIL_MAX, NAME_MAX, User } from '../models/user';
import { UserReads } from '../user-reads';
const LIMIT_DEFAULT = 20;
const LIMIT_MAX = 100;
const OFFSET_MAX = 1_000_000;
const ID_MAX = 2_147_483_647;
const FIELDS = ['email', 'name'] as const;
// Deliberately simple: one @, no spaces, a dot in the domain. The model validates again with isEmail.
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

type UserInput = Partial<Record<(typeof FIELDS)[number], string>>;

function parseInteger(raw: unknown, field: string, min: number, max: number, fallback?: number): number {
  if (raw === undefined && fallback !== undefined) return fallback;
  if (typeof raw !== 'string' || !/^\d{1,10}$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw validationError(field, `must be an integer from ${min} to ${max}`);
  }
  return Number(raw);
}

function parseId(raw: string): number {
  if (!/^\d{1,10}$/.test(raw) || Number(raw) < 1 || Number(raw) > ID_MAX) {
    throw new HttpError(400, 'invalid_id', `id must be an integer from 1 to ${ID_MAX}`, 'id');
  }
  return Number(raw);
}

/** Checks a user body at the edge; `partial` for PATCH. Returns normalised values. */
function parseUserBody(req: Request, partial: boolean): UserInput {
  if (!req.is('application/json')) {
    throw new HttpError(415, 'unsupported_media_type', 'send the body as application/json', 'body');
  }
  const body: unknown = req.body;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw validationError('body', 'must be a JSON object');
  }
  const unknown = Object.keys(body).find((key) => !(FIELDS as readonly string[]).includes(key));
  if (unknown !== undefined) {
    throw validationError(unknown, `is not a known field; allowed: ${FIELDS.join(', ')}`);
  }
  const input = body as Record<string, unknown>;
  const result: UserInput = {};
  for (const field of FIELDS) {
    const value = input[field];
    if (value === undefined) {
      if (!partial) throw validationError(field, 'is required');
      continue;
    }
    if (typeof value !== 'string') throw validationError(field, 'must be a string');
    // PostgreSQL text cannot hold NUL, and Sequelize would escape it into a different string instead of failing.
    if (value.includes('\u0000')) throw validationError(field, 'must not contain the NUL character (\\u0000)');
    result[field] = value.trim();
  }
  if (partial && Object.keys(result).length === 0) {
    throw validationError('body', `must contain at least one of ${FIELDS.join(', ')}`);
  }
  if (result.email !== undefined) {
    result.email = result.email.toLowerCase();
    if (result.email.length > EMAIL_MAX || !EMAIL.test(result.email)) {
      throw validationError('email', `must be a valid e-mail address of at most ${EMAIL_MAX} characters`);
    }
  }
  if (result.name !== undefined && (result.name.length < 1 || result.name.length > NAME_MAX)) {
    throw validationError('name', `must be 1 to ${NAME_MAX} characters`);
  }
  return result;
}

const notFound = () => new HttpError(404, 'not_found', 'user not found', 'id');

/** What the users API works with: the model for writes and lists, and the hot read path. */
export interface UsersStore {
  readonly model: typeof User;
  readonly reads: UserReads;
}

/** The users API, mounted at `/users`; `jsonBody` parses the request body of the routes that take one. */
export function usersRouter(store: UsersStore, jsonBody: RequestHandler): Router {
  const { model, reads } = store;
  const findUser = async (id: number): Promise<User> => {
    const user = await model.findByPk(id);
    if (!user) throw notFound();
    return user;
  };
  const router = Router();
  router
    .route('/')
    .get(async (req, res) => {
      const limit = parseInteger(req.query.limit, 'limit', 1, LIMIT_MAX, LIMIT_DEFAULT);
      const offset = parseInteger(req.query.offset, 'offset', 0, OFFSET_MAX, 0);
      const { rows, count } = await model.findAndCountAll({ limit, offset, order: [['id', 'ASC']] });
      res.json({ data: rows, total: count, limit, offset });
    })
    .post(jsonBody, async (req, res) => {
      const input = parseUserBody(req, false);
      const user = await model.create({ email: input.email!, name: input.name! });
      res.status(201).location(`/users/${user.id}`).json(user);
    })
    .all(methodNotAllowed(['GET', 'POST']));

  router
    .route('/:id')
    .get(async (req, res) => {
      const user = await reads.findById(parseId(req.params.id));
      if (!user) throw notFound();
      res.json(user);
    })
    .put(jsonBody, async (req, res) => {
      const id = parseId(req.params.id);
      const input = parseUserBody(req, false);
      const user = await findUser(id);
      res.json(await user.update(input));
    })
    .patch(jsonBody, async (req, res) => {
      const id = parseId(req.params.id);
      const input = parseUserBody(req, true);
      const user = await findUser(id);
      res.json(await user.update(input));
    })
    .delete(async (req, res) => {
      const deleted = await model.destroy({ where: { id: parseId(req.params.id) } });
      if (deleted === 0) throw notFound();
      res.sendStatus(204);
    })
    .all(methodNotAllowed(['GET', 'PUT', 'PATCH', 'DELETE']));
  return router;
}
