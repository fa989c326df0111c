import { Express } from 'express';
import request from 'supertest';
import { createMigratedDatabase, query, silentLogger, TestDatabase } from './support';
import { createApp } from '../src/app';
import { Database } from '../src/db';

let db: TestDatabase;
let database: Database;
let app: Express;

beforeAll(async () => {
  ({ db, database } = await createMigratedDatabase());
  app = createApp({ database, logger: silentLogger, bodyLimit: '1kb' });
});

afterAll(async () => {
  await database?.close();
  await db?.drop();
});

beforeEach(async () => {
  await query(db.config, 'TRUNCATE users RESTART IDENTITY');
});

const userCount = async () => Number((await query(db.config, 'SELECT count(*) AS n FROM users'))[0].n);
const create = (body: unknown) =>
  request(app)
    .post('/users')
    .send(body as object);

describe('health and readiness', () => {
  test('GET /health answers ok', async () => {
    const res = await request(app).get('/health').expect(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  test('GET /ready checks the database', async () => {
    const res = await request(app).get('/ready').expect(200);
    expect(res.body).toEqual({ status: 'ready' });
  });

  test('every response carries a request id, and a sane given one is kept', async () => {
    const generated = await request(app).get('/health');
    expect(generated.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const given = await request(app).get('/health').set('x-request-id', 'trace-123');
    expect(given.headers['x-request-id']).toBe('trace-123');
    const hostile = await request(app).get('/health').set('x-request-id', 'a b<script>');
    expect(hostile.headers['x-request-id']).not.toBe('a b<script>');
  });
});

describe('users CRUD', () => {
  test('POST creates a user: 201, Location, normalised e-mail, timestamps', async () => {
    const res = await create({ email: '  Ada@Example.COM ', name: ' Ada Lovelace ' }).expect(201);
    expect(res.headers.location).toBe(`/users/${res.body.id}`);
    expect(res.body).toEqual({
      id: 1,
      email: 'ada@example.com',
      name: 'Ada Lovelace',
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
  });

  test('GET /users/:id reads it back', async () => {
    const created = (await create({ email: 'a@example.com', name: 'A' })).body;
    const res = await request(app).get(`/users/${created.id}`).expect(200);
    expect(res.body).toEqual(created);
    // The hot path writes its own response: the same headers and bytes Express's res.json would send.
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(Number(res.headers['content-length'])).toBe(Buffer.byteLength(res.text));
    expect(res.text).toBe(JSON.stringify(created));
    const head = await request(app).head(`/users/${created.id}`).expect(200);
    expect(head.headers['content-length']).toBe(res.headers['content-length']);
    expect(head.text).toBeUndefined();
  });

  test('PUT replaces both fields', async () => {
    const { id } = (await create({ email: 'a@example.com', name: 'A' })).body;
    const res = await request(app).put(`/users/${id}`).send({ email: 'b@example.com', name: 'B' }).expect(200);
    expect(res.body).toMatchObject({ id, email: 'b@example.com', name: 'B' });
  });

  test('PATCH changes only what it is given', async () => {
    const { id } = (await create({ email: 'a@example.com', name: 'A' })).body;
    const res = await request(app).patch(`/users/${id}`).send({ name: 'Renamed' }).expect(200);
    expect(res.body).toMatchObject({ id, email: 'a@example.com', name: 'Renamed' });
  });

  test('DELETE answers 204 and the user is gone', async () => {
    const { id } = (await create({ email: 'a@example.com', name: 'A' })).body;
    await request(app).delete(`/users/${id}`).expect(204);
    await request(app).get(`/users/${id}`).expect(404);
    expect(await userCount()).toBe(0);
  });

  test('GET /users pages in a stable order with the total count', async () => {
    for (let i = 1; i <= 7; i++) await create({ email: `u${i}@example.com`, name: `User ${i}` });
    const page1 = (await request(app).get('/users?limit=3').expect(200)).body;
    const page3 = (await request(app).get('/users?limit=3&offset=6').expect(200)).body;
    expect(page1).toMatchObject({ total: 7, limit: 3, offset: 0 });
    expect(page1.data.map((u: any) => u.id)).toEqual([1, 2, 3]);
    expect(page3.data.map((u: any) => u.id)).toEqual([7]);
    const defaults = (await request(app).get('/users').expect(200)).body;
    expect(defaults).toMatchObject({ total: 7, limit: 20, offset: 0 });
  });
});

describe('bad input gets a JSON 4xx with a stable code and field, and writes nothing', () => {
  test.each([
    ['missing name', { email: 'a@example.com' }, 'validation_error', 'name'],
    ['missing email', { name: 'A' }, 'validation_error', 'email'],
    ['invalid email', { email: 'not-an-email', name: 'A' }, 'validation_error', 'email'],
    ['email too long', { email: `${'a'.repeat(250)}@example.com`, name: 'A' }, 'validation_error', 'email'],
    ['empty name', { email: 'a@example.com', name: '   ' }, 'validation_error', 'name'],
    ['name too long', { email: 'a@example.com', name: 'x'.repeat(101) }, 'validation_error', 'name'],
    ['name not a string', { email: 'a@example.com', name: 42 }, 'validation_error', 'name'],
    ['unknown field', { email: 'a@example.com', name: 'A', admin: true }, 'validation_error', 'admin'],
    ['array body', [{ email: 'a@example.com', name: 'A' }], 'validation_error', 'body'],
  ])('POST with %s', async (_case, body, code, field) => {
    const res = await create(body).expect(400);
    expect(res.headers['content-type']).toMatch(/application\/json/);
    expect(res.body.error).toMatchObject({ code, field });
    expect(await userCount()).toBe(0);
  });

  test.each([
    ['name', { email: 'a@example.com', name: 'a\u0000b' }],
    ['email', { email: 'a\u0000b@example.com', name: 'A' }],
  ])('a %s with a NUL character is 400 naming the field, and nothing is stored', async (field, body) => {
    const res = await create(body).expect(400);
    expect(res.body.error).toEqual({
      code: 'validation_error',
      field,
      message: `${field} must not contain the NUL character (\\u0000)`,
      requestId: expect.any(String),
    });
    expect(await userCount()).toBe(0);
  });

  test('PATCH with a NUL character is 400 and leaves the user as it was', async () => {
    const created = (await create({ email: 'n@example.com', name: 'Nora' }).expect(201)).body;
    await request(app).patch(`/users/${created.id}`).send({ name: 'No\u0000ra' }).expect(400);
    expect((await request(app).get(`/users/${created.id}`).expect(200)).body.name).toBe('Nora');
  });

  test('malformed JSON is 400 invalid_json', async () => {
    const res = await request(app).post('/users').set('content-type', 'application/json').send('{"email":').expect(400);
    expect(res.body.error).toMatchObject({ code: 'invalid_json', field: 'body' });
    expect(JSON.stringify(res.body)).not.toMatch(/at .*\.js|SyntaxError/);
  });

  test('a body over the limit is 413 payload_too_large', async () => {
    const res = await create({ email: 'a@example.com', name: 'x'.repeat(2000) }).expect(413);
    expect(res.body.error.code).toBe('payload_too_large');
    expect(await userCount()).toBe(0);
  });

  test('a non-JSON body is 415', async () => {
    const res = await request(app).post('/users').set('content-type', 'text/plain').send('email=a').expect(415);
    expect(res.body.error.code).toBe('unsupported_media_type');
  });

  test('a duplicate e-mail (any case) is 409 conflict and the first user is kept', async () => {
    await create({ email: 'dup@example.com', name: 'First' }).expect(201);
    const res = await create({ email: 'DUP@example.com', name: 'Second' }).expect(409);
    expect(res.body.error).toMatchObject({ code: 'conflict', field: 'email' });
    const users = await query(db.config, 'SELECT name FROM users');
    expect(users).toEqual([{ name: 'First' }]);
  });

  test('updating to a taken e-mail is 409 and changes nothing', async () => {
    await create({ email: 'a@example.com', name: 'A' });
    const { id } = (await create({ email: 'b@example.com', name: 'B' })).body;
    const res = await request(app).patch(`/users/${id}`).send({ email: 'a@example.com' }).expect(409);
    expect(res.body.error.code).toBe('conflict');
    expect((await request(app).get(`/users/${id}`)).body.email).toBe('b@example.com');
  });

  test.each(['abc', '0', '-1', '1.5', '99999999999'])('id %j is 400 invalid_id', async (id) => {
    const res = await request(app).get(`/users/${id}`).expect(400);
    expect(res.body.error).toMatchObject({ code: 'invalid_id', field: 'id' });
  });

  test.each([
    ['get', 404],
    ['put', 404],
    ['patch', 404],
    ['delete', 404],
  ])('%s of an unknown id is 404 not_found', async (method, status) => {
    const res = await (request(app) as any)[method]('/users/12345').send({ email: 'x@example.com', name: 'X' });
    expect(res.status).toBe(status);
    expect(res.body.error).toMatchObject({ code: 'not_found', field: 'id' });
  });

  test('PUT without every field is 400 and changes nothing', async () => {
    const { id } = (await create({ email: 'a@example.com', name: 'A' })).body;
    const res = await request(app).put(`/users/${id}`).send({ name: 'Only name' }).expect(400);
    expect(res.body.error).toMatchObject({ code: 'validation_error', field: 'email' });
    expect((await request(app).get(`/users/${id}`)).body.name).toBe('A');
  });

  test('PATCH with no known field is 400', async () => {
    const { id } = (await create({ email: 'a@example.com', name: 'A' })).body;
    const res = await request(app).patch(`/users/${id}`).send({}).expect(400);
    expect(res.body.error).toMatchObject({ code: 'validation_error', field: 'body' });
  });

  test.each([
    ['limit=0', 'limit'],
    ['limit=101', 'limit'],
    ['limit=abc', 'limit'],
    ['offset=-1', 'offset'],
    ['limit=1&limit=2', 'limit'],
  ])('GET /users?%s is 400 on %s', async (qs, field) => {
    const res = await request(app).get(`/users?${qs}`).expect(400);
    expect(res.body.error).toMatchObject({ code: 'validation_error', field });
  });

  test('an unknown route is a JSON 404', async () => {
    const res = await request(app).get('/nope').expect(404);
    expect(res.body.error.code).toBe('not_found');
  });

  test('an unsupported method is 405 with Allow', async () => {
    const res = await request(app).delete('/users').expect(405);
    expect(res.headers.allow).toBe('GET, POST');
    expect(res.body.error.code).toBe('method_not_allowed');
  });
});
