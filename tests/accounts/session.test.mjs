// Organizer accounts and console sessions against a real build/cohort: the `organizer` commands
// (while the server runs), login with the same error for unknown email and wrong password, the
// cookie's attributes, cookie access to organizer routes, CSRF refusal of cross-site changes,
// per-account and per-IP rate limits (requests from different loopback addresses), logout, and
// every organizer route refused without a login (401) and with a registrant token (403).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, execFileSync } from 'node:child_process';
import http from 'node:http';
import { startServer, api, cohortBin } from '../support/server.mjs';
import { assertError } from '../support/http.mjs';

let server;
const PASSWORD = 'therapy-webinars-2026';

function organizer(args, input = '') {
  return spawnSync(cohortBin, ['organizer', ...args, '--data-dir', server.dataDir], { input, encoding: 'utf8', timeout: 20000 });
}

// One request from a chosen loopback address (fetch cannot pick its source address).
function request(method, path, { body, cookie, origin, from = '127.0.0.1', token } = {}) {
  const url = new URL(server.url + path);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const headers = {};
  if (payload !== undefined) { headers['content-type'] = 'application/json'; headers['content-length'] = Buffer.byteLength(payload); }
  else if (method !== 'GET') headers['content-length'] = 0;
  if (cookie) headers.cookie = cookie;
  if (origin) headers.origin = origin;
  if (token) headers.authorization = `Bearer ${token}`;
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, path, method, headers, localAddress: from }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => {
        const type = res.headers['content-type'] ?? '';
        resolve({
          status: res.statusCode,
          headers: { get: (k) => res.headers[k.toLowerCase()] ?? null, raw: res.headers },
          body: type.includes('application/json') && text ? JSON.parse(text) : text,
        });
      });
    });
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

const login = (email, password, opts = {}) => request('POST', '/api/session', { body: { email, password }, origin: server.url, ...opts });

function sessionCookie(res) {
  const set = res.headers.raw['set-cookie'] ?? [];
  const line = set.find((c) => c.startsWith('cohort_session='));
  assert.ok(line, `a cohort_session cookie is set: ${JSON.stringify(set)}`);
  return { line, cookie: line.split(';')[0] };
}

before(async () => {
  server = await startServer();
  for (const email of ['ana@example.org', 'ben@example.org', 'cy@example.org', 'dee@example.org']) {
    const added = organizer(['add', '--email', email], `${PASSWORD}\n`);
    assert.equal(added.status, 0, added.stderr);
  }
});

after(async () => {
  await server?.stop();
  server?.cleanup();
});

test('organizer commands add, refuse duplicates and weak passwords, list, and never print the password', () => {
  const dup = organizer(['add', '--email', 'ANA@example.org'], `${PASSWORD}\n`);
  assert.equal(dup.status, 1);
  assert.match(dup.stderr, /already exists/);
  const weak = organizer(['add', '--email', 'weak@example.org'], 'short\n');
  assert.equal(weak.status, 1);
  assert.match(weak.stderr, /10 to 1024/);
  const none = organizer(['add', '--email', 'none@example.org'], '');
  assert.equal(none.status, 1);
  const bad = organizer(['add', '--email', 'not-an-email'], `${PASSWORD}\n`);
  assert.equal(bad.status, 2);
  const list = organizer(['list']);
  assert.equal(list.status, 0);
  assert.match(list.stdout, /ana@example\.org/);
  assert.doesNotMatch(list.stdout, /weak@example\.org/);
  assert.doesNotMatch(list.stdout + list.stderr + server.stdout + server.stderr, new RegExp(PASSWORD));
});

test('unknown email and wrong password get the same 401', async () => {
  const wrong = await login('ana@example.org', 'not-the-password', { from: '127.0.0.10' });
  const unknown = await login('nobody@example.org', 'not-the-password', { from: '127.0.0.11' });
  assertError(wrong, 401, 'invalid_credentials');
  assertError(unknown, 401, 'invalid_credentials');
  assert.deepEqual(wrong.body, unknown.body);
  assert.equal(wrong.headers.get('set-cookie'), null);
  assertError(await login('ana@example.org', '', { from: '127.0.0.12' }), 422, 'validation_failed', 'password');
  assertError(await login('not an email', PASSWORD, { from: '127.0.0.12' }), 422, 'validation_failed', 'email');
});

test('a login sets an HttpOnly SameSite=Strict cookie that opens the organizer API; logout ends it', async () => {
  const res = await login('Ana@Example.org', PASSWORD, { from: '127.0.0.20' });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.body.auth, 'session');
  assert.equal(res.body.organizer.email, 'ana@example.org');
  assert.ok(Date.parse(res.body.expires_at) > Date.now() + 11 * 3600_000);
  const { line, cookie } = sessionCookie(res);
  assert.match(line, /; HttpOnly/);
  assert.match(line, /; SameSite=Strict/);
  assert.match(line, /; Path=\//);
  assert.doesNotMatch(line, /; Secure/, 'plain http: no Secure attribute');

  const me = await request('GET', '/api/session', { cookie });
  assert.equal(me.status, 200);
  assert.equal(me.body.organizer.email, 'ana@example.org');

  // Same-origin change with the cookie: allowed.
  const created = await request('POST', '/api/webinars', {
    cookie, origin: server.url,
    body: { title: 'Made from the console', sessions: [{ starts_at: '2036-06-01T18:00:00Z', duration_minutes: 60 }] },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const list = await request('GET', `/api/webinars/${created.body.id}/registrations`, { cookie });
  assert.equal(list.status, 200);

  // Cross-site or Origin-less changes with the cookie: refused, nothing written.
  const csrf = await request('PATCH', `/api/webinars/${created.body.id}`, { cookie, origin: 'https://evil.example', body: { title: 'pwned' } });
  assertError(csrf, 403, 'csrf');
  assertError(await request('DELETE', `/api/webinars/${created.body.id}`, { cookie }), 403, 'csrf');
  const still = await api(server, 'GET', `/api/webinars/${created.body.id}`);
  assert.equal(still.body.title, 'Made from the console');
  // The bearer admin token keeps working for automation, with no Origin.
  const viaToken = await request('PATCH', `/api/webinars/${created.body.id}`, { token: server.adminToken, body: { title: 'Renamed' } });
  assert.equal(viaToken.status, 200, JSON.stringify(viaToken.body));

  const out = await request('DELETE', '/api/session', { cookie, origin: server.url });
  assert.equal(out.status, 204);
  assert.match(out.headers.raw['set-cookie'][0], /^cohort_session=; .*Max-Age=0/);
  assertError(await request('GET', '/api/session', { cookie }), 401, 'unauthorized');
  assertError(await request('GET', `/api/webinars/${created.body.id}/registrations`, { cookie }), 401, 'unauthorized');
});

test('a login from another site is refused', async () => {
  assertError(await login('ana@example.org', PASSWORD, { origin: 'https://evil.example', from: '127.0.0.21' }), 403, 'csrf');
});

test('removing an account or changing its password ends its sessions at once', async () => {
  const res = await login('dee@example.org', PASSWORD, { from: '127.0.0.30' });
  assert.equal(res.status, 200);
  const { cookie } = sessionCookie(res);
  assert.equal((await request('GET', '/api/session', { cookie })).status, 200);
  const changed = organizer(['password', '--email', 'dee@example.org'], 'a-brand-new-password\n');
  assert.equal(changed.status, 0, changed.stderr);
  assert.equal((await request('GET', '/api/session', { cookie })).status, 401);
  const again = await login('dee@example.org', 'a-brand-new-password', { from: '127.0.0.30' });
  assert.equal(again.status, 200);
  const removed = organizer(['remove', '--email', 'dee@example.org']);
  assert.equal(removed.status, 0, removed.stderr);
  assert.equal((await request('GET', '/api/session', { cookie: sessionCookie(again).cookie })).status, 401);
  assertError(await login('dee@example.org', 'a-brand-new-password', { from: '127.0.0.31' }), 401, 'invalid_credentials');
});

test('failed logins are limited per IP (5 a minute) before the account, with Retry-After', async () => {
  // Per IP: five failures on ben from one address lock that address, even with the right password ...
  for (let i = 0; i < 5; i++) assertError(await login('ben@example.org', 'wrong-password', { from: '127.0.0.40' }), 401, 'invalid_credentials');
  const locked = await login('ben@example.org', PASSWORD, { from: '127.0.0.40' });
  assertError(locked, 429, 'rate_limited');
  const wait = Number(locked.headers.get('retry-after'));
  assert.ok(wait >= 1 && wait <= 60, `Retry-After ${wait}`);
  // ... and for other accounts too ...
  assertError(await login('cy@example.org', PASSWORD, { from: '127.0.0.40' }), 429, 'rate_limited');
  // ... while five failures from one address do not lock ben elsewhere, and another address logs cy in.
  assert.equal((await login('ben@example.org', PASSWORD, { from: '127.0.0.41' })).status, 200);
  assert.equal((await login('cy@example.org', PASSWORD, { from: '127.0.0.42' })).status, 200);
  // Spraying many accounts from one address also stops at five.
  for (let i = 0; i < 5; i++) assertError(await login(`x${i}@example.org`, 'guess', { from: '127.0.0.43' }), 401, 'invalid_credentials');
  assertError(await login('x9@example.org', 'guess', { from: '127.0.0.43' }), 429, 'rate_limited');
});

test('20 parallel wrong guesses from one address: at most 5 are hashed, the rest get 429 at once', async () => {
  const answers = await Promise.all(Array.from({ length: 20 }, () => login('ana@example.org', 'parallel-guess', { from: '127.0.0.50' })));
  const statuses = answers.map((r) => r.status);
  const hashed = statuses.filter((s) => s !== 429);
  assert.ok(hashed.length <= 5, `at most 5 attempts reach the hash: ${statuses.join(',')}`);
  assert.ok(hashed.every((s) => s === 401), `the hashed ones are wrong passwords: ${statuses.join(',')}`);
  for (const r of answers.filter((x) => x.status === 429)) assertError(r, 429, 'rate_limited');
});

test('an attacker failing from 127.0.0.2 does not lock the organizer out of 127.0.0.3', async () => {
  const victim = 'eve-organizer@example.org';
  assert.equal(organizer(['add', '--email', victim], `${PASSWORD}\n`).status, 0);
  // The organizer logged in from their machine before.
  assert.equal((await login(victim, PASSWORD, { from: '127.0.0.3' })).status, 200);
  // A stranger guesses until refused, then keeps hammering.
  const seen = [];
  for (let i = 0; i < 12; i++) seen.push((await login(victim, `guess-${i}`, { from: '127.0.0.2' })).status);
  assert.ok(seen.filter((s) => s === 401).length <= 5, `the attacker's address is held at five: ${seen.join(',')}`);
  assert.equal(seen.at(-1), 429);
  // The organizer still gets in, from their own address, right away.
  const res = await login(victim, PASSWORD, { from: '127.0.0.3' });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  // So does a first login from a fresh address: one stranger cannot reach the account-wide limit.
  assert.equal((await login(victim, PASSWORD, { from: '127.0.0.4' })).status, 200);
});

test('every organizer route is refused without a login (401) and with a registrant token (403)', async () => {
  const w = await api(server, 'POST', '/api/webinars', {
    token: server.adminToken, body: { title: 'Access', sessions: [{ starts_at: '2036-06-01T18:00:00Z', duration_minutes: 60 }] },
  });
  const reg = await api(server, 'POST', `/api/webinars/${w.body.id}/registrations`, { body: { name: 'Tess', email: 'tess@example.org', consent: true } });
  assert.equal(reg.status, 201, JSON.stringify(reg.body));
  const routes = execFileSync(cohortBin, ['routes', 'access'], { encoding: 'utf8' }).trim().split('\n')
    .map((l) => l.split(' ')).filter(([, , who]) => who === 'organizer');
  assert.ok(routes.length >= 20, `organizer routes: ${routes.length}`);
  for (const [method, pattern] of routes) {
    const path = pattern.replace('{id}', String(w.body.id)).replace(/\{[a-z_]+\}/g, '1');
    const body = ['POST', 'PUT', 'PATCH'].includes(method) ? {} : undefined;
    const anonymous = await request(method, path, { body, origin: server.url });
    assertError(anonymous, 401, 'unauthorized', undefined, `${method} ${path}`);
    const registrant = await request(method, path, { body, token: reg.body.token });
    assertError(registrant, 403, 'forbidden', undefined, `${method} ${path}`);
  }
});
