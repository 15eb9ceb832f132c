// The public signup route against floods (issue 12, item 3): per-address and per-series rate limits (429 with
// Retry-After, counted in /metrics, nothing stored) and the form's honeypot (answered like a success, nothing stored,
// nobody mailed). Requests come from distinct loopback addresses (127.0.x.y), so each test has its own client address.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServer, api } from '../support/server.mjs';
import { assertError, sleep } from '../support/http.mjs';

const IP_PER_MINUTE = 3;
const SERIES_PER_MINUTE = 5;
let server;
let nextHost = 10;
const freshAddress = () => `127.0.9.${nextHost++}`;

// POST a signup from `localAddress` (loopback accepts any 127/8 source), answered like api() answers.
function signupFrom(localAddress, webinarId, fields) {
  const { hostname, port } = new URL(server.url);
  const payload = JSON.stringify({ name: 'Ada Lovelace', consent: true, ...fields });
  return new Promise((resolve, reject) => {
    const req = http.request({ host: hostname, port, localAddress, method: 'POST', path: `/api/webinars/${webinarId}/registrations`,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => {
        const headers = new Headers(Object.entries(res.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : String(v)]));
        resolve({ status: res.statusCode, headers, body: (headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : text });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

async function createWebinar(extra = {}) {
  const res = await api(server, 'POST', '/api/webinars', { token: server.adminToken,
    body: { title: 'Floods', capacity: 10, sessions: [{ starts_at: '2036-06-01T18:00:00Z', duration_minutes: 60 }], ...extra } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

async function registrants(webinarId) {
  const res = await api(server, 'GET', `/api/webinars/${webinarId}/registrations`, { token: server.adminToken });
  assert.equal(res.status, 200);
  return res.body.registrations;
}

async function metric(line) {
  const res = await fetch(`${server.url}/metrics`);
  const text = await res.text();
  const m = text.split('\n').find((l) => l.startsWith(line + ' '));
  return m ? Number(m.slice(line.length + 1)) : 0;
}

function assertRateLimited(res) {
  assertError(res, 429, 'rate_limited');
  const wait = Number(res.headers.get('retry-after'));
  assert.ok(Number.isInteger(wait) && wait >= 1 && wait <= 60, `Retry-After is whole seconds within the minute: ${res.headers.get('retry-after')}`);
}

before(async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'cohort-limits-cfg-'));
  const config = path.join(dir, 'cohort.toml');
  writeFileSync(config, `[registration]\nip_per_minute = ${IP_PER_MINUTE}\nseries_per_minute = ${SERIES_PER_MINUTE}\n`);
  // --signups-per-ip too: without it the test helper turns the per-address limit off.
  server = await startServer({ args: ['--config', config, '--signups-per-ip', String(IP_PER_MINUTE)] });
  rmSync(dir, { recursive: true, force: true });
});
after(async () => {
  if (server) { await server.stop(); server.cleanup(); }
});

test('per-address limit: the signup after ip_per_minute from one address is 429 with Retry-After, stores nothing, and is counted', async () => {
  const w = await createWebinar();
  const me = freshAddress();
  for (let i = 0; i < IP_PER_MINUTE; i++) {
    const res = await signupFrom(me, w.id, { email: `ip${i}@example.org` });
    assert.equal(res.status, 201, JSON.stringify(res.body));
  }
  const before = await metric('cohort_signups_limited_total{by="ip"}');
  const refused = await signupFrom(me, w.id, { email: 'ip-over@example.org' });
  assertRateLimited(refused);
  assert.equal(await metric('cohort_signups_limited_total{by="ip"}'), before + 1);
  assert.deepEqual((await registrants(w.id)).map((r) => r.email).sort(), ['ip0@example.org', 'ip1@example.org', 'ip2@example.org']);
  // Another address is not affected.
  const other = await signupFrom(freshAddress(), w.id, { email: 'someone-else@example.org' });
  assert.equal(other.status, 201, JSON.stringify(other.body));
});

test('per-series limit: signups from many addresses stop at series_per_minute for that series only', async () => {
  const [limited, open] = [await createWebinar(), await createWebinar()];
  // Each address stays under its own limit; together they exceed the series'.
  let accepted = 0, refusedRes = null;
  for (let i = 0; i < 10 && !refusedRes; i++) {
    const res = await signupFrom(freshAddress(), limited.id, { email: `series${i}@example.org` });
    if (res.status === 201) accepted++;
    else refusedRes = res;
  }
  assert.equal(accepted, SERIES_PER_MINUTE, 'the series took exactly series_per_minute signups');
  assertRateLimited(refusedRes);
  assert.ok(await metric('cohort_signups_limited_total{by="series"}') >= 1, 'counted by="series"');
  assert.equal((await registrants(limited.id)).length, SERIES_PER_MINUTE);
  const elsewhere = await signupFrom(freshAddress(), open.id, { email: 'series-other@example.org' });
  assert.equal(elsewhere.status, 201, 'another series still takes signups');
});

test('honeypot: a filled "website" field is answered like a success, but nothing is stored and nobody is mailed', async () => {
  const w = await createWebinar();
  const before = await metric('cohort_signups_honeypot_total');
  const bot = await signupFrom(freshAddress(), w.id, { email: 'bot@example.org', website: 'http://spam.example' });
  const person = await signupFrom(freshAddress(), w.id, { email: 'person@example.org', website: '' });
  assert.equal(bot.status, 201, JSON.stringify(bot.body));
  assert.equal(person.status, 201, JSON.stringify(person.body));
  // The same fields, the same kinds of value: a bot cannot tell from the answer.
  assert.deepEqual(Object.keys(bot.body).sort(), Object.keys(person.body).sort());
  assert.equal(bot.body.status, 'registered');
  assert.equal(typeof bot.body.token, 'string');
  assert.match(bot.body.join_url, new RegExp(`/live/${w.id}#token=`));
  assert.equal(await metric('cohort_signups_honeypot_total'), before + 1);
  assert.deepEqual((await registrants(w.id)).map((r) => r.email), ['person@example.org']);
  // Its token opens nothing.
  assertError(await api(server, 'GET', '/api/me', { token: bot.body.token }), 401);
  // One mail (the person's confirmation), none to the bot's address.
  await sleep(300);
  const list = await api(server, 'GET', `/api/webinars/${w.id}/emails`, { token: server.adminToken });
  assert.deepEqual(list.body.emails.map((e) => e.to), ['person@example.org']);
  const outbox = path.join(server.dataDir, 'outbox');
  const files = existsSync(outbox) ? readdirSync(outbox) : [];
  assert.ok(!files.some((f) => f.includes('bot')), files.join(', '));
});
