// Live chat over WebSocket against a real build/cohort (single node): hello, one total order per room, catch-up,
// idempotent client_id, flood limit, text validation, bad frames, presence, upgrade refusals, moderation and the
// transcript export. Every server message is checked against proto/ws/*.schema.json by tests/support/ws.mjs.
// Each test uses its own webinar (= room), so seqs start at 0 and rate limits do not leak between tests.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, api } from '../support/server.mjs';
import { assertError, sleep } from '../support/http.mjs';
import { connect, refusal, expectRefused, originOf } from '../support/ws.mjs';
import { parseCsv } from '../support/csv.mjs';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const UTC_SECONDS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const KiB = 1024;

let server;
let emails = 0;
const clients = new Set();

// The catch-up test holds 336 sockets from this one address (above the default
// limits.connections_per_ip) and signs up over 300 people into one series (registration.series_per_minute).
before(async () => {
  const config = path.join(mkdtempSync(path.join(tmpdir(), 'cohort-chat-')), 'chat.toml');
  writeFileSync(config, '[limits]\nconnections_per_ip = 1000\n[registration]\nseries_per_minute = 0\n');
  server = await startServer({ args: ['--config', config] });
});
after(async () => {
  if (server) {
    await server.stop();
    server.cleanup();
  }
});
// Closes what the test left open; a schema or ordering violation any client saw fails the test here.
afterEach(async () => {
  const open = [...clients];
  clients.clear();
  const results = await Promise.allSettled(open.map((c) => c.close()));
  const failures = results.filter((r) => r.status === 'rejected').map((r) => r.reason.message);
  const { exitCode, signalCode } = server.proc;
  assert.ok(exitCode === null && signalCode === null,
    `the server died during this test (exit ${exitCode ?? signalCode}); stderr tail:\n${server.stderr.slice(-2000)}`);
  assert.deepEqual(failures, [], 'protocol violations seen by clients of this test');
});

async function newRoom(s = server) {
  const res = await api(s, 'POST', '/api/webinars', {
    token: s.adminToken,
    body: { title: 'Chat test', description: '', capacity: null, sessions: [{ starts_at: '2036-06-01T18:00:00Z', duration_minutes: 60 }] },
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.id;
}

// Signs up one person: { id, token, name }.
async function register(room, name = 'Ada Lovelace', s = server) {
  const res = await api(s, 'POST', `/api/webinars/${room}/registrations`,
    { body: { name, email: `chat${++emails}@example.com`, consent: true } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  assert.equal(res.body.status, 'registered');
  return { id: res.body.id, token: res.body.token, name };
}

function registerMany(room, n, prefix) {
  return Promise.all(Array.from({ length: n }, (_, i) => register(room, `${prefix} ${i}`)));
}

// Connects and waits for the hello (client.hello); the client is closed after the test.
async function join(opts, s = server) {
  const c = await connect(s, opts);
  clients.add(c);
  await c.next('hello');
  return c;
}

const joinAs = (person, extra = {}) => join({ token: person.token, label: person.name, ...extra });
const joinOrganizer = (room, extra = {}) => join({ token: server.adminToken, webinar: room, label: 'organizer', ...extra });

// Connects in batches so a hundred handshakes do not all land at once.
async function joinAll(people, batch = 20) {
  const out = [];
  for (let i = 0; i < people.length; i += batch) out.push(...await Promise.all(people.slice(i, i + batch).map((p) => joinAs(p))));
  return out;
}

const textIs = (text) => Object.assign((m) => m.type === 'chat.message' && m.text === text, { label: `chat.message "${text.slice(0, 40)}"` });
const errorCode = (code) => Object.assign((m) => m.type === 'error' && m.code === code, { label: `error ${code}` });
const presenceCount = (n) => Object.assign((m) => m.type === 'presence' && m.count === n, { label: `presence ${n}` });
const withoutClientId = ({ client_id, ...rest }) => rest;

// Sends and waits for the sender's own copy.
async function say(client, text, extra) {
  client.chat(text, extra);
  return client.next(textIs(text));
}

function assertCloseCode(info, code, what) {
  assert.equal(info.code, code, `${what}: expected close ${code}, got ${info.code} ${JSON.stringify(info.reason)}`);
}

async function closedWithin(client, ms) {
  return Promise.race([client.closed, sleep(ms).then(() => { throw new Error(`${client.label}: still open after ${ms} ms`); })]);
}

test('hello: shape, me for a registrant and for the organizer, an empty room', async () => {
  const room = await newRoom();
  const ada = await register(room, 'Ada Lovelace');
  const a = await joinAs(ada);
  assert.deepEqual(a.hello.me, { id: ada.id, name: 'Ada Lovelace', role: 'registrant' });
  assert.equal(a.hello.room, room);
  assert.equal(a.hello.seq, 0, 'an empty room has seq 0');
  assert.equal(a.hello.recovered, false, 'a first connection (no since) recovers nothing');
  assert.deepEqual(a.hello.messages, []);
  assert.equal(a.hello.presence, 1, 'the only one in the room');

  const org = await joinOrganizer(room);
  assert.equal(org.hello.me.id, 0);
  assert.equal(org.hello.me.role, 'organizer');
  assert.equal(org.hello.room, room);
  assert.equal(org.hello.epoch, a.hello.epoch, 'one epoch per room');

  // The token as an Authorization header (non-browser clients).
  const b = await join({ headers: { authorization: `Bearer ${ada.token}` }, label: 'bearer' });
  assert.deepEqual(b.hello.me, a.hello.me);
  assert.equal(b.hello.room, room);

  // After a message, hello carries it and the room's seq.
  const m = await say(a, 'First!');
  const c = await joinAs(ada);
  assert.equal(c.hello.seq, m.seq);
  assert.deepEqual(c.hello.messages.map(withoutClientId), [withoutClientId(m)]);
});

test('two clients see each other\'s messages in the same seq order, seq +1 each', async () => {
  const room = await newRoom();
  const [ada, bob] = [await register(room, 'Ada'), await register(room, 'Bob')];
  const a = await joinAs(ada);
  const b = await joinAs(bob);
  const epoch = a.hello.epoch;

  const before = Date.now();
  a.chat('Hi from Ada', { client_id: 'ada-1' });
  const [a1, b1] = [await a.next('chat.message'), await b.next('chat.message')];
  assert.equal(a1.seq, a.hello.seq + 1);
  assert.equal(a1.id, `${epoch}-${a1.seq}`, 'message id is <epoch>-<seq>');
  assert.deepEqual(a1.from, { id: ada.id, name: 'Ada', role: 'registrant' });
  assert.equal(a1.text, 'Hi from Ada');
  assert.equal(a1.client_id, 'ada-1', 'client_id echoed to the sender');
  assert.match(a1.ts, UTC_SECONDS);
  assert.ok(Math.abs(Date.parse(a1.ts) - before) < 5000, `ts ${a1.ts} is now`);
  assert.deepEqual(withoutClientId(b1), withoutClientId(a1), 'both see the same message');
  assert.ok(!('client_id' in b1), 'the client_id goes live to its sender only');

  b.chat('Hi Ada');
  const [a2, b2] = [await a.next('chat.message'), await b.next('chat.message')];
  assert.deepEqual(a2, b2);
  assert.equal(a2.seq, a1.seq + 1);
  assert.deepEqual(a2.from, { id: bob.id, name: 'Bob', role: 'registrant' });
  assert.ok(!('client_id' in a2), 'no client_id when the sender gave none');

  // Sent at the same time from both sides: one order for everybody.
  a.chat('a-x'); b.chat('b-x'); a.chat('a-y'); b.chat('b-y');
  const seenA = await a.collect('chat.message', 4);
  const seenB = await b.collect('chat.message', 4);
  assert.deepEqual(seenA.map((m) => [m.seq, m.text]), seenB.map((m) => [m.seq, m.text]));
  assert.deepEqual(seenA.map((m) => m.seq), [a2.seq + 1, a2.seq + 2, a2.seq + 3, a2.seq + 4]);
  assert.deepEqual(seenA.map((m) => m.text).sort(), ['a-x', 'a-y', 'b-x', 'b-y']);
});

test('200 messages from 67 senders arrive on every client in one seq order, without gap or duplicate', { timeout: 90_000 }, async () => {
  const room = await newRoom();
  const senders = await registerMany(room, 67, 'Sender');
  const watchers = await registerMany(room, 2, 'Watcher');
  const all = await joinAll([...watchers, ...senders]);
  all.push(await joinOrganizer(room));
  const base = all[0].hello.seq;

  // 66 × 3 + 1 × 2 = 200, each sender within its 3-per-2-s allowance.
  const expected = [];
  senders.forEach((p, i) => {
    const c = all[watchers.length + i];
    for (let j = 0; j < (i < 66 ? 3 : 2); j++) {
      const text = `m ${i}.${j}`;
      expected.push(text);
      c.chat(text);
    }
  });
  assert.equal(expected.length, 200);

  const streams = await Promise.all(all.map((c) => c.collect('chat.message', 200, 60_000)));
  const reference = streams[0];
  assert.deepEqual(reference.map((m) => m.seq), Array.from({ length: 200 }, (_, i) => base + 1 + i), 'seqs are consecutive');
  assert.deepEqual(reference.map((m) => m.text).sort(), [...expected].sort(), 'every message exactly once');
  const order = reference.map((m) => `${m.seq} ${m.id} ${m.text}`);
  streams.forEach((s, i) => assert.deepEqual(s.map((m) => `${m.seq} ${m.id} ${m.text}`), order, `client ${all[i].label} saw another order`));
  for (const c of all) assert.deepEqual(c.drain('error'), [], `${c.label} got errors`);

  // A late joiner gets the last 50 of them, equal to the live copies.
  const late = await joinAs(watchers[0]);
  assert.equal(late.hello.seq, base + 200);
  assert.equal(late.hello.recovered, false);
  assert.deepEqual(late.hello.messages, reference.slice(-50));
});

test('reconnect with since and epoch recovers exactly the missed messages', async () => {
  const room = await newRoom();
  const [ada, bob, cy, watcher] = [await register(room, 'Ada'), await register(room, 'Bob'), await register(room, 'Cy'), await register(room, 'Watcher')];
  const a = await joinAs(ada);
  const b = await joinAs(bob);
  const c = await joinAs(cy);
  const w = await joinAs(watcher);
  const { epoch } = a.hello;

  await say(b, 'one');
  await say(b, 'two');
  const seenByA = await a.collect('chat.message', 2);
  const since = seenByA.at(-1).seq;
  await a.close();
  clients.delete(a);

  const missed = [await say(c, 'three'), await say(c, 'four'), await say(c, 'five')];
  const live = await w.collect('chat.message', 5);

  const back = await joinAs(ada, { since, epoch });
  assert.equal(back.hello.recovered, true, 'history covers the gap');
  assert.equal(back.hello.epoch, epoch);
  assert.equal(back.hello.seq, missed.at(-1).seq);
  assert.deepEqual(back.hello.messages, live.slice(2), 'exactly the missed messages, oldest first');
  assert.deepEqual(back.hello.messages.map((m) => m.text), ['three', 'four', 'five']);

  const upToDate = await joinAs(ada, { since: back.hello.seq, epoch });
  assert.equal(upToDate.hello.recovered, true);
  assert.deepEqual(upToDate.hello.messages, []);

  const noEpoch = await joinAs(ada, { since });
  assert.equal(noEpoch.hello.recovered, true, 'since without epoch is taken against the current epoch');
  assert.deepEqual(noEpoch.hello.messages, live.slice(2));

  const fromStart = await joinAs(ada, { since: 0, epoch });
  assert.equal(fromStart.hello.recovered, true);
  assert.deepEqual(fromStart.hello.messages, live);

  // The recovered connection is live.
  const six = await say(b, 'six');
  assert.deepEqual(await back.next('chat.message'), six);
});

test('since with a wrong epoch: recovered false and the last 50; since 0 recovers all 60', { timeout: 60_000 }, async () => {
  const room = await newRoom();
  const senders = await registerMany(room, 20, 'Talker');
  const watcher = await register(room, 'Watcher');
  const w = await joinAs(watcher);
  const conns = await joinAll(senders);
  conns.forEach((c, i) => { for (let j = 0; j < 3; j++) c.chat(`t ${i}.${j}`); });
  const live = await w.collect('chat.message', 60, 20_000);
  const { epoch } = w.hello;

  const stale = await joinAs(watcher, { since: 10, epoch: `${epoch}x` });
  assert.notEqual(stale.hello.epoch, `${epoch}x`);
  assert.equal(stale.hello.recovered, false, 'another epoch cannot be recovered');
  assert.equal(stale.hello.seq, live.at(-1).seq);
  assert.deepEqual(stale.hello.messages, live.slice(-50), 'the last 50, oldest first');

  const fresh = await joinAs(watcher);
  assert.equal(fresh.hello.recovered, false);
  assert.deepEqual(fresh.hello.messages, live.slice(-50));

  const all = await joinAs(watcher, { since: 0, epoch });
  assert.equal(all.hello.recovered, true);
  assert.deepEqual(all.hello.messages, live, 'catch-up is not capped at 50');
});

test('catch-up covers the last 1000 messages: one more missed and it is recovered false with the last 50', { timeout: 120_000 }, async () => {
  const room = await newRoom();
  const senders = await registerMany(room, 335, 'Crowd');
  const watcher = await register(room, 'Watcher');
  const w = await joinAs(watcher);
  const conns = await joinAll(senders, 25);
  conns.forEach((c, i) => { for (let j = 0; j < 3; j++) c.chat(`h ${i}.${j}`); });
  const live = await w.collect('chat.message', 1005, 60_000);
  const { epoch } = w.hello;
  const first = live[0].seq;  // history holds the last 1000: seqs first+5 .. first+1004
  await Promise.all(conns.map((c) => c.close()));
  conns.forEach((c) => clients.delete(c));

  const covered = await joinAs(watcher, { since: first + 4, epoch });
  assert.equal(covered.hello.recovered, true, 'missing exactly the last 1000: still covered');
  assert.deepEqual(covered.hello.messages, live.slice(5));
  await covered.close();
  clients.delete(covered);

  const tooOld = await joinAs(watcher, { since: first + 3, epoch });
  assert.equal(tooOld.hello.recovered, false, 'missing 1001: not covered');
  assert.deepEqual(tooOld.hello.messages, live.slice(-50));
});

test('the same client_id twice from the same person is delivered once, also across a reconnect', async () => {
  const room = await newRoom();
  const [ada, bob, watcher] = [await register(room, 'Ada'), await register(room, 'Bob'), await register(room, 'Watcher')];
  const a = await joinAs(ada);
  const w = await joinAs(watcher);

  a.chat('retry me', { client_id: 'dup-1' });
  a.chat('retry me', { client_id: 'dup-1' });
  a.chat('after the retry', { client_id: 'dup-2' });
  await w.next(textIs('after the retry'));
  const got = w.received.filter((m) => m.type === 'chat.message').map((m) => [m.text, m.client_id]);
  assert.deepEqual(got, [['retry me', undefined], ['after the retry', undefined]], 'client_id goes to its sender only');
  await a.next(textIs('after the retry'));
  assert.deepEqual(a.received.filter((m) => m.type === 'chat.message').map((m) => [m.text, m.client_id]),
    [['retry me', 'dup-1'], ['after the retry', 'dup-2']]);
  assert.deepEqual(a.drain('error'), [], 'a repeated client_id is ignored silently');

  // A retry on a new connection after the first was lost.
  await sleep(2200);
  await a.close();
  clients.delete(a);
  const a2 = await joinAs(ada);
  a2.chat('retry me', { client_id: 'dup-1' });
  a2.chat('after reconnect', { client_id: 'dup-3' });
  await w.next(textIs('after reconnect'));
  assert.equal(w.received.filter(textIs('retry me')).length, 1, 'the retry after a reconnect was delivered again');
  assert.deepEqual(a2.drain('error'), []);

  // The same client_id from someone else is another message.
  const b = await joinAs(bob);
  const theirs = await say(b, 'retry me', { client_id: 'dup-1' });
  assert.equal(theirs.from.id, bob.id);
  await w.next(Object.assign((m) => textIs('retry me')(m) && m.from.id === bob.id, { label: "Bob's \"retry me\"" }));
});

test('flood limit: the 4th message within 2 s gets rate_limited with until about 10 s ahead, and is not relayed', async () => {
  const room = await newRoom();
  const [ada, bob, watcher] = [await register(room, 'Ada'), await register(room, 'Bob'), await register(room, 'Watcher')];
  const a = await joinAs(ada);
  const w = await joinAs(watcher);

  const sentAt = Date.now();
  for (const t of ['r1', 'r2', 'r3', 'r4']) a.chat(t);
  const err = await a.next('error');
  assert.equal(err.code, 'rate_limited', JSON.stringify(err));
  const ahead = Date.parse(err.until) - sentAt;
  assert.ok(ahead >= 8000 && ahead <= 12_000, `until ${err.until} is ${ahead} ms ahead, expected about 10 s`);
  assert.deepEqual((await w.collect('chat.message', 3)).map((m) => m.text), ['r1', 'r2', 'r3']);

  await sleep(2500);  // past the 2 s window, still inside the 10 s penalty
  a.chat('r5');
  const again = await a.next('error');
  assert.equal(again.code, 'rate_limited', 'everything until `until` gets the same error');
  assert.ok(Math.abs(Date.parse(again.until) - Date.parse(err.until)) <= 1000, `until moved: ${err.until} → ${again.until}`);

  const b = await joinAs(bob);
  await say(b, 'others can still talk');
  await w.next(textIs('others can still talk'));
  assert.deepEqual(w.received.filter((m) => m.type === 'chat.message' && m.from.id === ada.id).map((m) => m.text), ['r1', 'r2', 'r3']);
});

test('text validation: empty, blank, 501 characters, control characters and newline get error invalid', async () => {
  const room = await newRoom();
  const bad = ['', '   ', 'x'.repeat(501), 'é'.repeat(501), 'bell \u0007', 'line\nbreak', 'carriage\rreturn', 'tab\there', 'nul\u0000', 'del\u007f', 'c1\u0085'];
  const people = await registerMany(room, bad.length, 'Bad');
  const watcher = await register(room, 'Watcher');
  const w = await joinAs(watcher);
  const conns = await joinAll(people);
  conns.forEach((c, i) => c.chat(bad[i]));
  for (const [i, c] of conns.entries()) {
    const err = await c.next('error');
    assert.equal(err.code, 'invalid', `${JSON.stringify(bad[i].slice(0, 20))}: ${JSON.stringify(err)}`);
  }
  // A text that is not a string is refused too (the contract does not say which of the two codes).
  const other = await joinAs(await register(room, 'Typed'));
  other.send({ type: 'chat.send', text: 42 });
  const typed = await other.next('error');
  assert.ok(['invalid', 'bad_message'].includes(typed.code), JSON.stringify(typed));

  // client_id is at most 64 characters.
  const longId = await joinAs(await register(room, 'Long id'));
  longId.chat('fine text', { client_id: 'c'.repeat(65) });
  const idErr = await longId.next('error');
  assert.ok(['invalid', 'bad_message'].includes(idErr.code), JSON.stringify(idErr));
  const okId = await say(longId, 'id of 64', { client_id: 'c'.repeat(64) });
  assert.equal(okId.client_id, 'c'.repeat(64));

  // Limits counted in characters, after trimming; the senders are still usable.
  const good = ['x'.repeat(500), 'é'.repeat(500), '😀'.repeat(500), ` ${'y'.repeat(500)} `, 'déjà vu — 你好'];
  for (const [i, text] of good.entries()) {
    conns[i].chat(text);
    const own = Object.assign((m) => m.type === 'chat.message' && m.from.id === people[i].id, { label: `${people[i].name}'s message` });
    const m = await conns[i].next(own).catch((e) => {
      const errs = conns[i].drain('error');
      throw new Error(`valid text of ${[...text].length} characters not relayed: ${e.message} ${JSON.stringify(errs)}`);
    });
    assert.equal(m.text.trim(), text.trim());
  }
  // The watcher's own stream (it may lag behind the senders'): an invalid text relayed would show up in it.
  const relayed = (await w.collect('chat.message', 1 + good.length)).map((m) => m.text.trim());
  assert.deepEqual(relayed, ['id of 64', ...good.map((t) => t.trim())], 'nothing invalid was relayed');
  await w.expectNone('chat.message', 200);
});

test('bad input: non-JSON, unknown type, JSON that is not an object get bad_message and the connection stays usable', async () => {
  const room = await newRoom();
  const frames = ['not json', '{"type":"chat.fly","text":"x"}', '[1,2,3]', '"chat.send"', '42', 'null', '{"text":"no type"}', '{"type":"chat.send"', '{"type":42}'];
  const people = await registerMany(room, frames.length, 'Odd');
  const conns = await joinAll(people);
  conns.forEach((c, i) => c.sendRaw(frames[i]));
  for (const [i, c] of conns.entries()) {
    const err = await c.next('error');
    assert.equal(err.code, 'bad_message', `${frames[i]}: ${JSON.stringify(err)}`);
  }
  for (const [i, c] of conns.entries()) {
    assert.ok(c.isOpen, `closed after ${frames[i]}`);
    await say(c, `still here ${i}`);
  }
});

test('a binary frame closes the connection with 1003', async () => {
  const room = await newRoom();
  const c = await joinAs(await register(room));
  c.sendRaw(Buffer.from('{"type":"chat.send","text":"binary"}'), { binary: true });
  assertCloseCode(await closedWithin(c, 5000), 1003, 'binary frame');
});

test('a frame over 16 KiB closes the connection with 1009; exactly 16 KiB is accepted', async () => {
  const room = await newRoom();
  const watcher = await joinAs(await register(room, 'Watcher'));
  const c = await joinAs(await register(room));
  const pad = (json, size) => json + ' '.repeat(size - Buffer.byteLength(json));
  c.sendRaw(pad('{"type":"chat.send","text":"just fits"}', 16 * KiB));
  await c.next(textIs('just fits'));
  c.sendRaw(pad('{"type":"chat.send","text":"too big"}', 16 * KiB + 1));
  assertCloseCode(await closedWithin(c, 5000), 1009, 'frame of 16 KiB + 1');
  await watcher.expectNone(textIs('too big'), 300);
});

test('a text frame with invalid UTF-8 closes the connection with 1007', async () => {
  const room = await newRoom();
  const c = await joinAs(await register(room));
  c.sendRaw(Buffer.concat([Buffer.from('{"type":"chat.send","text":"'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}')]));
  assertCloseCode(await closedWithin(c, 5000), 1007, 'invalid UTF-8');
});

test('a flood of 10 000 messages from one client: it is limited, others keep chatting, the server stays responsive', { timeout: 90_000 }, async () => {
  const room = await newRoom();
  const [flooder, bob, watcher] = [await register(room, 'Flooder'), await register(room, 'Bob'), await register(room, 'Watcher')];
  const f = await joinAs(flooder);
  const b = await joinAs(bob);
  const w = await joinAs(watcher);

  for (let i = 0; i < 10_000; i++) f.chat(`flood ${i}`);

  const t0 = Date.now();
  const health = await fetch(`${server.url}/healthz`, { signal: AbortSignal.timeout(3000) });
  assert.equal(health.status, 200);
  assert.ok(Date.now() - t0 < 3000);
  b.chat('still chatting');
  await w.next(textIs('still chatting'), 5000);

  // The flooder gets the same rate_limited error for everything past the third message, or is disconnected.
  const deadline = Date.now() + 30_000;
  while (f.isOpen && f.received.filter((m) => m.type === 'error').length < 9997 && Date.now() < deadline) await sleep(100);
  const errors = f.received.filter((m) => m.type === 'error');
  assert.ok(!f.isOpen || errors.length === 9997, `flooder still open with ${errors.length} errors (expected 9997, one per rejected message)`);
  assert.deepEqual([...new Set(errors.map((e) => e.code))].filter((c) => c !== 'rate_limited'), [], 'only rate_limited errors');

  const fromFlooder = w.received.filter((m) => m.type === 'chat.message' && m.from.id === flooder.id).map((m) => m.text);
  assert.deepEqual(fromFlooder, ['flood 0', 'flood 1', 'flood 2'], 'only the first 3 were relayed');
  // Still responsive and still chatting afterwards.
  assert.equal((await api(server, 'GET', '/healthz')).status, 200);
  const late = await joinAs(await register(room, 'Late'));
  await say(late, 'after the flood');
  await w.next(textIs('after the flood'));
});

test('presence: count goes 1 → 2 → 1 as people join and leave, at most once a second, only on change', { timeout: 30_000 }, async () => {
  const room = await newRoom();
  const [ada, bob] = [await register(room, 'Ada'), await register(room, 'Bob')];
  const a = await joinAs(ada);
  assert.equal(a.hello.presence, 1);
  const b = await joinAs(bob);
  assert.equal(b.hello.presence, 2);
  await a.next(presenceCount(2), 1600);
  await b.close();
  clients.delete(b);
  await a.next(presenceCount(1), 1600);

  const crowd = await registerMany(room, 8, 'Crowd');
  await Promise.all(crowd.map((p) => joinAs(p)));
  await a.next(presenceCount(9), 3000);
  await sleep(1200);  // let a last update (if any) arrive, then the count is stable
  const updates = a.received.map((m, i) => ({ m, at: a.arrivals[i] })).filter(({ m }) => m.type === 'presence');
  for (let i = 1; i < updates.length; i++) {
    const gap = updates[i].at - updates[i - 1].at;
    assert.ok(gap >= 800, `two presence messages ${gap} ms apart: ${JSON.stringify(updates.map(({ m, at }) => [m.count, at - updates[0].at]))}`);
    assert.notEqual(updates[i].m.count, updates[i - 1].m.count, 'presence sent without a change');
  }
  a.drain('presence');
  await a.expectNone('presence', 1500);
});

test('presence counts people, not sockets: one registrant with three tabs is one', { timeout: 30_000 }, async () => {
  const room = await newRoom();
  const [ada, bob] = [await register(room, 'Ada'), await register(room, 'Bob')];
  const a = await joinAs(ada);
  await joinAs(ada);
  await joinAs(ada);
  const b = await joinAs(bob);
  assert.equal(b.hello.presence, 2, 'Ada (three tabs) and Bob');
  await a.next(presenceCount(2), 3000);
  await sleep(1200);
  assert.ok(!a.received.some((m) => m.type === 'presence' && m.count > 2), 'a count above the people in the room');
});

test('the organizer is not flood limited: ten messages at once all go out', async () => {
  const room = await newRoom();
  const host = await joinOrganizer(room);
  const watcher = await joinAs(await register(room, 'Watcher'));
  for (let i = 0; i < 10; i++) host.chat(`announcement ${i}`);
  await watcher.next(textIs('announcement 9'));
  assert.equal(watcher.received.filter((m) => m.type === 'chat.message').length, 10);
  assert.ok(!host.received.some((m) => m.type === 'error'), JSON.stringify(host.received.filter((m) => m.type === 'error')));
});

test('upgrade refusals: 401 without or with a bad or cancelled token, 403 wrong webinar or Origin, 404 unknown webinar, 400 bad params', async () => {
  const room = await newRoom();
  const other = await newRoom();
  const ada = await register(room, 'Ada');
  const quitter = await register(room, 'Quitter');
  assert.equal((await api(server, 'DELETE', '/api/me', { token: quitter.token })).status, 200);
  const goneRoom = await newRoom();
  const orphan = await register(goneRoom, 'Orphan');
  assert.equal((await api(server, 'DELETE', `/api/webinars/${goneRoom}`, { token: server.adminToken })).status, 204);
  const { port } = new URL(server.url);

  const refused = async (opts, status, code, what) => assertError(await refusal(server, opts), status, code, undefined, what);
  await refused({}, 401, 'unauthorized', 'no token');
  await refused({ webinar: room }, 401, 'unauthorized', 'no token, webinar given');
  await refused({ token: 'not-a-token' }, 401, 'unauthorized', 'bad token');
  await refused({ headers: { authorization: 'Bearer not-a-token' } }, 401, 'unauthorized', 'bad bearer token');
  await refused({ token: quitter.token }, 401, 'unauthorized', 'cancelled registration');
  await refused({ token: orphan.token }, 401, 'unauthorized', 'registration of a deleted webinar');
  await refused({ token: ada.token, webinar: other }, 403, 'forbidden', 'registrant token, another webinar');
  await refused({ token: ada.token, origin: 'http://evil.example' }, 403, 'forbidden', 'foreign Origin');
  await refused({ token: ada.token, origin: `http://127.0.0.1:${Number(port) + 1}` }, 403, 'forbidden', 'Origin with another port');
  await refused({ token: ada.token, origin: `https://127.0.0.1:${port}` }, 403, 'forbidden', 'Origin with another scheme');
  await refused({ token: ada.token, origin: 'null' }, 403, 'forbidden', 'Origin null');
  await refused({ token: server.adminToken, webinar: 999999 }, 404, 'not_found', 'organizer, unknown webinar');
  await refused({ token: server.adminToken }, 400, 'bad_request', 'organizer without webinar');
  assert.equal(await expectRefused(server, { token: ada.token, since: 'abc' }), 400, 'since=abc');

  // Accepted: own webinar, the server's own origins, no Origin at all.
  assert.equal((await joinAs(ada, { webinar: room })).hello.room, room);
  assert.equal((await joinAs(ada, { origin: originOf(server) })).hello.room, room);
  assert.equal((await joinAs(ada, { origin: `http://localhost:${port}` })).hello.room, room);
  assert.equal((await joinAs(ada)).hello.room, room);
  assert.equal((await joinOrganizer(room, { origin: originOf(server) })).hello.room, room);
});

// A plain GET runs the same checks as an upgrade, so a browser (which only sees close code 1006
// when an upgrade is refused) can learn why; a request that would be accepted gets 426.
test('GET /ws without the upgrade headers: 426 when the upgrade would be accepted, else the refusal', async () => {
  const room = await newRoom();
  const ada = await register(room);
  const plain = await api(server, 'GET', `/ws?token=${ada.token}`);
  assertError(plain, 426, 'upgrade_required', undefined, 'GET /ws without Upgrade');
  assert.equal(plain.headers.get('upgrade'), 'websocket');
  assertError(await api(server, 'GET', '/ws'), 401, 'unauthorized', undefined, 'GET /ws without a token');
  assertError(await api(server, 'GET', '/ws?token=nonsense'), 401, 'unauthorized', undefined, 'GET /ws with a bad token');
});

test('moderation: a deleted message reaches every client as chat.deleted and is gone from hello and catch-up', async () => {
  const room = await newRoom();
  const [ada, bob] = [await register(room, 'Ada'), await register(room, 'Bob')];
  const a = await joinAs(ada);
  const b = await joinAs(bob);
  const org = await joinOrganizer(room);
  const { epoch } = a.hello;
  const keep = await say(a, 'keep me');
  const drop = await say(a, 'delete me');
  const last = await say(b, 'after');
  await org.collect('chat.message', 3);

  assertError(await api(server, 'DELETE', `/api/webinars/${room}/chat/${encodeURIComponent(drop.id)}`, { token: ada.token }), 403, 'forbidden', undefined, 'registrant deletes');
  const res = await api(server, 'DELETE', `/api/webinars/${room}/chat/${encodeURIComponent(drop.id)}`, { token: server.adminToken });
  assert.equal(res.status, 204, JSON.stringify(res.body));
  for (const c of [a, b, org]) assert.deepEqual(await c.next('chat.deleted'), { type: 'chat.deleted', id: drop.id });

  const fresh = await joinAs(bob);
  assert.equal(fresh.hello.seq, last.seq, 'deleting does not change the seq');
  assert.deepEqual(fresh.hello.messages.map((m) => m.id), [keep.id, last.id]);
  const caughtUp = await joinAs(bob, { since: keep.seq, epoch });
  assert.equal(caughtUp.hello.recovered, true);
  assert.deepEqual(caughtUp.hello.messages.map((m) => m.id), [last.id]);

  assertError(await api(server, 'DELETE', `/api/webinars/${room}/chat/${encodeURIComponent(`${epoch}-999`)}`, { token: server.adminToken }), 404, 'not_found', undefined, 'unknown message id');
  assertError(await api(server, 'DELETE', `/api/webinars/999999/chat/${encodeURIComponent(keep.id)}`, { token: server.adminToken }), 404, 'not_found', undefined, 'unknown webinar');
  // The next message continues the order.
  const next = await say(b, 'continues');
  assert.equal(next.seq, last.seq + 1);
});

test('moderation: a muted person gets error muted with until, nothing is relayed, also after reconnecting', async () => {
  const room = await newRoom();
  const [ada, bob, watcher] = [await register(room, 'Ada'), await register(room, 'Bob'), await register(room, 'Watcher')];
  const a = await joinAs(ada);
  const b = await joinAs(bob);
  const w = await joinAs(watcher);

  const path = `/api/webinars/${room}/mutes`;
  assertError(await api(server, 'POST', path, { token: ada.token, body: { registration_id: bob.id, minutes: 10 } }), 403, 'forbidden', undefined, 'registrant mutes');
  assertError(await api(server, 'POST', path, { token: server.adminToken, body: { registration_id: ada.id, minutes: 0 } }), 422, 'validation_failed', 'minutes', 'minutes 0');
  assertError(await api(server, 'POST', path, { token: server.adminToken, body: { registration_id: ada.id, minutes: 1441 } }), 422, 'validation_failed', 'minutes', 'minutes 1441');

  const t0 = Date.now();
  const res = await api(server, 'POST', path, { token: server.adminToken, body: { registration_id: ada.id, minutes: 10 } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  assert.equal(res.body.registration_id, ada.id);
  assert.match(res.body.until, UTC_SECONDS);
  const ahead = Date.parse(res.body.until) - t0;
  assert.ok(ahead > 9 * 60_000 && ahead <= 10 * 60_000 + 2000, `until ${res.body.until} is ${ahead} ms ahead`);

  a.chat('can you hear me');
  const err = await a.next('error');
  assert.equal(err.code, 'muted', JSON.stringify(err));
  assert.ok(Math.abs(Date.parse(err.until) - Date.parse(res.body.until)) <= 1000, `muted until ${err.until}, mute said ${res.body.until}`);

  const a2 = await joinAs(ada);
  a2.chat('and now');
  assert.equal((await a2.next('error')).code, 'muted', 'still muted on a new connection');

  await say(b, 'bob is fine');
  await w.next(textIs('bob is fine'));
  assert.deepEqual(w.received.filter((m) => m.type === 'chat.message').map((m) => m.text), ['bob is fine'], 'nothing from the muted person');
});

test('moderation: a ban closes the person\'s sockets with 4003 and refuses reconnects with 403', async () => {
  const room = await newRoom();
  const [ada, bob] = [await register(room, 'Ada'), await register(room, 'Bob')];
  const a = await joinAs(ada);
  const b1 = await joinAs(bob);
  const b2 = await joinAs(bob);

  assertError(await api(server, 'POST', `/api/webinars/${room}/bans`, { token: ada.token, body: { registration_id: bob.id } }), 403, 'forbidden', undefined, 'registrant bans');
  const res = await api(server, 'POST', `/api/webinars/${room}/bans`, { token: server.adminToken, body: { registration_id: bob.id } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  for (const c of [b1, b2]) {
    const info = await closedWithin(c, 3000);
    assertCloseCode(info, 4003, 'banned socket');
    assert.equal(info.reason, 'banned');
  }
  assertError(await refusal(server, { token: bob.token }), 403, 'forbidden', undefined, 'banned reconnects');
  assert.ok(a.isOpen, 'others stay connected');
  await say(a, 'ada is still here');
});

// RFC 4180 parser that fails on a bare LF or CR outside a quoted field and on stray quotes.

test('chat.csv: the transcript with RFC 4180 quoting, formulas neutralised and deleted messages marked', async () => {
  const room = await newRoom();
  const [ada, bob] = [await register(room, '@ada'), await register(room, 'Bob, Jr.')];
  const a = await joinAs(ada);
  const b = await joinAs(bob);
  const org = await joinOrganizer(room);
  const sent = [
    await say(org, '=SUM(A1:A9)'),
    await say(a, 'He said "hi", then left'),
    await say(a, '-1 is the answer'),
    await say(b, '+ plus'),
    await say(b, 'to be deleted'),
    await say(b, 'Zoë 你好 😀'),
  ];
  const gone = sent[4];
  assert.equal((await api(server, 'DELETE', `/api/webinars/${room}/chat/${encodeURIComponent(gone.id)}`, { token: server.adminToken })).status, 204);

  const res = await fetch(`${server.url}/api/webinars/${room}/chat.csv`, { headers: { authorization: `Bearer ${server.adminToken}` } });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'text/csv; charset=utf-8');
  assert.match(res.headers.get('content-disposition') ?? '', /^attachment; filename="[^"/\\]+\.csv"$/);
  const text = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(await res.arrayBuffer()));
  assert.ok(text.startsWith('"seq","id","sent_at","from_id","from_name","role","text","deleted"\r\n'), JSON.stringify(text.slice(0, 80)));
  assert.ok(text.endsWith('\r\n'), 'the last record ends with CRLF');
  assert.ok(text.includes('"He said ""hi"", then left"'), 'quotes doubled inside a quoted field');
  assert.ok(text.includes('"Bob, Jr."'));

  const rows = parseCsv(text);
  assert.equal(rows.length, 1 + sent.length, 'one row per message, the deleted one included');
  assert.deepEqual(rows.slice(1).map((r) => Number(r[0])), sent.map((m) => m.seq), 'rows in seq order');
  const bySeq = new Map(rows.slice(1).map((r) => [Number(r[0]), r]));
  const want = {
    [sent[0].seq]: ["'=SUM(A1:A9)", '0', 'organizer'],
    [sent[1].seq]: ['He said "hi", then left', String(ada.id), 'registrant', "'@ada"],
    [sent[2].seq]: ["'-1 is the answer", String(ada.id), 'registrant', "'@ada"],
    [sent[3].seq]: ["'+ plus", String(bob.id), 'registrant', 'Bob, Jr.'],
    [sent[4].seq]: ['to be deleted', String(bob.id), 'registrant', 'Bob, Jr.'],
    [sent[5].seq]: ['Zoë 你好 😀', String(bob.id), 'registrant', 'Bob, Jr.'],
  };
  const deletedFlags = new Set();
  const keptFlags = new Set();
  for (const m of sent) {
    const r = bySeq.get(m.seq);
    assert.ok(r, `no row for seq ${m.seq}`);
    assert.equal(r.length, 8, JSON.stringify(r));
    const [txt, fromId, role, fromName] = want[m.seq];
    assert.equal(r[1], m.id);
    assert.equal(r[2], m.ts, 'sent_at is the message ts');
    assert.equal(r[3], fromId);
    if (fromName !== undefined) assert.equal(r[4], fromName);
    assert.equal(r[5], role);
    assert.equal(r[6], txt);
    (m.seq === gone.seq ? deletedFlags : keptFlags).add(r[7]);
  }
  assert.equal(keptFlags.size, 1, `one "not deleted" value: ${[...keptFlags]}`);
  assert.ok(['true', '1', 'yes'].includes([...deletedFlags][0]), `deleted marked: ${[...deletedFlags]}`);
  assert.ok(['false', '0', '', 'no'].includes([...keptFlags][0]), `kept marked: ${[...keptFlags]}`);

  assertError(await api(server, 'GET', `/api/webinars/${room}/chat.csv`, { token: ada.token }), 403, 'forbidden');
  assertError(await api(server, 'GET', `/api/webinars/${room}/chat.csv`), 401, 'unauthorized');
  assertError(await api(server, 'GET', '/api/webinars/999999/chat.csv', { token: server.adminToken }), 404, 'not_found');
});

test('a restart loses the in-memory history: a new epoch, and since with the old one is not recovered', async () => {
  const s = await startServer();
  try {
    const room = await newRoom(s);
    const ada = await register(room, 'Ada', s);
    const a = await join({ token: ada.token }, s);
    a.chat('before the restart');
    const m = await a.next('chat.message');
    const { epoch } = a.hello;
    // Graceful stop with a chat connection open: exit 0 within 5 s, and the client is disconnected.
    const t0 = Date.now();
    assert.equal((await s.stop()).code, 0);
    assert.ok(Date.now() - t0 < 5000, `stop took ${Date.now() - t0} ms`);
    await closedWithin(a, 1000);
    clients.delete(a);

    const s2 = await startServer({ dataDir: s.dataDir, adminToken: s.adminToken });
    try {
      const back = await join({ token: ada.token, since: m.seq, epoch }, s2);
      assert.notEqual(back.hello.epoch, epoch, 'the epoch changes when the history is lost');
      assert.equal(back.hello.recovered, false);
      for (const x of back.hello.messages) assert.ok(x.id.startsWith(`${back.hello.epoch}-`), x.id);
      await back.close();
      clients.delete(back);
    } finally {
      await s2.stop();
    }
  } finally {
    await s.stop();
    s.cleanup();
  }
});
