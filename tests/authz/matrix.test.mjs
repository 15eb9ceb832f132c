// The authorization matrix, generated from the route table: every route `cohort routes access`
// lists is called by every kind of caller (tests/authz/expected.mjs) on a primary and on an edge
// (tests/support/cluster.mjs: primary + edge + redis-server), and each answer's status is checked
// against the expected table kept there. A route the table lacks fails the test, so a new route
// cannot be forgotten; a row for a route the server no longer serves fails it too. Around each
// sweep, a digest of the primary's database (sqlite3 .dump of every table, the volatile columns
// blanked) must not change: no call of the sweep writes anything.
//
// Safe by construction: write calls carry a truncated JSON body (a caller that is admitted hears
// 400 bad_json from the router, before any handler runs); organizer-only writes that take no JSON
// body aim at things that do not exist (the handler's 404 proves admission); the few registrant
// writes without a JSON body are skipped for the callers they would succeed for (the table says
// "skip"; their effect is covered by tests/registration, tests/drops, tests/ce, tests/privacy).
//
// About 6-9 s on a loaded 2-core machine (three processes, ~2,400 requests).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { createHash, randomBytes, generateKeyPairSync, sign } from 'node:crypto';
import { api, cohortBin } from '../support/server.mjs';
import { sleep } from '../support/http.mjs';
import { useCluster } from '../support/cluster.mjs';
import { ceSeries, insertCertificate, sql } from '../certificates/support.mjs';
import { CALLERS, PRIMARY, EDGE, fillFor } from './expected.mjs';

const cluster = useCluster();
const PASSWORD = 'authz-matrix-password-2026';
const DISCOVER = !!process.env.AUTHZ_DISCOVER;   // print the observed table instead of asserting
const fx = {};                                    // the fixture: ids and credentials

function request(node, method, pathname, { headers = {}, body } = {}) {
  const url = new URL(node.url + pathname);
  const h = { ...headers };
  if (body !== undefined) { h['content-type'] = 'application/json'; h['content-length'] = Buffer.byteLength(body); }
  else if (method !== 'GET') h['content-length'] = 0;
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, path: url.pathname + url.search, method, headers: h, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text }));
    });
    req.setTimeout(15000, () => req.destroy(new Error(`${method} ${pathname}: no answer in 15 s`)));
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

// The database's stable content: every table's rows, in a fixed order, with the columns that
// reads may legitimately touch blanked (none so far: see VOLATILE).
const VOLATILE = [];
function digest(node) {
  const dump = execFileSync('sqlite3', ['-cmd', '.timeout 5000', path.join(node.dataDir, 'cohort.db'), '.dump'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const lines = dump.split('\n').filter((l) => !VOLATILE.some((re) => re.test(l)));
  return { hash: createHash('sha256').update(lines.join('\n')).digest('hex'), lines };
}

async function signup(node, webinar, name) {
  const email = `${name.toLowerCase()}-${randomBytes(3).toString('hex')}@example.org`;
  const res = await api(node, 'POST', `/api/webinars/${webinar}/registrations`, { body: { name, email, consent: true } });
  assert.ok([200, 201].includes(res.status), JSON.stringify(res.body));
  return res.body;
}

// Made once, by the first test (the cluster's own `before` must have run).
let fixture;
const setUp = () => (fixture ??= makeFixture());
async function makeFixture() {
  const { primary } = cluster;
  const admin = primary.adminToken;
  // Series A: CE offered, a session past and one to come, two seats.
  const a = await ceSeries(primary, 'Authz series A');
  assert.equal((await api(primary, 'PATCH', `/api/webinars/${a.id}`, { token: admin, body: { capacity: 2 } })).status, 200);
  fx.a = a.id;
  // Cancelled before the seats fill (so nobody is promoted behind the fixture's back).
  const cass = await signup(primary, a.id, 'Cass');
  assert.equal((await api(primary, 'DELETE', '/api/me', { token: cass.token })).status, 200);
  fx.tokens = { cancelA: cass.token };
  const ada = await signup(primary, a.id, 'Ada');
  fx.tokens.regA = ada.token;
  fx.regA = ada.id;
  const bo = await signup(primary, a.id, 'Bo');
  fx.tokens.bannedA = bo.token;
  const ban = await api(primary, 'POST', `/api/webinars/${a.id}/bans`, { token: admin, body: { registration_id: bo.id } });
  assert.ok([200, 201].includes(ban.status), JSON.stringify(ban.body));
  for (let i = 0; !fx.tokens.waitA; i++) {
    assert.ok(i < 5, 'a signup lands on the waitlist');
    const r = await signup(primary, a.id, `Filler${i}`);
    if (r.status === 'waitlisted') fx.tokens.waitA = r.token;
  }
  // Series B with its own registrant.
  const b = await api(primary, 'POST', '/api/webinars', { token: admin, body: { title: 'Authz series B', sessions: [{ starts_at: '2036-06-01T18:00:00Z', duration_minutes: 60 }] } });
  assert.equal(b.status, 201);
  fx.b = b.body.id;
  fx.tokens.regB = (await signup(primary, fx.b, 'Bea')).token;
  // Series D, deleted after its registrant signed up.
  const d = await api(primary, 'POST', '/api/webinars', { token: admin, body: { title: 'Authz series D', sessions: [{ starts_at: '2036-07-01T18:00:00Z', duration_minutes: 60 }] } });
  fx.tokens.deleted = (await signup(primary, d.body.id, 'Dee')).token;
  assert.equal((await api(primary, 'DELETE', `/api/webinars/${d.body.id}`, { token: admin })).status, 204);
  fx.tokens.bogus = `c2.${randomBytes(48).toString('base64url')}`;
  // A primary's token format with Ada's claims, signed by a key that is not the cluster's.
  const signedPart = ada.token.slice(0, ada.token.lastIndexOf('.'));
  const { privateKey } = generateKeyPairSync('ed25519');
  fx.tokens.forged = `${signedPart}.${sign(null, Buffer.from(signedPart), privateKey).toString('base64url')}`;
  fx.tokens.admin = admin;
  // Things in A the paths name: a drop, a poll, a certificate of Ada's, an email.
  const drop = await api(primary, 'POST', `/api/webinars/${a.id}/drops`, { token: admin, body: { title: 'Authz handout' } });
  assert.equal(drop.status, 201, JSON.stringify(drop.body));
  fx.drop = drop.body.id;
  // And one released with a file, so the download's own checks (series, seat, release) are reached.
  const handout = await api(primary, 'POST', `/api/webinars/${a.id}/drops`, { token: admin, body: { title: 'Authz released handout' } });
  assert.equal(handout.status, 201, JSON.stringify(handout.body));
  fx.releasedDrop = handout.body.id;
  const up = await api(primary, 'PUT', `/api/webinars/${a.id}/drops/${fx.releasedDrop}/file?filename=notes.txt`,
    { token: admin, raw: Buffer.from('authz notes\n'), headers: { 'content-type': 'text/plain' } });
  assert.equal(up.status, 200, JSON.stringify(up.body));
  const rel = await api(primary, 'PATCH', `/api/webinars/${a.id}/drops/${fx.releasedDrop}`, { token: admin, body: { release: 'now' } });
  assert.equal(rel.status, 200, JSON.stringify(rel.body));
  for (const deadline = Date.now() + 10000; ;) {
    const list = await api(primary, 'GET', `/api/webinars/${a.id}/drops`, { token: admin });
    if (list.body.drops.find((x) => x.id === fx.releasedDrop)?.state === 'released') break;
    assert.ok(Date.now() < deadline, `the drop was not released: ${JSON.stringify(list.body)}`);
    await sleep(50);
  }
  const poll = await api(primary, 'POST', `/api/webinars/${a.id}/polls`, { token: admin, body: { session: 1, question: 'Q', kind: 'single', options: ['a', 'b'] } });
  assert.equal(poll.status, 201, JSON.stringify(poll.body));
  fx.poll = poll.body.id;
  fx.code = insertCertificate(primary, a, { ...ada, name: 'Ada' });
  const emails = await api(primary, 'GET', `/api/webinars/${a.id}/emails`, { token: admin });
  assert.equal(emails.status, 200);
  const list = emails.body.emails ?? emails.body.items ?? emails.body;
  fx.email = list[0]?.id ?? 1;
  // The organizer's console cookie.
  const added = spawnSync(cohortBin, ['organizer', 'add', '--email', 'org@example.org', '--data-dir', primary.dataDir], { input: `${PASSWORD}\n`, encoding: 'utf8', timeout: 20000 });
  assert.equal(added.status, 0, added.stderr);
  const login = await request(primary, 'POST', '/api/session', { headers: { origin: primary.url }, body: JSON.stringify({ email: 'org@example.org', password: PASSWORD }) });
  assert.equal(login.status, 200, login.text);
  fx.cookie = (login.headers['set-cookie'] ?? []).find((c) => c.startsWith('cohort_session=')).split(';')[0];
  // Quiet before the first digest: the mails the fixture caused are sent (written to the outbox
  // folder) and the database holds still.
  for (const deadline = Date.now() + 15000; ;) {
    const queued = await Promise.all([fx.a, fx.b].map(async (w) => (await api(primary, 'GET', `/api/webinars/${w}/emails`, { token: admin })).body.counts.queued));
    if (queued.every((n) => n === 0)) break;
    assert.ok(Date.now() < deadline, `mail still queued after 15 s: ${queued}`);
    await sleep(100);
  }
  for (let last = digest(primary).hash, deadline = Date.now() + 10000; ;) {
    await sleep(200);
    const now = digest(primary).hash;
    if (now === last) break;
    assert.ok(Date.now() < deadline, 'the database kept changing for 10 s after the fixture');
    last = now;
  }
}

function routes() {
  return execFileSync(cohortBin, ['routes', 'access'], { encoding: 'utf8' }).trim().split('\n').map((l) => {
    const [method, pattern, who] = l.split(' ');
    return { method, pattern, who, key: `${method} ${pattern}` };
  });
}

// The request one caller sends to one route on one node.
function callFor(node, route, caller) {
  const fill = fillFor(route.key, fx);
  let p = route.pattern.replace(/\{([a-z_]+)\}/g, (_, name) => {
    assert.ok(name in fill, `${route.key}: no value for {${name}} (expected.mjs fillFor)`);
    return encodeURIComponent(String(fill[name]));
  });
  const headers = { ...fill.headers };
  const c = CALLERS[caller];
  const token = c.token ? fx.tokens[c.token] : undefined;
  if (token) {
    headers.authorization = `Bearer ${token}`;
    if (fill.query_token) p += `${p.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}`;
  }
  if (c.cookie) headers.cookie = fx.cookie;
  if (c.origin === 'site') headers.origin = node.url;
  if (c.origin === 'foreign') headers.origin = 'https://evil.example';
  // Registrant writes get an empty object, so the handler runs (and checks the token's registration
  // before or after refusing the body: 401/403/409/422); every other write a truncated one (400).
  const write = ['POST', 'PUT', 'PATCH'].includes(route.method);
  let body = !write ? undefined : route.who === 'registrant' ? '{}' : '{"authz-sweep":';
  // A valid change, sent only by callers that must be refused it (fillFor says which routes).
  if (write && fill.refusedBody && ['cancelA', 'deleted'].includes(caller)) body = fill.refusedBody;
  return { path: p, headers, body };
}

async function sweep(node, table, name) {
  await setUp();
  const served = routes();
  const missing = served.filter((r) => !(r.key in table)).map((r) => r.key);
  const stale = Object.keys(table).filter((k) => !served.some((r) => r.key === k));
  const before = digest(cluster.primary);
  const wrong = [];
  const observed = {};
  for (const route of served) {
    const row = table[route.key] ?? {};
    observed[route.key] = {};
    for (const caller of Object.keys(CALLERS)) {
      const want = row[caller];
      if (want === 'skip') continue;
      const { path: p, headers, body } = callFor(node, route, caller);
      const res = await request(node, route.method, p, { headers, body });
      observed[route.key][caller] = res.status;
      if (want !== 'skip' && res.status !== want) wrong.push(`${route.key} as ${caller}: ${res.status} (expected ${want}) ${res.text.slice(0, 160)}`);
    }
  }
  if (DISCOVER) {
    for (const [k, v] of Object.entries(observed)) console.log(`${name} '${k}': ${JSON.stringify(v)},`);
  }
  const after = digest(cluster.primary);
  const changed = after.hash === before.hash ? [] : [
    ...after.lines.filter((l) => !before.lines.includes(l)).map((l) => `+ ${l}`),
    ...before.lines.filter((l) => !after.lines.includes(l)).map((l) => `- ${l}`),
  ];
  const calls = Object.values(observed).reduce((n, o) => n + Object.keys(o).length, 0);
  console.log(`${name}: ${served.length} routes x ${Object.keys(CALLERS).length} callers, ${calls} calls, ${wrong.length} unexpected answers, database ${changed.length ? 'CHANGED' : 'unchanged'}`);
  for (const line of changed.slice(0, 20)) console.log(`${name}: database ${line.slice(0, 200)}`);
  assert.deepEqual(missing, [], `routes served without a row in tests/authz/expected.mjs (${name})`);
  assert.deepEqual(stale, [], `rows in tests/authz/expected.mjs for routes no longer served (${name})`);
  assert.deepEqual(wrong, [], `answers that differ from the expected table (${name})`);
  assert.deepEqual(changed, [], `the sweep changed the database (${name})`);
}

test('every route answers every caller as the table says, on the primary, and changes nothing', async () => {
  await sweep(cluster.primary, PRIMARY, 'primary');
});

test('every route answers every caller as the table says, on an edge, and changes nothing', async () => {
  await sweep(cluster.edge, EDGE, 'edge');
});

// The one call the sweep skips for the console (it would end the session the sweep uses): logout
// from the site's own pages ends it; the cookie is then nobody's.
test('the console logs out from its own Origin, and the cookie then opens nothing', async () => {
  await setUp();
  const { primary } = cluster;
  const cookie = { cookie: fx.cookie };
  assert.equal((await request(primary, 'GET', '/api/session', { headers: cookie })).status, 200);
  assert.equal((await request(primary, 'DELETE', '/api/session', { headers: { ...cookie, origin: primary.url } })).status, 204);
  assert.equal((await request(primary, 'GET', '/api/session', { headers: cookie })).status, 401);
  assert.equal((await request(primary, 'GET', `/api/webinars/${fx.a}/registrations`, { headers: cookie })).status, 401);
});
