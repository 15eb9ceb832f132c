// An edge fails closed when Redis loses its data (issue 12, item 7). It trusts the revocation list only together
// with the generation marker the primary writes after re-publishing it; without it the edge refuses new sockets
// (503 not_ready) and /readyz answers 503, keeps what it already knew (the list only grows), and re-checks its
// open sockets against every list it loads. Real redis-server, real primary and edge, real sockets.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { startServer, api, cohortBin } from '../support/server.mjs';
import { startRedis } from '../support/redis.mjs';
import { assertError, sleep } from '../support/http.mjs';
import { connect, refusal } from '../support/ws.mjs';

let redis, primary, edge, config, edgeConfig;
const clients = new Set();
const servers = [];
let emails = 0;

const redisCli = (...args) => execFileSync('redis-cli', ['-p', String(redis.port), ...args], { encoding: 'utf8' }).trim();

async function startPrimary(dataDir, adminToken) {
  const p = await startServer({ args: ['--config', config, '--redis', redis.url], dataDir, adminToken });
  servers.push(p);
  return p;
}

before(async () => {
  redis = await startRedis();
  const dir = mkdtempSync(path.join(tmpdir(), 'cohort-failclosed-'));
  config = path.join(dir, 'primary.toml');
  writeFileSync(config, `[auth]\ntoken_secret = "${randomBytes(32).toString('hex')}"\n`, { mode: 0o600 });
  const publicKey = execFileSync(cohortBin, ['keys', 'public', '--config', config], { encoding: 'utf8' }).trim();
  edgeConfig = path.join(dir, 'edge.toml');
  writeFileSync(edgeConfig, `[auth]\ntoken_public_key = "${publicKey}"\n`);
  primary = await startPrimary();
  edge = await startServer({ args: ['--config', edgeConfig, '--redis', redis.url, '--role', 'edge', '--primary', primary.url], adminToken: primary.adminToken });
  servers.push(edge);
  await waitReady(primary);
  await waitReady(edge);
});

after(async () => {
  for (const c of clients) await c.close().catch(() => {});
  if (edge?.proc.signalCode === null && edge?.proc.exitCode === null) edge.proc.kill('SIGCONT');
  for (const s of servers.reverse()) await s.stop();
  await redis?.stop();
  for (const s of servers) s.cleanup();
});

afterEach(async () => {
  const open = [...clients];
  clients.clear();
  await Promise.allSettled(open.map((c) => c.close()));
});

async function waitReady(node, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await api(node, 'GET', '/readyz').catch(() => ({ status: 0 }));
    if (r.status === 200) return;
    if (Date.now() > deadline) throw new Error(`node not ready within ${timeoutMs} ms (last ${r.status}); stderr tail:\n${node.stderr.slice(-1000)}`);
    await sleep(100);
  }
}

async function eventually(what, check, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(50);
  }
}

async function newWebinar(node = primary, capacity = null) {
  const res = await api(node, 'POST', '/api/webinars', { token: node.adminToken,
    body: { title: 'Fail closed', capacity, sessions: [{ starts_at: '2036-06-01T18:00:00Z', duration_minutes: 60 }] } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.id;
}

async function register(node, room, name) {
  const res = await api(node, 'POST', `/api/webinars/${room}/registrations`,
    { body: { name, email: `closed${++emails}-${Date.now()}@example.com`, consent: true } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return { id: res.body.id, token: res.body.token, name };
}

async function join(node, person) {
  const c = await connect(node, { token: person.token, label: person.name });
  clients.add(c);
  await c.next('hello');
  return c;
}

const statusOnEdge = async (person) => (await api(edge, 'GET', `/ws?token=${person.token}`)).status;

test('Redis restarted empty while the primary is down: the edge admits no one (503, not ready), and after the primary is back nothing revoked', async () => {
  const room = await newWebinar();
  const [ann, bob, cy] = [await register(primary, room, 'Ann'), await register(primary, room, 'Bob'), await register(primary, room, 'Cy')];
  assert.equal((await api(primary, 'DELETE', '/api/me', { token: ann.token })).status, 200);
  assert.equal((await api(primary, 'POST', `/api/webinars/${room}/bans`, { token: primary.adminToken, body: { registration_id: bob.id } })).status, 201);
  // A waitlisted registrant (a full series) and a deleted series' registrant.
  const full = await newWebinar(primary, 1);
  await register(primary, full, 'Holder');
  const wes = await register(primary, full, 'Wes');
  const gone = await newWebinar();
  const gus = await register(primary, gone, 'Gus');
  assert.equal((await api(primary, 'DELETE', `/api/webinars/${gone}`, { token: primary.adminToken })).status, 204);
  const revoked = async () => (await statusOnEdge(ann)) === 401 && (await statusOnEdge(bob)) === 403 &&
    (await statusOnEdge(wes)) === 403 && (await statusOnEdge(gus)) === 401;
  await eventually('the edge refuses the cancelled, banned, waitlisted and deleted-series tokens', revoked);

  const { dataDir, adminToken } = primary;
  await primary.stop();
  await redis.kill9();
  await redis.start();
  // The edge is back on Redis (subscribed to the node channel) and has loaded what Redis holds: nothing.
  await eventually('the edge resubscribed', () => redisCli('PUBSUB', 'NUMSUB', 'cohort:node').split('\n')[1] === '1', 10000);
  await sleep(500);
  assert.equal(redisCli('EXISTS', 'cohort:revocations:generation'), '0');
  assertError(await refusal(edge, { token: ann.token }), 503, 'not_ready', undefined, 'the cancelled token while the list is unconfirmed');
  assertError(await refusal(edge, { token: bob.token }), 503, 'not_ready', undefined, 'the banned token while the list is unconfirmed');
  assertError(await refusal(edge, { token: cy.token }), 503, 'not_ready', undefined, 'a valid token while the list is unconfirmed');
  for (const p of [wes, gus]) assertError(await refusal(edge, { token: p.token }), 503, 'not_ready', undefined, `${p.name} while unconfirmed`);
  assert.equal((await api(edge, 'GET', '/readyz')).status, 503, 'not ready without the marker');
  const metrics = await (await fetch(`${edge.url}/metrics`)).text();
  assert.match(metrics, /^cohort_chat_revocations_stale_refused_total [1-9]/m);

  primary = await startPrimary(dataDir, adminToken);
  await waitReady(edge);
  assert.notEqual(redisCli('GET', 'cohort:revocations:generation'), '');
  await join(edge, cy);
  assertError(await refusal(edge, { token: ann.token }), 401, 'unauthorized', undefined, 'the cancelled token after the primary re-published');
  assertError(await refusal(edge, { token: bob.token }), 403, 'forbidden', undefined, 'the banned token after the primary re-published');
  assertError(await refusal(edge, { token: wes.token }), 403, 'waitlisted', undefined, 'the waitlisted token after the primary re-published');
  assertError(await refusal(edge, { token: gus.token }), 401, 'unauthorized', undefined, 'the deleted series\' token after the primary re-published');
});

test('an edge that missed a cancellation closes the open socket when it loads the list (4001)', async () => {
  await waitReady(primary);
  await waitReady(edge);
  const room = await newWebinar();
  const [dee, eli] = [await register(primary, room, 'Dee'), await register(primary, room, 'Eli')];
  const onEdge = await join(edge, dee);
  const stays = await join(edge, eli);
  // The edge is frozen while its Redis connections are cut and Dee is cancelled: it never sees x.revoke nor x.cancelled.
  edge.proc.kill('SIGSTOP');
  try {
    redisCli('CLIENT', 'KILL', 'TYPE', 'pubsub');
    redisCli('CLIENT', 'KILL', 'TYPE', 'normal');
    await waitReady(primary);
    await eventually('the primary re-marked the list', () => redisCli('EXISTS', 'cohort:revocations:generation') === '1');
    assert.equal((await api(primary, 'DELETE', '/api/me', { token: dee.token })).status, 200);
  } finally {
    edge.proc.kill('SIGCONT');
  }
  const info = await Promise.race([onEdge.closed, sleep(8000).then(() => { throw new Error('Dee\'s edge socket still open 8 s after the edge resumed'); })]);
  assert.equal(info.code, 4001, `close ${info.code} ${info.reason}`);
  assert.ok(stays.isOpen, 'the others stay');
  await waitReady(edge);
  assertError(await refusal(edge, { token: dee.token }), 401, 'unauthorized', undefined, 'the cancelled token on the edge');
});
