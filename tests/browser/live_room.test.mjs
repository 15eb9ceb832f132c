// [browser] live-room.js, the room page's one socket, against a scripted server side: the page is
// real (real build/cohort, real Chromium), but /ws is answered by the test (Playwright's
// routeWebSocket), so it can send what the real room does not yet: a frame type no module knows
// (ignored; the frames after it still reach their modules), a cut after which the reconnect must
// carry since=<last seq>&epoch=<epoch>, a resumed hello, and the ban close code (4003: no retry).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { launchChromium, artifacts, failOnCspViolations } from '../support/browser.mjs';
import { startServer, api } from '../support/server.mjs';

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  if (server) {
    await server.stop();
    server.cleanup();
  }
});

const EPOCH = 'e-live-room-test';
const ts = '2026-01-05T15:00:00Z';
const message = (seq, text, from = { id: 2, name: 'Bob Okafor', role: 'registrant' }, extra = {}) =>
  ({ type: 'chat.message', seq, id: `${EPOCH}-${seq}`, from, text, ts, ...extra });

// Resolves with the next value pushed to it (a tiny async queue of socket events).
function inbox() {
  const items = [];
  const waiters = [];
  return {
    push(item) { const w = waiters.shift(); if (w) w(item); else items.push(item); },
    next(timeout = 15_000) {
      if (items.length) return Promise.resolve(items.shift());
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('timed out waiting for the page')), timeout);
        waiters.push((item) => { clearTimeout(timer); resolve(item); });
      });
    },
  };
}

test('one socket: frames go to their modules by type, unknown types are ignored, catch-up and ban close', async () => {
  const created = await api(server, 'POST', '/api/webinars', {
    token: server.adminToken,
    body: { title: 'Live room socket check', description: 'x', capacity: null,
      sessions: [{ starts_at: new Date(Date.now() + 86_400_000).toISOString(), duration_minutes: 60 }] },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const reg = await api(server, 'POST', `/api/webinars/${created.body.id}/registrations`, {
    body: { name: 'Ada Lovelace', email: 'ada.room@example.org', consent: true },
  });
  assert.equal(reg.status, 201, JSON.stringify(reg.body));
  const me = { id: reg.body.id ?? 1, name: 'Ada Lovelace', role: 'registrant' };

  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US' });
  context.setDefaultTimeout(15_000);
  const connections = inbox();
  await context.routeWebSocket(/\/ws\?/, (ws) => {
    const received = inbox();
    ws.onMessage((data) => received.push(JSON.parse(String(data))));
    connections.push({ ws, url: new URL(ws.url()), received });
  });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (err) => errors.push(err));
  failOnCspViolations(page, errors);
  try {
    await page.goto(reg.body.join_url);

    // First connection: no catch-up asked; hello, then a frame of a type nobody registered for.
    const first = await connections.next();
    assert.equal(first.url.searchParams.get('since'), null);
    assert.ok(first.url.searchParams.get('token'));
    first.ws.send(JSON.stringify({ type: 'hello', me, room: created.body.id, seq: 2, epoch: EPOCH, presence: 3,
      recovered: false, drops: [], messages: [message(1, 'one'), message(2, 'two')] }));
    first.ws.send(JSON.stringify({ type: 'qa.question', seq: 3, id: 'q1', text: 'not for any module yet' }));
    first.ws.send('not json at all');
    first.ws.send(JSON.stringify({ type: 'presence', count: 4 }));
    first.ws.send(JSON.stringify(message(4, 'four')));
    await page.locator('#chat-status').filter({ hasText: /^Connected$/ }).waitFor();
    await page.locator('#chat-presence').filter({ hasText: /^4 here$/ }).waitFor();
    await page.locator('#chat-messages .chat-text', { hasText: /^four$/ }).waitFor();
    assert.deepEqual(await page.locator('#chat-messages .chat-text').allInnerTexts(), ['one', 'two', 'four']);
    await page.locator('#drops-empty').waitFor();

    // A send goes out through the room as chat.send; the echo replaces the pending copy.
    await page.getByLabel('Message', { exact: true }).fill('hi from Ada');
    await page.getByLabel('Message', { exact: true }).press('Enter');
    const sent = await first.received.next();
    assert.equal(sent.type, 'chat.send');
    assert.equal(sent.text, 'hi from Ada');
    assert.ok(sent.client_id);
    first.ws.send(JSON.stringify(message(5, 'hi from Ada', me, { client_id: sent.client_id })));
    await page.locator('#chat-messages > li:not(.pending) .chat-text', { hasText: /^hi from Ada$/ }).waitFor();
    assert.equal(await page.locator('#chat-messages > li.pending').count(), 0);

    // Cut: the page comes back on its own and asks for what came after the last seq it saw.
    await first.ws.close({ code: 1011, reason: 'test cut' });
    await page.locator('#chat-status').filter({ hasText: /^Reconnecting…$/ }).waitFor();
    const second = await connections.next();
    assert.equal(second.url.searchParams.get('since'), '5');
    assert.equal(second.url.searchParams.get('epoch'), EPOCH);
    second.ws.send(JSON.stringify({ type: 'hello', me, room: created.body.id, seq: 6, epoch: EPOCH, presence: 2,
      recovered: true, drops: [], messages: [message(6, 'six')] }));
    await page.locator('#chat-messages .chat-text', { hasText: /^six$/ }).waitFor();
    await page.locator('#chat-status').filter({ hasText: /^Connected$/ }).waitFor();
    assert.deepEqual(await page.locator('#chat-messages .chat-text').allInnerTexts(), ['one', 'two', 'four', 'hi from Ada', 'six']);
    assert.equal(await page.locator('#chat-presence').innerText(), '2 here');

    // Banned: the room stops for good, the chat says so, and no third connection is tried.
    await second.ws.close({ code: 4003, reason: 'banned' });
    await page.locator('#chat-status').filter({ hasText: /^You have been removed from this chat$/ }).waitFor();
    assert.equal(await page.getByLabel('Message', { exact: true }).isDisabled(), true);
    assert.equal(await page.locator('#chat-presence').innerText(), '');
    await page.screenshot({ path: path.join(artifacts, 'live-room-banned.png'), fullPage: true });
    await page.waitForTimeout(2_500); // longer than the first backoff step (1 s ± 20 %)
    await assert.rejects(connections.next(100), /timed out/);
    assert.deepEqual(errors.map(String), []);
  } finally {
    await context.close();
  }
});
