// A primary and an edge on one real redis-server. The edge has no database: it checks registrant tokens by their
// Ed25519 signature (auth.token_public_key: it holds no key that mints one) against the revocation list the primary
// keeps in Redis, redirects /api to the primary, and serves /ws. One chat across both nodes, the transcript and
// attendance written by the primary, drops pushed on both nodes, bans / cancellations / mutes reaching edge clients,
// state loaded from Redis by an edge started late, the edge's start-up checks for its keys, legacy c1 tokens, and
// the cap on sockets per token.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes, createHmac } from 'node:crypto';
import { startServer, api, cohortBin } from '../support/server.mjs';
import { startRedis } from '../support/redis.mjs';
import { assertError, sleep } from '../support/http.mjs';
import { connect, refusal } from '../support/ws.mjs';
import { parseCsv } from '../support/csv.mjs';

const LISTENING = /listening on (http:\/\/[^\s]+)/;   // the contract's start-up regex (tests/support/server.mjs)
const rfc3339 = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

let redis, primary, edge, config, edgeConfig, publicKey;
const secret = randomBytes(32).toString('hex');
const clients = new Set();
const servers = [];
let emails = 0;

function configFile(text) {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'cohort-edge-')), 'cohort.toml');
  writeFileSync(file, text);
  return file;
}

// An edge: the primary's token public key (config) and admin token, Redis, and where the primary is.
async function startEdge(extraArgs = []) {
  const e = await startServer({
    args: ['--config', edgeConfig, '--redis', redis.url, '--role', 'edge', '--primary', primary.url, ...extraArgs],
    adminToken: primary.adminToken,
  });
  servers.push(e);
  return e;
}

before(async () => {
  redis = await startRedis();
  config = configFile(`[auth]\ntoken_secret = "${secret}"\n\n[attendance]\nmin_minutes = 1\n`);
  primary = await startServer({ args: ['--config', config, '--redis', redis.url] });
  servers.push(primary);
  publicKey = execFileSync(cohortBin, ['keys', 'public', '--config', config], { encoding: 'utf8' }).trim();
  edgeConfig = configFile(`[auth]\ntoken_public_key = "${publicKey}"\n\n[attendance]\nmin_minutes = 1\n`);
  edge = await startEdge();
  await waitReady(primary);
  await waitReady(edge);
});

after(async () => {
  for (const s of servers.reverse()) await s.stop();
  await redis?.stop();
  for (const s of servers) s.cleanup();
});

afterEach(async () => {
  const open = [...clients];
  clients.clear();
  const results = await Promise.allSettled(open.map((c) => c.close()));
  const failures = results.filter((r) => r.status === 'rejected').map((r) => r.reason.message);
  for (const s of [primary, edge]) {
    const { exitCode, signalCode } = s.proc;
    assert.ok(exitCode === null && signalCode === null, `a node died during this test (exit ${exitCode ?? signalCode}); stderr tail:\n${s.stderr.slice(-2000)}`);
  }
  assert.deepEqual(failures, [], 'protocol violations seen by clients of this test');
});

async function waitReady(node, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await sleep(0);
    const { exitCode, signalCode } = node.proc;
    if (exitCode !== null || signalCode !== null) throw new Error(`the node died (exit ${exitCode ?? signalCode}); stderr tail:\n${node.stderr.slice(-1000)}`);
    let r;
    try {
      r = await api(node, 'GET', '/readyz');
    } catch (err) {
      await sleep(100);
      const died = node.proc.exitCode ?? node.proc.signalCode;
      throw new Error(`GET /readyz failed (${err.cause?.code ?? err.message})${died !== null ? `; the node died (${died}); stderr tail:\n${node.stderr.slice(-1000)}` : ''}`);
    }
    if (r.status === 200) return;
    if (Date.now() > deadline) throw new Error(`node not ready within ${timeoutMs} ms (last ${r.status})`);
    await sleep(100);
  }
}

async function newWebinar(sessions = [{ starts_at: '2036-06-01T18:00:00Z', duration_minutes: 60 }]) {
  const res = await api(primary, 'POST', '/api/webinars', { token: primary.adminToken, body: { title: 'Edge test', capacity: null, sessions } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.id;
}

async function register(room, name) {
  const res = await api(primary, 'POST', `/api/webinars/${room}/registrations`,
    { body: { name, email: `edge${++emails}-${Date.now()}@example.com`, consent: true } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return { id: res.body.id, token: res.body.token, name };
}

async function join(node, person, extra = {}) {
  const c = await connect(node, { token: person.token, label: `${person.name}@${node === primary ? 'primary' : 'edge'}`, ...extra });
  clients.add(c);
  await c.next('hello');
  return c;
}

async function joinOrganizer(node, room) {
  const c = await connect(node, { token: primary.adminToken, webinar: room, label: `organizer@${node === primary ? 'primary' : 'edge'}` });
  clients.add(c);
  await c.next('hello');
  return c;
}

const textIs = (text) => Object.assign((m) => m.type === 'chat.message' && m.text === text, { label: `chat.message "${text}"` });
const dropIs = (id) => Object.assign((m) => m.type === 'drop' && m.drop.id === id, { label: `drop ${id}` });

async function closedWithin(client, ms) {
  return Promise.race([client.closed, sleep(ms).then(() => { throw new Error(`${client.label}: still open after ${ms} ms`); })]);
}

test('the edge prints its listening line in the contract form (regex /listening on (http:\\/\\/[^\\s]+)/ gives a bare URL)',
  async () => {
    const url = LISTENING.exec(edge.stdout)?.[1];
    assert.ok(url, `no listening line in ${JSON.stringify(edge.stdout)}`);
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/, `captured ${JSON.stringify(url)} from ${JSON.stringify(edge.stdout)}`);
  });

test('edge: /readyz 200 with Redis, /api redirected to the primary with 307, pages served', async () => {
  assert.equal((await api(edge, 'GET', '/readyz')).status, 200);
  assert.equal((await api(edge, 'GET', '/healthz')).status, 200);
  for (const [method, p] of [['GET', '/api/webinars'], ['GET', '/api/webinars/1?x=1'], ['POST', '/api/webinars/1/registrations'], ['GET', '/api/me']]) {
    const res = await fetch(edge.url + p, { method, redirect: 'manual', headers: method === 'POST' ? { 'content-type': 'application/json' } : {}, body: method === 'POST' ? '{}' : undefined });
    await res.arrayBuffer();
    assert.equal(res.status, 307, `${method} ${p} on the edge`);
    assert.equal(res.headers.get('location'), primary.url + p, `${method} ${p}: Location`);
  }
  // Following the redirect lands on the primary's answer.
  const followed = await fetch(`${edge.url}/api/webinars`);
  assert.equal(followed.status, 200);
  assert.ok(Array.isArray((await followed.json()).webinars));
  const room = await newWebinar();
  const page = await fetch(`${edge.url}/live/${room}`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
  await page.arrayBuffer();
});

test('one chat across primary and edge: one seq order, the name from the token, the transcript on the primary', async () => {
  const room = await newWebinar();
  const [ada, zoe] = [await register(room, 'Ada Primary'), await register(room, 'Zoë "Edge", Jr.')];
  const p = await join(primary, ada);
  const e = await join(edge, zoe);
  assert.deepEqual(e.hello.me, { id: zoe.id, name: 'Zoë "Edge", Jr.', role: 'registrant' }, 'the edge reads the name from the token');
  assert.equal(e.hello.room, room);
  assert.equal(e.hello.epoch, p.hello.epoch, 'one room history');
  const org = await joinOrganizer(edge, room);
  assert.equal(org.hello.me.role, 'organizer', 'the admin token works on the edge');

  p.chat('from primary 1');
  e.chat('from edge 1', { client_id: 'z1' });
  p.chat('from primary 2');
  e.chat('from edge 2');
  org.chat('from the organizer on the edge');
  const seen = await Promise.all([p, e, org].map((c) => c.collect('chat.message', 5)));
  const order = seen[0].map((m) => `${m.seq} ${m.id} ${m.text}`);
  for (const s of seen) assert.deepEqual(s.map((m) => `${m.seq} ${m.id} ${m.text}`), order, 'one order on both nodes');
  assert.deepEqual(seen[0].map((m) => m.seq), [1, 2, 3, 4, 5]);
  const fromEdge = seen[0].find((m) => m.text === 'from edge 1');
  assert.deepEqual(fromEdge.from, { id: zoe.id, name: 'Zoë "Edge", Jr.', role: 'registrant' });
  assert.equal(seen[1].find((m) => m.text === 'from edge 1').client_id, 'z1', 'client_id echoed to the sender on the edge');

  // Late joiner on the edge: hello has the history.
  const late = await join(edge, ada);
  assert.deepEqual(late.hello.messages.map((m) => m.text), seen[0].map((m) => m.text));

  // The primary writes the whole transcript, the edge's messages included.
  let rows;
  for (const deadline = Date.now() + 5000; ;) {
    const res = await fetch(`${primary.url}/api/webinars/${room}/chat.csv`, { headers: { authorization: `Bearer ${primary.adminToken}` } });
    assert.equal(res.status, 200);
    rows = parseCsv(await res.text());
    if (rows.length === 6 || Date.now() > deadline) break;
    await sleep(100);
  }
  assert.deepEqual(rows[0], ['seq', 'id', 'sent_at', 'from_id', 'from_name', 'role', 'text', 'deleted']);
  assert.deepEqual(rows.slice(1).map((r) => [Number(r[0]), r[1], r[6]]), seen[0].map((m) => [m.seq, m.id, m.text]), 'every message, from both nodes');
  const edgeRow = rows.find((r) => r[6] === 'from edge 2');
  assert.deepEqual([edgeRow[3], edgeRow[4], edgeRow[5]], [String(zoe.id), 'Zoë "Edge", Jr.', 'registrant']);
  assert.equal(rows.find((r) => r[6] === 'from the organizer on the edge')[5], 'organizer');
  // The transcript on the edge is the primary's: a redirect.
  const viaEdge = await fetch(`${edge.url}/api/webinars/${room}/chat.csv`, { redirect: 'manual', headers: { authorization: `Bearer ${primary.adminToken}` } });
  await viaEdge.arrayBuffer();
  assert.equal(viaEdge.status, 307);
});

test('the transcript on the primary has a room used only on the edge', async () => {
  const room = await newWebinar();
  const gus = await register(room, 'Gus');
  const e = await join(edge, gus);
  const sent = [];
  for (const text of ['only on the edge 1', 'only on the edge 2', '=2+3']) {
    e.chat(text);
    sent.push(await e.next(textIs(text)));
  }
  let rows;
  for (const deadline = Date.now() + 5000; ;) {
    const res = await fetch(`${primary.url}/api/webinars/${room}/chat.csv`, { headers: { authorization: `Bearer ${primary.adminToken}` } });
    assert.equal(res.status, 200);
    rows = parseCsv(await res.text());
    if (rows.length === 4 || Date.now() > deadline) break;
    await sleep(100);
  }
  assert.deepEqual(rows.slice(1).map((r) => [Number(r[0]), r[1], r[4], r[6]]),
    sent.map((m) => [m.seq, m.id, 'Gus', m.text === '=2+3' ? "'=2+3" : m.text]));
});

test('a drop scheduled 2 s ahead reaches clients on both nodes within 1 s of release_at', async () => {
  const room = await newWebinar();
  const [ada, bob] = [await register(room, 'Ada'), await register(room, 'Bob')];
  const p = await join(primary, ada);
  const e = await join(edge, bob);
  const org = await joinOrganizer(edge, room);
  const releaseAt = Math.ceil((Date.now() + 2000) / 1000) * 1000;
  const res = await api(primary, 'POST', `/api/webinars/${room}/drops`, { token: primary.adminToken, body: { title: 'Both nodes', release_at: rfc3339(releaseAt) } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  const id = res.body.id;
  const got = await Promise.all([p, e, org].map((c) => c.next(dropIs(id), 6000)));
  for (const [i, c] of [p, e, org].entries()) {
    const late = c.arrivals[c.received.indexOf(got[i])] - releaseAt;
    assert.ok(late >= 0 && late < 1000, `${c.label}: drop arrived ${late} ms after release_at`);
    assert.equal(got[i].drop.title, 'Both nodes');
    assert.equal(got[i].drop.seen, false);
  }
  assert.deepEqual(got[1].drop, got[0].drop, 'the same drop on the edge');
  const again = await join(edge, bob);
  assert.deepEqual(again.hello.drops, [got[1].drop], 'hello.drops on the edge');
});

test('the flood limit counts a person\'s messages on both nodes together: the 4th within 2 s is refused', async () => {
  const room = await newWebinar();
  const zoe = await register(room, 'Zoë');
  const watcher = await join(primary, await register(room, 'Watcher'));
  const onPrimary = await join(primary, zoe);
  const onEdge = await join(edge, zoe);
  onPrimary.chat('one');
  onEdge.chat('two');
  await watcher.next(textIs('one'));
  await watcher.next(textIs('two'));
  onPrimary.chat('three');
  await watcher.next(textIs('three'));
  onEdge.chat('four');  // the edge's own room has seen only one of Zoë's messages
  const err = await onEdge.next('error');
  assert.equal(err.code, 'rate_limited');
  assert.ok(Date.parse(err.until) > Date.now(), `until ${err.until} is in the future`);
  await watcher.expectNone(textIs('four'), 500);
  // Another person on the edge is not affected.
  const other = await join(edge, await register(room, 'Other'));
  other.chat('still fine');
  await watcher.next(textIs('still fine'));
});

// Attendance is recorded at connect: the edge publishes x.present on the room's channel; the primary writes it.
async function attendanceOnEdge({ primaryFirst }) {
  const now = Date.now();
  const room = await newWebinar([{ starts_at: rfc3339(now - 10 * 60_000), duration_minutes: 60 }]);
  const [ada, bob] = [await register(room, 'Ada'), await register(room, 'Bob')];
  if (primaryFirst) {
    // The room is already in use on the primary (the organizer watching there).
    await joinOrganizer(primary, room);
    await sleep(300);
  }
  const e = await join(edge, ada);
  await sleep(2500);  // arrivals are reported a second after the join
  const post = async (body) => {
    const r = await api(primary, 'POST', `/api/webinars/${room}/drops`, { token: primary.adminToken, body: { ...body, audience_session: 1, release: 'now' } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body.id;
  };
  const att = await post({ title: 'Attended', audience: 'attended' });
  const mis = await post({ title: 'Missed', audience: 'missed' });
  const list = async (who) => (await api(primary, 'GET', `/api/webinars/${room}/drops`, { token: who.token })).body.drops.map((d) => d.id);
  await e.next(dropIs(att), 3000);
  await e.expectNone(dropIs(mis), 500);
  assert.deepEqual(await list(ada), [att]);
  assert.deepEqual(await list(bob), [mis]);
}

test('attendance of a client on the edge is recorded by the primary when the primary already hosts the room', () => attendanceOnEdge({ primaryFirst: true }));

test('attendance of a client on the edge is recorded by the primary when the edge is the first node to use the room',
  () => attendanceOnEdge({ primaryFirst: false }));

test('a ban on the primary closes the person\'s edge socket with 4003; the edge then refuses them with 403', async () => {
  const room = await newWebinar();
  const [eve, ann] = [await register(room, 'Eve'), await register(room, 'Ann')];
  const e = await join(edge, eve);
  const other = await join(edge, ann);
  const res = await api(primary, 'POST', `/api/webinars/${room}/bans`, { token: primary.adminToken, body: { registration_id: eve.id } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  const info = await closedWithin(e, 3000);
  assert.equal(info.code, 4003, `close ${info.code} ${info.reason}`);
  assertError(await refusal(edge, { token: eve.token }), 403, 'forbidden', undefined, 'banned reconnect to the edge');
  assertError(await api(edge, 'GET', `/ws?token=${eve.token}`), 403, 'forbidden', undefined, 'plain GET /ws on the edge');
  assert.ok(other.isOpen, 'others stay');
  other.chat('still here');
  await other.next(textIs('still here'));
});

test('DELETE /api/me on the primary closes the registrant\'s edge socket with 4001; the edge then refuses the token with 401', async () => {
  const room = await newWebinar();
  const cy = await register(room, 'Cy');
  const e = await join(edge, cy);
  const e2 = await join(edge, cy);
  const res = await api(primary, 'DELETE', '/api/me', { token: cy.token });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.body.status, 'cancelled');
  for (const c of [e, e2]) {
    const info = await closedWithin(c, 3000);
    assert.equal(info.code, 4001, `close ${info.code} ${info.reason}`);
  }
  assertError(await refusal(edge, { token: cy.token }), 401, 'unauthorized', undefined, 'cancelled token on the edge');
  assertError(await api(edge, 'GET', `/ws?token=${cy.token}`), 401, 'unauthorized', undefined, 'plain GET /ws, cancelled token');
  assertError(await refusal(primary, { token: cy.token }), 401, 'unauthorized', undefined, 'cancelled token on the primary');
});

test('the waitlist holds no seat: 403 waitlisted on both nodes, and both let the person in once promoted', async () => {
  const created = await api(primary, 'POST', '/api/webinars', {
    token: primary.adminToken, body: { title: 'Edge waitlist', capacity: 1, sessions: [{ starts_at: '2036-06-01T18:00:00Z', duration_minutes: 60 }] },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const room = created.body.id;
  const holder = await register(room, 'Holder');
  const wendy = await register(room, 'Wendy');
  assert.equal((await api(primary, 'GET', '/api/me', { token: wendy.token })).body.status, 'waitlisted');
  assertError(await refusal(primary, { token: wendy.token }), 403, 'waitlisted', undefined, 'waitlisted on the primary');
  // The edge learns of the waitlist through the bus: at once in practice, but asynchronously.
  const refusedOnEdge = async () => (await api(edge, 'GET', `/ws?token=${wendy.token}`)).status === 403;
  for (const end = Date.now() + 3000; !(await refusedOnEdge()) && Date.now() < end;) await sleep(50);
  assertError(await refusal(edge, { token: wendy.token }), 403, 'waitlisted', undefined, 'waitlisted on the edge');

  const res = await api(primary, 'DELETE', '/api/me', { token: holder.token });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal((await api(primary, 'GET', '/api/me', { token: wendy.token })).body.status, 'registered');
  await join(primary, wendy);
  for (const end = Date.now() + 3000; (await refusedOnEdge()) && Date.now() < end;) await sleep(50);
  await join(edge, wendy);
});

test('deleting a series closes its registrants\' sockets on both nodes (4001); its tokens are refused everywhere and its id is not reused', async () => {
  const room = await newWebinar();
  const [fay, gus] = [await register(room, 'Fay'), await register(room, 'Gus')];
  const onPrimary = await join(primary, fay);
  const onEdge = await join(edge, gus);
  const res = await api(primary, 'DELETE', `/api/webinars/${room}`, { token: primary.adminToken });
  assert.equal(res.status, 204, JSON.stringify(res.body));
  for (const c of [onPrimary, onEdge]) {
    const info = await closedWithin(c, 3000);
    assert.equal(info.code, 4001, `${c.label}: close ${info.code} ${info.reason}`);
  }
  assertError(await refusal(edge, { token: gus.token }), 401, 'unauthorized', undefined, 'a deleted series\' token on the edge');
  assertError(await refusal(primary, { token: fay.token }), 401, 'unauthorized', undefined, 'a deleted series\' token on the primary');
  assertError(await api(edge, 'GET', `/ws?token=${encodeURIComponent(primary.adminToken)}&webinar=${room}`), 404, 'not_found', undefined,
    'the organizer, for a deleted series, on the edge');
  assert.ok(await newWebinar() > room, 'the next series gets a new id');
  // Redis keeps nothing of the room (its history, state, presence) nor lists it as in use.
  const redisCli = (...args) => execFileSync('redis-cli', ['-p', String(redis.port), ...args], { encoding: 'utf8' }).trim();
  for (const end = Date.now() + 3000; redisCli('--scan', '--pattern', `cohort:chat:${room}:*`) !== '' && Date.now() < end;) await sleep(50);
  assert.equal(redisCli('--scan', '--pattern', `cohort:chat:${room}:*`), '', 'the deleted room\'s keys');
  assert.equal(redisCli('SISMEMBER', 'cohort:rooms', String(room)), '0');
});

test('viewers count the room on every node: a registrant in the edge\'s room is a viewer of the primary\'s live stream', async () => {
  const room = await newWebinar();
  const [vic, wes] = [await register(room, 'Vic'), await register(room, 'Wes')];
  const key = await api(primary, 'POST', `/api/webinars/${room}/stream-key`, { token: primary.adminToken, headers: { 'content-length': '0' } });
  assert.equal(key.status, 201, JSON.stringify(key.body));
  const rtmp = Number(/rtmp ingest on rtmp:\/\/127\.0\.0\.1:(\d+)\/live/.exec(primary.stdout)[1]);
  const ffmpeg = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=30',
    '-f', 'lavfi', '-i', 'sine', '-t', '15', '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency',
    '-g', '30', '-c:a', 'aac', '-f', 'flv', `rtmp://127.0.0.1:${rtmp}/live/${key.body.stream_key}`], { stdio: 'ignore' });
  try {
    const status = async () => (await api(primary, 'GET', `/api/webinars/${room}/stream`)).body;
    for (const end = Date.now() + 15000; !(await status()).live && Date.now() < end;) await sleep(200);
    assert.equal((await status()).live, true, 'the stream went live');
    await join(edge, vic);   // watching in the room on the edge only
    await join(primary, wes);  // and one on the primary
    // Presence reaches the primary a second after joining (x.present through Redis).
    let viewers = 0;
    for (const end = Date.now() + 5000; viewers < 2 && Date.now() < end; await sleep(200)) viewers = (await status()).viewers;
    assert.equal(viewers, 2, 'one viewer in the edge\'s room and one in the primary\'s, each counted once');
  } finally {
    ffmpeg.kill('SIGKILL');
  }
});

test('a mute set on the primary applies to a client on the edge', async () => {
  const room = await newWebinar();
  const [dan, wat] = [await register(room, 'Dan'), await register(room, 'Watcher')];
  const e = await join(edge, dan);
  const w = await join(primary, wat);
  const res = await api(primary, 'POST', `/api/webinars/${room}/mutes`, { token: primary.adminToken, body: { registration_id: dan.id, minutes: 10 } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  // The mute travels through Redis: allow it a moment, then every send is refused.
  let err;
  for (const deadline = Date.now() + 3000; ;) {
    e.chat(`try ${Date.now()}`);
    const m = await e.next((x) => x.type === 'error' || x.type === 'chat.message', 3000);
    if (m.type === 'error') { err = m; break; }
    assert.ok(Date.now() < deadline, 'still not muted on the edge after 3 s');
    await sleep(200);
  }
  assert.equal(err.code, 'muted', JSON.stringify(err));
  assert.ok(Math.abs(Date.parse(err.until) - Date.parse(res.body.until)) <= 1000, `until ${err.until} vs ${res.body.until}`);
  const relayedBefore = w.drain('chat.message').length;
  const e2 = await join(edge, dan);
  e2.chat('new connection');
  assert.equal((await e2.next('error')).code, 'muted', 'muted on a new edge connection too');
  await w.expectNone('chat.message', 300);
  assert.ok(relayedBefore <= 2, 'at most the tries before the mute arrived');
});

test('an edge started after a drop was released gives it in hello (state loaded from Redis)', async () => {
  const room = await newWebinar();
  const fay = await register(room, 'Fay');
  const r = await api(primary, 'POST', `/api/webinars/${room}/drops`, { token: primary.adminToken, body: { title: 'Before the edge', release: 'now' } });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  const onPrimary = await join(primary, fay);
  let drops = onPrimary.hello.drops;
  for (const deadline = Date.now() + 2000; !drops.length && Date.now() < deadline;) {
    await sleep(50);
    drops = (await api(primary, 'GET', `/api/webinars/${room}/drops`, { token: fay.token })).body.drops;
  }
  assert.equal(drops.length, 1, 'released on the primary');
  const late = await startEdge();
  await waitReady(late);
  const c = await connect(late, { token: fay.token, label: 'fay@late edge' });
  const hello = await c.next('hello');
  try {
    assert.deepEqual(hello.drops.map((d) => [d.id, d.title]), [[r.body.id, 'Before the edge']]);
    assert.equal(hello.drops[0].released_at, drops[0].released_at);
  } finally {
    await c.close();
    await late.stop();
  }
});

async function edgeStartFails(args) {
  const proc = spawn(cohortBin, ['--listen', '127.0.0.1:0', '--role', 'edge', '--redis', redis.url, '--primary', primary.url, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '', stdout = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  proc.stdout.on('data', (d) => { stdout += d; });
  const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
  const code = await new Promise((resolve) => proc.on('exit', (c, sig) => resolve(c ?? sig)));
  clearTimeout(timer);
  assert.equal(code, 2, `exit ${code}; stdout ${stdout} stderr ${stderr}`);
  assert.doesNotMatch(stdout, /listening/);
  return stderr;
}

test('an edge without auth.token_public_key refuses to start: exit 2, the message names auth.token_public_key', async () => {
  assert.match(await edgeStartFails([]), /auth\.token_public_key/);
});

test('an edge given the master secret (which mints tokens) refuses to start: exit 2, the message names auth.token_secret', async () => {
  const withSecret = configFile(`[auth]\ntoken_secret = "${secret}"\ntoken_public_key = "${publicKey}"\n`);
  assert.match(await edgeStartFails(['--config', withSecret]), /auth\.token_secret/);
});

test('the primary prints the token public key at start, the same as `cohort keys public`; it is not the secret', () => {
  assert.match(publicKey, /^[0-9a-f]{64}$/);
  assert.match(primary.stdout + primary.stderr, new RegExp(`token public key ${publicKey}`));
  assert.ok(!publicKey.includes(secret) && !secret.includes(publicKey));
});

// The claims of a (c2) token re-signed the way every node with the shared secret could before: "c1.", HMAC-SHA256.
function legacyToken(token, key = secret) {
  const [, payload] = token.split('.');
  const signed = `c1.${payload}`;
  return `${signed}.${createHmac('sha256', key).update(signed).digest('base64url')}`;
}

test('a c1 token made with the old shared secret is refused by the edge (401) and still accepted by the primary', async () => {
  const room = await newWebinar();
  const ivy = await register(room, 'Ivy');
  assert.match(ivy.token, /^c2\./);
  const old = legacyToken(ivy.token);
  assertError(await refusal(edge, { token: old }), 401, 'unauthorized', undefined, 'c1 on the edge');
  assertError(await api(edge, 'GET', `/ws?token=${old}`), 401, 'unauthorized', undefined, 'plain GET /ws, c1 on the edge');
  // The primary has the master secret: links mailed before the upgrade keep working there.
  const me = await api(primary, 'GET', '/api/me', { token: old });
  assert.equal(me.status, 200, JSON.stringify(me.body));
  assert.equal(me.body.id, ivy.id);
  const onPrimary = await join(primary, { ...ivy, token: old });
  assert.equal(onPrimary.hello.me.id, ivy.id);
  // The c2 token works on both.
  await join(edge, ivy);
});

test('a c2 token signed by another key pair is refused on both nodes', async () => {
  const room = await newWebinar();
  const ivy = await register(room, 'Ivy');
  const [head, payload] = ivy.token.split('.');
  const forged = `${head}.${payload}.${randomBytes(64).toString('base64url')}`;
  assertError(await refusal(edge, { token: forged }), 401, 'unauthorized', undefined, 'forged c2 on the edge');
  assertError(await refusal(primary, { token: forged }), 401, 'unauthorized', undefined, 'forged c2 on the primary');
});

test('chat.sockets_per_token (default 5) caps one token\'s sockets on each node: the 6th gets 429, closing one frees a slot', async () => {
  const room = await newWebinar();
  const kim = await register(room, 'Kim');
  const other = await register(room, 'Other');
  for (const node of [primary, edge]) {
    const open = [];
    for (let i = 0; i < 5; i++) open.push(await join(node, kim));
    assertError(await refusal(node, { token: kim.token }), 429, 'too_many_sockets', undefined, `6th socket on ${node === edge ? 'edge' : 'primary'}`);
    await join(node, other);  // another token is not affected
    const metrics = await (await fetch(`${node.url}/metrics`)).text();
    assert.match(metrics, /^cohort_chat_sockets_per_token_refused_total [1-9]/m);
    const closing = open.pop();
    await closing.close();
    clients.delete(closing);
    let again;
    for (const end = Date.now() + 3000; ;) {
      again = await api(node, 'GET', `/ws?token=${kim.token}`);
      if (again.status !== 429 || Date.now() > end) break;
      await sleep(50);
    }
    assert.equal(again.status, 426, 'a slot is free again once a socket closed');
    await join(node, kim);
  }
});

test('a mute survives a restart of a single node without Redis (stored in SQLite)', async () => {
  const s1 = await startServer();
  servers.push(s1);
  const room = (await api(s1, 'POST', '/api/webinars', { token: s1.adminToken,
    body: { title: 'Mute restart', sessions: [{ starts_at: '2036-06-01T18:00:00Z', duration_minutes: 60 }] } })).body.id;
  const ida = (await api(s1, 'POST', `/api/webinars/${room}/registrations`, { body: { name: 'Ida', email: 'ida@example.com', consent: true } })).body;
  const res = await api(s1, 'POST', `/api/webinars/${room}/mutes`, { token: s1.adminToken, body: { registration_id: ida.id, minutes: 30 } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  assert.equal((await s1.stop()).code, 0);
  const s2 = await startServer({ dataDir: s1.dataDir, adminToken: s1.adminToken });
  servers.push(s2);
  const c = await connect(s2, { token: ida.token, label: 'ida after restart' });
  await c.next('hello');
  c.chat('am I still muted');
  const err = await c.next((m) => m.type === 'error' || m.type === 'chat.message');
  await c.close();
  await s2.stop();
  assert.equal(err.type, 'error', `after a restart the muted person could post: ${JSON.stringify(err)}`);
  assert.equal(err.code, 'muted');
  assert.ok(Math.abs(Date.parse(err.until) - Date.parse(res.body.until)) <= 1000, `until ${err.until} vs ${res.body.until}`);
});

// Last: restarts the primary (on another port) and empties Redis.
test('a mute survives a restart of the primary (stored in SQLite) and still reaches the edge after Redis came back empty',
  { timeout: 30_000 },
  async () => {
    const room = await newWebinar();
    const hal = await register(room, 'Hal');
    const res = await api(primary, 'POST', `/api/webinars/${room}/mutes`, { token: primary.adminToken, body: { registration_id: hal.id, minutes: 30 } });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const before = await join(edge, hal);
    before.chat('muted before the restart');
    assert.equal((await before.next('error')).code, 'muted');
    await before.close();
    clients.delete(before);

    assert.equal((await primary.stop()).code, 0);
    await redis.kill9();
    await redis.start();
    const old = primary;
    primary = await startServer({ args: ['--config', config, '--redis', redis.url], dataDir: old.dataDir, adminToken: old.adminToken });
    servers.push(primary);
    await waitReady(primary);
    await waitReady(edge);
    await sleep(500);
    const { exitCode, signalCode } = primary.proc;
    assert.ok(exitCode === null && signalCode === null, `the restarted primary died (exit ${exitCode ?? signalCode}); stderr tail:\n${primary.stderr.slice(-1000)}`);

    for (const [node, where] of [[primary, 'primary'], [edge, 'edge']]) {
      let err;
      for (const deadline = Date.now() + 5000; ;) {
        const c = await join(node, hal);
        c.chat(`after the restart on the ${where}`);
        const m = await c.next((x) => x.type === 'error' || x.type === 'chat.message', 3000);
        await c.close();
        clients.delete(c);
        if (m.type === 'error') { err = m; break; }
        assert.ok(Date.now() < deadline, `not muted on the ${where} within 5 s of the restart (the mute was lost)`);
        await sleep(250);
      }
      assert.equal(err.code, 'muted', JSON.stringify(err));
      assert.ok(Math.abs(Date.parse(err.until) - Date.parse(res.body.until)) <= 1000, `${where}: until ${err.until} vs ${res.body.until}`);
    }
  });
