// Confirmation by email (issue 12, item 3; registration.confirm_email): a signup answers "pending" without a token,
// holds its place and mails a link (data/outbox/*.eml without SMTP); the link's page posts the confirmation (a GET
// confirms nothing), and only then the usual mail with the join link follows. The unconfirmed token is kept out of the
// live room. At most one confirmation request per address an hour, whatever the signups. An unconfirmed hold lapses
// after confirm_hours (fractions allowed) and the waitlist moves up into its seat.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServer, api } from '../support/server.mjs';
import { assertError, sleep } from '../support/http.mjs';
import { parseMessage } from '../support/smtp.mjs';

// ~14 s: long enough to confirm the waitlisted registrant on a loaded machine, short enough to watch the lapse.
const LAPSE_HOURS = 0.004;
let server, lapsing;
const dirs = [];
const uniqueEmail = (who) => `${who}.${process.pid}.${randomBytes(3).toString('hex')}@example.org`;

async function start(confirmHours) {
  const dir = mkdtempSync(path.join(tmpdir(), 'cohort-confirm-cfg-'));
  dirs.push(dir);
  const config = path.join(dir, 'cohort.toml');
  writeFileSync(config, `[registration]\nconfirm_email = true\nconfirm_hours = ${confirmHours}\n[email]\nretry_first_seconds = 1\n`);
  return startServer({ args: ['--config', config] });
}

before(async () => {
  [server, lapsing] = await Promise.all([start(1), start(LAPSE_HOURS)]);
});
after(async () => {
  for (const s of [server, lapsing]) if (s) { await s.stop(); s.cleanup(); }
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function createWebinar(s, extra = {}) {
  const res = await api(s, 'POST', '/api/webinars', { token: s.adminToken,
    body: { title: 'Confirm first', capacity: 5, sessions: [{ starts_at: '2036-06-01T18:00:00Z', duration_minutes: 60 }], ...extra } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

function signup(s, webinarId, email, name = 'Ada Lovelace') {
  return api(s, 'POST', `/api/webinars/${webinarId}/registrations`, { body: { name, email, consent: true } });
}

// Every .eml written for `addr`, oldest first, with its decoded text part.
function mailsTo(s, addr) {
  const dir = path.join(s.dataDir, 'outbox');
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => f.endsWith('.eml')).sort((a, b) => parseInt(a, 10) - parseInt(b, 10))
    .map((f) => parseMessage(readFileSync(path.join(dir, f), 'utf8')))
    .filter((m) => (m.header('to') ?? '').toLowerCase().includes(addr.toLowerCase()))
    .map((m) => ({ subject: m.subject, text: m.leaves().find((p) => p.contentType === 'text/plain')?.text() ?? '', raw: m.raw }));
}

async function waitForMail(s, addr, subject, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = mailsTo(s, addr).find((m) => subject.test(m.subject));
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no mail to ${addr} matching ${subject}: ${mailsTo(s, addr).map((m) => m.subject).join('; ')}`);
    await sleep(100);
  }
}

// The token in the confirmation request's link /w/<id>#confirm=<token>.
function confirmToken(mail, webinarId) {
  const m = new RegExp(`/w/${webinarId}#confirm=([A-Za-z0-9._~-]+)`).exec(mail.text);
  assert.ok(m, `a confirmation link in:\n${mail.text}`);
  return m[1];
}

async function registrant(s, webinarId, email) {
  const res = await api(s, 'GET', `/api/webinars/${webinarId}/registrations`, { token: s.adminToken });
  assert.equal(res.status, 200);
  return res.body.registrations.find((r) => r.email === email);
}

test('confirm_email: pending signup, a mailed link, POST confirms, then the join mail; unconfirmed tokens stay out of the room', async () => {
  const w = await createWebinar(server);
  const ada = uniqueEmail('ada');
  const res = await signup(server, w.id, ada);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  assert.deepEqual(res.body, { webinar_id: w.id, status: 'pending' }, 'no token, no join link before the address is confirmed');
  const row = await registrant(server, w.id, ada);
  assert.equal(row.confirmed, false);
  assert.equal(row.status, 'registered', 'the pending signup holds a seat');

  const request = await waitForMail(server, ada, /^Please confirm your registration/);
  const token = confirmToken(request, w.id);
  assert.ok(!/#token=/.test(request.text), 'no join link in the confirmation request');

  // Not in the room yet (the live stream's gate, like the chat, goes through require_seat).
  assertError(await api(server, 'GET', `/live/${w.id}/index.m3u8?token=${encodeURIComponent(token)}`), 403, 'unconfirmed');
  // Opening the page (what a mail scanner does) confirms nothing.
  assert.equal((await fetch(`${server.url}/w/${w.id}`)).status, 200);
  await sleep(200);
  assert.equal((await registrant(server, w.id, ada)).confirmed, false);
  assert.deepEqual(mailsTo(server, ada).map((m) => m.subject).filter((s) => /registered/.test(s)), []);

  const confirmed = await api(server, 'POST', '/api/me/confirm', { token });
  assert.equal(confirmed.status, 200, JSON.stringify(confirmed.body));
  assert.equal(confirmed.body.status, 'registered');
  assert.equal(confirmed.body.confirmed, true);
  const join = await waitForMail(server, ada, /^You're registered/);
  assert.ok(join.text.includes(`/live/${w.id}#token=${token}`), `the join link carries the token:\n${join.text}`);
  const gate = await api(server, 'GET', `/live/${w.id}/index.m3u8?token=${encodeURIComponent(token)}`);
  assert.notEqual(gate.status, 403, `a confirmed registrant passes the gate (not live yet): ${JSON.stringify(gate.body)}`);

  // Confirming twice is harmless: the same answer, no second join mail.
  const again = await api(server, 'POST', '/api/me/confirm', { token });
  assert.equal(again.status, 200);
  await sleep(500);
  assert.equal(mailsTo(server, ada).filter((m) => /^You're registered/.test(m.subject)).length, 1);
});

test('at most one confirmation request per address an hour: repeated signups, other series, same answer every time', async () => {
  const [w1, w2] = [await createWebinar(server), await createWebinar(server)];
  const bob = uniqueEmail('bob');
  const first = await signup(server, w1.id, bob, 'Bob');
  await waitForMail(server, bob, /^Please confirm/);
  const again = await signup(server, w1.id, bob, 'Bob');
  const elsewhere = await signup(server, w2.id, bob, 'Bob');
  for (const r of [first, again, elsewhere]) assert.deepEqual([r.status, r.body.status], [201, 'pending'], JSON.stringify(r.body));
  assert.deepEqual(again.body, first.body, 'a repeated signup is answered as the first one');
  // The sender runs as soon as a row is queued: give any second request time to be written.
  await sleep(1500);
  assert.equal(mailsTo(server, bob).length, 1, mailsTo(server, bob).map((m) => m.subject).join('; '));
  assert.ok(await registrant(server, w2.id, bob), 'the other series holds an unconfirmed place all the same');

  // An address that confirmed already: the same "pending" answer, and no mail at all.
  const cy = uniqueEmail('cy');
  await signup(server, w1.id, cy, 'Cy');
  await api(server, 'POST', '/api/me/confirm', { token: confirmToken(await waitForMail(server, cy, /^Please confirm/), w1.id) });
  await waitForMail(server, cy, /^You're registered/);
  const repeat = await signup(server, w1.id, cy, 'Cy');
  assert.deepEqual([repeat.status, repeat.body], [201, { webinar_id: w1.id, status: 'pending' }]);
  await sleep(1000);
  assert.equal(mailsTo(server, cy).length, 2);
});

test('an unconfirmed hold lapses after confirm_hours: the seat returns and the confirmed waitlisted registrant is promoted', async () => {
  const s = lapsing;
  const w = await createWebinar(s, { capacity: 1 });
  const [bob, cy] = [uniqueEmail('bob'), uniqueEmail('cy')];
  assert.equal((await signup(s, w.id, bob, 'Bob')).status, 201);
  assert.equal((await signup(s, w.id, cy, 'Cy')).status, 201);
  assert.equal((await registrant(s, w.id, bob)).status, 'registered', 'the first unconfirmed signup holds the seat');
  assert.equal((await registrant(s, w.id, cy)).status, 'waitlisted');
  const bobToken = confirmToken(await waitForMail(s, bob, /^Please confirm/), w.id);
  const cyToken = confirmToken(await waitForMail(s, cy, /^Please confirm/), w.id);
  const cyConfirmed = await api(s, 'POST', '/api/me/confirm', { token: cyToken });
  assert.equal(cyConfirmed.status, 200, JSON.stringify(cyConfirmed.body));
  assert.equal(cyConfirmed.body.status, 'waitlisted');
  await waitForMail(s, cy, /^You're on the waitlist/);

  // Bob never confirms: after the hold (~14 s) and a sweep, Cy has the seat.
  const deadline = Date.now() + 60000;
  let me;
  for (;;) {
    me = await api(s, 'GET', '/api/me', { token: cyToken });
    if (me.body.status === 'registered' || Date.now() > deadline) break;
    await sleep(250);
  }
  assert.equal(me.body.status, 'registered', 'the waitlisted registrant moved up');
  await waitForMail(s, cy, /^A seat opened up/);
  const bobNow = await api(s, 'GET', '/api/me', { token: bobToken });
  assert.equal(bobNow.body.status, 'cancelled');
  assertError(await api(s, 'POST', '/api/me/confirm', { token: bobToken }), 410, 'expired');
  const webinar = await api(s, 'GET', `/api/webinars/${w.id}`);
  assert.deepEqual([webinar.body.registered, webinar.body.waitlisted], [1, 0]);
  const metrics = await (await fetch(`${s.url}/metrics`)).text();
  assert.match(metrics, /^cohort_signups_lapsed_total [1-9]/m);
});
