// Two cohort nodes on one Redis act as one chat room: node A is the primary (database, API),
// node B an edge (no database: registrant tokens checked by signature with the primary's
// auth.token_public_key, /api redirected to A). One order (seq) across nodes, catch-up through either
// node, moderation on the primary reaching clients of the edge, and recovery when Redis is killed
// and comes back empty. Real redis-server, real nodes, real sockets.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { startServer, api, cohortBin } from '../support/server.mjs';
import { startRedis } from '../support/redis.mjs';
import { connect } from '../support/ws.mjs';

let redis, a, b, webinar;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

before(async () => {
  redis = await startRedis();
  // A flood limit loose enough for the 1000-message test; the primary's master secret, and for
  // the edge only the public key derived from it.
  const dir = mkdtempSync(path.join(tmpdir(), 'cohort-redis-'));
  const config = path.join(dir, 'cohort.toml');
  const chat = `[chat]\nflood_messages = 200\nflood_window_ms = 1000\n`;
  writeFileSync(config, `${chat}\n[auth]\ntoken_secret = "${randomBytes(32).toString('hex')}"\n`, { mode: 0o600 });
  const publicKey = execFileSync(cohortBin, ['keys', 'public', '--config', config], { encoding: 'utf8' }).trim();
  const edgeConfig = path.join(dir, 'edge.toml');
  writeFileSync(edgeConfig, `${chat}\n[auth]\ntoken_public_key = "${publicKey}"\n`);
  a = await startServer({ args: ['--config', config, '--redis', redis.url] });
  // The second node is an edge: no database of its own, the primary's admin token for the organizer.
  b = await startServer({ args: ['--config', edgeConfig, '--redis', redis.url, '--role', 'edge', '--primary', a.url], adminToken: a.adminToken });
  const res = await api(a, 'POST', '/api/webinars', {
    token: a.adminToken,
    body: { title: 'Two nodes', weekly: { first_starts_at: '2030-01-07T18:00:00Z', count: 2 } },
  });
  assert.equal(res.status, 201);
  webinar = res.body;
});

after(async () => {
  await b?.stop();
  await a?.stop();
  await redis?.stop();
  a?.cleanup();
  b?.cleanup();
});

async function registrant(name) {
  const res = await api(a, 'POST', `/api/webinars/${webinar.id}/registrations`, {
    body: { name, email: `${name.toLowerCase().replace(/\W/g, '')}-${Date.now()}-${Math.random()}@example.com`, consent: true },
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

async function join(node, person, opts = {}) {
  const c = await connect(node, { token: person.token, label: `${person.id}@${node === a ? 'A' : 'B'}`, ...opts });
  await c.next('hello');
  return c;
}

async function waitReady(node, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await api(node, 'GET', '/readyz');
    if (r.status === 200) return;
    if (Date.now() > deadline) throw new Error(`node not ready within ${timeoutMs} ms (last ${r.status})`);
    await sleep(100);
  }
}

test('both nodes are ready with Redis; 1000 messages from senders on both nodes reach every client in one seq order', async () => {
  await waitReady(a);
  await waitReady(b);
  const people = await Promise.all(Array.from({ length: 10 }, (_, i) => registrant(`Sender ${i}`)));
  const clients = await Promise.all(people.map((p, i) => join(i % 2 ? b : a, p)));
  // 10 senders × 100 messages, half on each node, all at once.
  for (const [i, c] of clients.entries()) for (let k = 0; k < 100; k++) c.chat(`m ${i}-${k}`, { client_id: `c${i}-${k}` });
  const seen = await Promise.all(clients.map((c) => c.collect('chat.message', 1000, 30000)));
  const first = seen[0].map((m) => `${m.seq}:${m.id}:${m.text}`);
  assert.equal(new Set(first).size, 1000);
  for (const s of seen) assert.deepEqual(s.map((m) => `${m.seq}:${m.id}:${m.text}`), first, 'every client, on either node, sees one order');
  const seqs = seen[0].map((m) => m.seq);
  for (let i = 1; i < seqs.length; i++) assert.equal(seqs[i], seqs[i - 1] + 1, 'no gap or duplicate');
  // Each sender's own messages keep the order they were sent in.
  for (let i = 0; i < 10; i++) {
    const mine = seen[0].filter((m) => m.text.startsWith(`m ${i}-`)).map((m) => Number(m.text.split('-')[1]));
    assert.deepEqual(mine, Array.from({ length: 100 }, (_, k) => k));
  }
  await Promise.all(clients.map((c) => c.close()));
});

test('a client that reconnects to the other node with since + epoch recovers exactly what it missed', async () => {
  const [ada, bob] = [await registrant('Ada'), await registrant('Bob')];
  const onA = await join(a, ada);
  const bobFirst = await join(b, bob);
  const { epoch, seq } = bobFirst.hello;
  await bobFirst.close();
  for (let k = 0; k < 3; k++) onA.chat(`missed ${k}`);
  const sent = await onA.collect('chat.message', 3, 5000);
  const back = await connect(a === a ? b : a, { token: bob.token, since: seq, epoch, label: 'bob again' });
  const hello = await back.next('hello');
  assert.equal(hello.recovered, true);
  assert.deepEqual(hello.messages.map((m) => m.id), sent.map((m) => m.id));
  await back.close();
  await onA.close();
});

test('a ban through node A (the primary) closes the person’s socket on node B (the edge) with 4003 and refuses reconnects', async () => {
  const eve = await registrant('Eve');
  const onB = await join(b, eve);
  const res = await api(a, 'POST', `/api/webinars/${webinar.id}/bans`, { token: a.adminToken, body: { registration_id: eve.id } });
  assert.equal(res.status, 201);
  const closed = await Promise.race([onB.closed, sleep(5000).then(() => null)]);
  assert.ok(closed, 'the banned client on node B was not closed');
  assert.equal(closed.code, 4003);
  await assert.rejects(connect(b, { token: eve.token }), (err) => err.status === 403);
});

test('presence counts people on both nodes', async () => {
  const room = await api(a, 'POST', '/api/webinars', {
    token: a.adminToken,
    body: { title: 'Presence', weekly: { first_starts_at: '2030-02-04T18:00:00Z', count: 1 } },
  });
  assert.equal(room.status, 201);
  const signup = async (name) => (await api(a, 'POST', `/api/webinars/${room.body.id}/registrations`, {
    body: { name, email: `${name}-${Date.now()}@example.com`, consent: true },
  })).body;
  const [p1, p2, p3] = [await signup('p1'), await signup('p2'), await signup('p3')];
  const waitCount = async (client, n) => {
    for (;;) {
      const m = await client.next('presence', 6000);
      if (m.count === n) return;
    }
  };
  const c1 = await join(a, p1);
  const c2 = await join(b, p2);
  await waitCount(c1, 2);                       // node A's client hears about node B's
  const c3 = await join(b, p3);
  await Promise.all([waitCount(c1, 3), waitCount(c2, 3)]);
  await c3.close();
  await waitCount(c1, 2);
  await Promise.all([c1.close(), c2.close()]);
});

test('Redis killed mid-chat: sends are refused as unavailable, both nodes recover within 5 s, chat resumes', async () => {
  const [ann, ben] = [await registrant('Ann'), await registrant('Ben')];
  const onA = await join(a, ann);
  const onB = await join(b, ben);
  onA.chat('before the crash');
  await onB.next((m) => m.type === 'chat.message' && m.text === 'before the crash', 5000);

  await redis.kill9();
  await sleep(300);
  assert.equal((await api(a, 'GET', '/readyz')).status, 503, 'readyz reports the bus down');
  assert.equal((await api(b, 'GET', '/readyz')).status, 503, 'the edge reports the bus down too');
  onA.chat('while down');
  const refused = await onA.next('error', 5000);
  assert.equal(refused.code, 'unavailable');
  assert.ok(onA.isOpen && onB.isOpen, 'local sockets stay open');

  await redis.start();
  await waitReady(a, 5000);
  await waitReady(b, 5000);
  // Redis came back empty: a new history. Connected clients are told to reconnect (1012), and
  // their old seqs are not trusted: recovered:false under a new epoch.
  for (const c of [onA, onB]) {
    const closed = await Promise.race([c.closed, sleep(5000).then(() => null)]);
    assert.equal(closed?.code, 1012, 'a client of the lost history is asked to reconnect');
  }
  const reA = await connect(a, { token: ann.token, since: onA.hello.seq, epoch: onA.hello.epoch, label: 'ann after' });
  const again = await connect(b, { token: ben.token, since: onB.hello.seq, epoch: onB.hello.epoch, label: 'ben after' });
  const hello = await again.next('hello');
  await reA.next('hello');
  assert.equal(hello.recovered, false);
  assert.notEqual(hello.epoch, onB.hello.epoch);
  reA.chat('after the crash');
  const got = await again.next((m) => m.type === 'chat.message' && m.text === 'after the crash', 5000);
  assert.equal(got.seq, 1, 'the new history starts at seq 1');
  await reA.close();
  await again.close();
});
