// [browser] Live chat in the room page, in a real Chromium against a real build/cohort:
// presence, delivery, markup shown as text, the flood limit, catch-up after a dropped connection
// with every message exactly once, and the organizer's delete / mute / ban.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { launchChromium, artifacts, signInOrganizer, failOnCspViolations } from '../support/browser.mjs';
import { startServer, api } from '../support/server.mjs';

const DEMO_TITLE = 'Level Up Your Skillset: 5 Ways Infant Massage Supports Your Pediatric Therapy Goals';
const TIME_ZONE = 'America/New_York';
const PHONE = { width: 390, height: 844 };

let server;
let browser;
let demo;
const contexts = [];

before(async () => {
  server = await startServer({ args: ['--demo'] });
  browser = await launchChromium();
  const list = await api(server, 'GET', '/api/webinars');
  assert.equal(list.status, 200);
  demo = list.body.webinars.find((w) => w.title === DEMO_TITLE);
  assert.ok(demo, `demo webinar missing from GET /api/webinars: ${JSON.stringify(list.body)}`);
});

after(async () => {
  for (const context of contexts) await context.close().catch(() => {});
  await browser?.close();
  if (server) {
    await server.stop();
    server.cleanup();
  }
});

async function register(webinarId, name, email) {
  const res = await api(server, 'POST', `/api/webinars/${webinarId}/registrations`, {
    body: { name, email, profession: 'physiotherapist', consent: true },
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

async function createWebinar(title) {
  const res = await api(server, 'POST', '/api/webinars', {
    token: server.adminToken,
    body: {
      title,
      description: 'Created by the chat browser test.',
      capacity: null,
      sessions: [{ starts_at: new Date(Date.now() + 86_400_000).toISOString(), duration_minutes: 60 }],
    },
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

// A fresh browser profile (own localStorage) per person; any uncaught page error or dialog fails the test.
// Every WebSocket the page opens is kept in window.__chatSockets so a test can cut the connection.
async function openPage({ viewport = { width: 1280, height: 900 }, organizer = false } = {}) {
  const context = await browser.newContext({ viewport, locale: 'en-US', timezoneId: TIME_ZONE });
  contexts.push(context);
  context.setDefaultTimeout(10_000);
  if (organizer) await signInOrganizer(context, server);
  await context.addInitScript(() => {
    const Native = window.WebSocket;
    window.__chatSockets = [];
    window.WebSocket = class extends Native {
      constructor(...args) {
        super(...args);
        window.__chatSockets.push(this);
      }
    };
  });
  const page = await context.newPage();
  page.pageErrors = [];
  page.on('pageerror', (err) => page.pageErrors.push(err));
  failOnCspViolations(page, page.pageErrors);
  page.on('dialog', (dialog) => { page.pageErrors.push(new Error(`unexpected dialog: ${dialog.message()}`)); dialog.dismiss(); });
  return page;
}

// Opens a registrant's personal join link and waits until the chat says it is connected.
async function openRoom(registration, options) {
  const page = await openPage(options);
  await page.goto(registration.join_url);
  await page.getByRole('heading', { level: 1, name: /^Hi / }).waitFor();
  await waitConnected(page);
  return page;
}

async function waitConnected(page) {
  await page.locator('#chat-status').filter({ hasText: /^Connected$/ }).waitFor();
}

function assertNoPageErrors(page) {
  assert.deepEqual(page.pageErrors.map(String), []);
}

const screenshot = (page, name) => page.screenshot({ path: path.join(artifacts, name), fullPage: true });

async function send(page, text) {
  const input = page.getByLabel('Message', { exact: true });
  await input.fill(text);
  await input.press('Enter');
}

// The confirmed (server-echoed) message whose text is exactly `text`.
const message = (page, text) => page.locator('#chat-messages > li:not(.pending)')
  .filter({ has: page.locator('.chat-text', { hasText: new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) }) });

// Confirmed messages as the user sees them, top to bottom.
async function shownMessages(page) {
  return page.locator('#chat-messages > li:not(.pending)').evaluateAll((items) => items.map((li) => ({
    seq: Number(li.dataset.seq),
    author: li.querySelector('.chat-author')?.textContent ?? '',
    text: li.querySelector('.chat-text')?.textContent ?? '',
  })));
}

async function waitForTexts(page, texts, timeout = 15_000) {
  await page.waitForFunction((wanted) => {
    const shown = [...document.querySelectorAll('#chat-messages > li:not(.pending) .chat-text')].map((n) => n.textContent);
    return wanted.every((t) => shown.includes(t));
  }, texts, { timeout });
}

function assertExactlyOnceInOrder(shown, expected) {
  const texts = shown.map((m) => m.text);
  for (let i = 1; i < shown.length; i++) {
    assert.ok(shown[i].seq > shown[i - 1].seq, `messages out of seq order: ${JSON.stringify(shown)}`);
  }
  assert.deepEqual(texts, expected, `expected each message exactly once, in order; got ${JSON.stringify(texts)}`);
}

test('two people chat: presence, delivery, markup shown as text, flood limit', async () => {
  const ada = await register(demo.id, 'Ada Lovelace', 'ada.chat@example.org');
  const bob = await register(demo.id, 'Bob Okafor', 'bob.chat@example.org');
  const a = await openRoom(ada);
  const b = await openRoom(bob);

  await a.locator('#chat-presence').filter({ hasText: /^2 here$/ }).waitFor();
  await b.locator('#chat-presence').filter({ hasText: /^2 here$/ }).waitFor();
  assert.equal(await a.getByRole('log').count(), 1);
  assert.equal(await a.getByRole('log').getAttribute('aria-live'), 'polite');

  // Typing updates the counter; Enter sends; the sender sees its message once, the other side too.
  const input = a.getByLabel('Message', { exact: true });
  await input.fill('Hello from Ada');
  assert.equal(await a.locator('#chat-count').innerText(), '14/500');
  await input.press('Enter');
  await message(b, 'Hello from Ada').waitFor();
  await message(a, 'Hello from Ada').waitFor();
  assert.equal(await input.inputValue(), '');
  assert.equal(await a.locator('#chat-count').innerText(), '0/500');
  assert.equal(await message(a, 'Hello from Ada').count(), 1);
  assert.equal(await a.locator('#chat-messages > li.pending').count(), 0);
  const fromAda = message(b, 'Hello from Ada');
  assert.equal(await fromAda.locator('.chat-author').innerText(), 'Ada Lovelace');
  assert.match(await fromAda.locator('time').innerText(), /^\d{1,2}:\d{2}\s?(AM|PM)$/);
  assert.equal(await fromAda.locator('.chat-badge').count(), 0);

  const payload = '<img src=x onerror=alert(1)>';
  await send(b, payload);
  await message(a, payload).waitFor();
  assert.equal(await message(a, payload).locator('.chat-text').innerText(), payload);
  assert.equal(await a.locator('#chat-slot img').count(), 0);
  assert.equal(await b.locator('#chat-slot img').count(), 0);
  await screenshot(a, 'chat-two-people.png');

  // 3 messages per 2 s: the 4th is refused, its text comes back to the box, nobody receives it.
  await a.waitForTimeout(2_100);
  for (let i = 1; i <= 4; i++) await send(a, `burst ${i}`);
  const notice = a.locator('#chat-error');
  await notice.filter({ hasText: /You can send again at \d{2}:\d{2}:\d{2}/ }).waitFor();
  assert.match(await notice.innerText(), /too quickly/);
  await waitForTexts(b, ['burst 1', 'burst 2', 'burst 3']);
  await a.waitForTimeout(500);
  assert.equal(await message(b, 'burst 4').count(), 0);
  assert.equal(await message(a, 'burst 4').count(), 0);
  assert.equal(await input.inputValue(), 'burst 4');
  assert.equal(await a.locator('#chat-messages > li.pending').count(), 0);
  await screenshot(a, 'chat-rate-limited.png');

  const expected = ['Hello from Ada', payload, 'burst 1', 'burst 2', 'burst 3'];
  assertExactlyOnceInOrder(await shownMessages(a), expected);
  assertExactlyOnceInOrder(await shownMessages(b), expected);
  assertNoPageErrors(a);
  assertNoPageErrors(b);
  await a.context().close();
  await b.context().close();
});

test('a dropped connection catches up: every message exactly once, in seq order', async () => {
  const webinar = await createWebinar('Chat resilience check');
  const ada = await register(webinar.id, 'Ada Lovelace', 'ada.drop@example.org');
  const bob = await register(webinar.id, 'Bob Okafor', 'bob.drop@example.org');
  const a = await openRoom(ada);
  const b = await openRoom(bob, { viewport: PHONE });
  await b.locator('#chat-presence').filter({ hasText: /^2 here$/ }).waitFor();

  // A sends at most one message a second, well under the flood limit (3 per 2 s, sliding).
  const paced = async (text) => {
    await send(a, text);
    await message(a, text).waitFor();
    await a.waitForTimeout(1_050);
  };
  await paced('before the drop');
  await message(b, 'before the drop').waitFor();

  // 1. The network goes away: B shows it is reconnecting and misses what A sends meanwhile.
  await b.context().setOffline(true);
  await b.locator('#chat-status').filter({ hasText: /reconnecting/i }).waitFor();
  const offlineTexts = ['while offline 1', 'while offline 2', 'while offline 3'];
  for (const text of offlineTexts) await paced(text);
  assert.equal(await message(b, 'while offline 1').count(), 0, 'B was supposed to be offline');
  await b.context().setOffline(false);
  await waitConnected(b);
  await waitForTexts(b, offlineTexts);

  // 2. The socket is cut under the page (no offline event): it reconnects by itself with since/epoch.
  await b.evaluate(() => window.__chatSockets.at(-1).close());
  const cutTexts = ['after the cut 1', 'after the cut 2'];
  for (const text of cutTexts) await paced(text);
  await waitForTexts(b, cutTexts);
  await waitConnected(b);
  assert.ok(await b.evaluate(() => window.__chatSockets.length) >= 3, 'B should have reconnected twice');
  const lastUrl = new URL(await b.evaluate(() => window.__chatSockets.at(-1).url));
  assert.match(lastUrl.searchParams.get('since') ?? '', /^\d+$/, lastUrl.href);
  assert.ok(lastUrl.searchParams.get('epoch'), lastUrl.href);

  await send(b, 'Bob is back');
  await message(a, 'Bob is back').waitFor();
  await message(b, 'Bob is back').waitFor();

  const expected = ['before the drop', ...offlineTexts, ...cutTexts, 'Bob is back'];
  assertExactlyOnceInOrder(await shownMessages(b), expected);
  assertExactlyOnceInOrder(await shownMessages(a), expected);

  // Phone: the chat sits below the video; wide: beside it.
  const videoB = await b.locator('#video-slot').boundingBox();
  const chatB = await b.locator('#chat-slot').boundingBox();
  assert.ok(chatB.y >= videoB.y + videoB.height, `phone: chat should be below the video ${JSON.stringify({ videoB, chatB })}`);
  assert.ok(chatB.x + chatB.width <= PHONE.width, 'phone: chat wider than the screen');
  const videoA = await a.locator('#video-slot').boundingBox();
  const chatA = await a.locator('#chat-slot').boundingBox();
  assert.ok(chatA.x >= videoA.x + videoA.width && Math.abs(chatA.y - videoA.y) < 2, `wide: chat should be beside the video ${JSON.stringify({ videoA, chatA })}`);
  await b.locator('#chat-slot').scrollIntoViewIfNeeded();
  await screenshot(b, 'chat-phone.png');
  assertNoPageErrors(a);
  assertNoPageErrors(b);
  await a.context().close();
  await b.context().close();
});

test('the organizer deletes a message, mutes and bans its author', async () => {
  const webinar = await createWebinar('Chat moderation check');
  const eve = await register(webinar.id, 'Eve Mallory', 'eve.chat@example.org');
  const e = await openRoom(eve);
  const org = await openPage({ organizer: true });
  await org.goto(`${server.url}/live/${webinar.id}`);
  await org.getByRole('heading', { level: 1, name: 'Organizer view — Chat moderation check' }).waitFor();
  await waitConnected(org);
  await e.locator('#chat-presence').filter({ hasText: /^2 here$/ }).waitFor();
  // A registrant gets no moderation tools.
  await send(e, 'buy cheap pills');
  await message(org, 'buy cheap pills').waitFor();
  await message(e, 'buy cheap pills').waitFor();
  assert.equal(await e.getByRole('button', { name: /^Delete/ }).count(), 0);

  await send(org, 'Welcome, everyone');
  await message(e, 'Welcome, everyone').waitFor();
  assert.equal(await message(e, 'Welcome, everyone').locator('.chat-badge').textContent(), 'Organizer');

  await message(org, 'buy cheap pills').getByRole('button', { name: 'Delete message from Eve Mallory' }).click();
  await message(e, 'buy cheap pills').waitFor({ state: 'detached' });
  await message(org, 'buy cheap pills').waitFor({ state: 'detached' });

  await send(e, 'still here');
  await message(org, 'still here').waitFor();
  await message(org, 'still here').getByRole('button', { name: 'Mute Eve Mallory for 10 minutes' }).click();
  await org.locator('#chat-mod-status').filter({ hasText: /Eve Mallory is muted until \d{2}:\d{2}:\d{2}/ }).waitFor();
  await send(e, 'am I muted?');
  await e.locator('#chat-error').filter({ hasText: /muted you\. You can send again at \d{2}:\d{2}:\d{2}/ }).waitFor();
  assert.equal(await message(org, 'am I muted?').count(), 0);

  const ban = message(org, 'still here').getByRole('button', { name: 'Ban Eve Mallory from this chat' });
  await ban.click();
  await message(org, 'still here').getByRole('button', { name: 'Confirm: ban Eve Mallory from this chat' }).click();
  await e.locator('#chat-status').filter({ hasText: 'You have been removed from this chat' }).waitFor();
  assert.ok(await e.getByLabel('Message', { exact: true }).isDisabled());
  await org.locator('#chat-presence').filter({ hasText: /^1 here$/ }).waitFor();
  await e.waitForTimeout(2_500);
  assert.equal(await e.evaluate(() => window.__chatSockets.length), 1, 'a banned person must not reconnect');
  await screenshot(org, 'chat-organizer.png');
  assertNoPageErrors(e);
  assertNoPageErrors(org);
});
