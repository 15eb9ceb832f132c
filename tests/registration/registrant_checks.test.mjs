// Issue 12, items 8 and 10 on the signup path: every registrant route checks the token's registration (its nonce and
// that it is not cancelled) — /api/me/email included; an address Cohort cannot mail (non-ASCII, no SMTPUTF8) is
// refused at signup with a clear 422; the organizer's view of a message's source hides the registrant's secrets.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { startServer, api } from '../support/server.mjs';
import { assertError, sleep } from '../support/http.mjs';
import { parseMessage } from '../support/smtp.mjs';

let server;

// The message as a reader sees it: the raw headers and every part, transfer-decoded.
const readable = (raw) => [raw, ...parseMessage(raw).leaves().map((p) => p.text())].join('\n');

before(async () => { server = await startServer(); });
after(async () => {
  if (server) { await server.stop(); server.cleanup(); }
});

async function createWebinar() {
  const res = await api(server, 'POST', '/api/webinars', { token: server.adminToken,
    body: { title: 'Checks', capacity: 10, sessions: [{ starts_at: '2036-06-01T18:00:00Z', duration_minutes: 60 }] } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

async function signupOk(webinarId, email) {
  const res = await api(server, 'POST', `/api/webinars/${webinarId}/registrations`, { body: { name: 'Ada Lovelace', email, consent: true } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

test('a cancelled registrant\'s token is refused on GET and PUT /api/me/email', async () => {
  const w = await createWebinar();
  const ada = await signupOk(w.id, 'email-prefs@example.org');
  const got = await api(server, 'GET', '/api/me/email', { token: ada.token });
  assert.equal(got.status, 200, JSON.stringify(got.body));
  assert.equal((await api(server, 'DELETE', '/api/me', { token: ada.token })).status, 200);

  assertError(await api(server, 'GET', '/api/me/email', { token: ada.token }), 401, 'unauthorized');
  assertError(await api(server, 'PUT', '/api/me/email', { token: ada.token, body: { drop_notices: false } }), 401, 'unauthorized');
  // The same as the other registrant routes refuse a cancelled token with.
  assertError(await api(server, 'GET', `/live/${w.id}/index.m3u8?token=${encodeURIComponent(ada.token)}`), 401, 'unauthorized');
});

test('a token whose registration was deleted with its series is refused on /api/me/email', async () => {
  const w = await createWebinar();
  const bob = await signupOk(w.id, 'email-prefs-deleted@example.org');
  assert.equal((await api(server, 'DELETE', `/api/webinars/${w.id}`, { token: server.adminToken })).status, 204);
  assertError(await api(server, 'GET', '/api/me/email', { token: bob.token }), 401);
  assertError(await api(server, 'PUT', '/api/me/email', { token: bob.token, body: { drop_notices: true } }), 401);
});

test('non-ASCII email addresses are refused at signup with a clear 422 on the email field, and nothing is stored', async () => {
  const w = await createWebinar();
  for (const email of ['jürgen@example.org', 'user@bücher.de', 'info@пример.рф']) {
    const res = await api(server, 'POST', `/api/webinars/${w.id}/registrations`, { body: { name: 'Jürgen', email, consent: true } });
    assertError(res, 422, 'validation_failed', 'email', email);
    assert.match(res.body.error.message, /ASCII/, res.body.error.message);
  }
  // Its ASCII (xn--) form of an international domain is fine.
  await signupOk(w.id, 'user@xn--bcher-kva.de');
  const list = await api(server, 'GET', `/api/webinars/${w.id}/registrations`, { token: server.adminToken });
  assert.deepEqual(list.body.registrations.map((r) => r.email), ['user@xn--bcher-kva.de']);
});

test('the organizer\'s view of a message source redacts the join link token and the unsubscribe signature', async () => {
  const w = await createWebinar();
  const cy = await signupOk(w.id, 'redacted@example.org');
  let row;
  for (let i = 0; i < 100 && !row; i++) {
    const list = await api(server, 'GET', `/api/webinars/${w.id}/emails`, { token: server.adminToken });
    row = list.body.emails.find((e) => e.state === 'sent');
    if (!row) await sleep(100);
  }
  assert.ok(row, 'the confirmation was written');
  // What was mailed carries the secrets (the .eml file is the message itself)...
  const outbox = path.join(server.dataDir, 'outbox');
  const file = readdirSync(outbox).find((f) => f.startsWith(`${row.id}-`));
  const sent = readable(readFileSync(path.join(outbox, file), 'utf8'));
  const sig = /unsubscribe\?r=\d+&sig=([A-Za-z0-9_-]+)/.exec(sent)?.[1];
  assert.ok(sig, 'the sent message has an unsubscribe signature');
  assert.ok(sent.includes(cy.token.slice(0, 40)), 'the sent message has the join link');
  // ... the organizer's view does not.
  const source = await api(server, 'GET', `/api/emails/${row.id}/message`, { token: server.adminToken });
  assert.equal(source.status, 200);
  const shown = readable(source.body);
  for (const secret of [cy.token, cy.token.slice(0, 40), cy.token.slice(-40), sig])
    assert.ok(!shown.includes(secret), `the source shown to the organizer contains a secret (${secret.slice(0, 12)}…)`);
  assert.ok(shown.includes(`/live/${w.id}#token=REDACTED`), 'the join link is shown redacted');
  assert.ok(shown.includes('sig=REDACTED'), 'the unsubscribe link is shown redacted');
  assert.match(shown, /^Subject: You're registered/m);
});
