// [browser] The room page's Q&A in a real Chromium against a real build/cohort: two attendees and the organizer.
// A question asked by one appears for all; upvotes reorder the list and count once; the asker deletes their own;
// the organizer pins (everyone sees "Now answering"), marks answered, dismisses, and allows anonymous questions.
// Screenshots go to build/test-artifacts/qa-*.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { launchChromium, artifacts, signInOrganizer, failOnCspViolations } from '../support/browser.mjs';
import { startServer, api } from '../support/server.mjs';

let server;
let browser;
const contexts = [];

before(async () => {
  server = await startServer();
  browser = await launchChromium();
});

after(async () => {
  for (const context of contexts) await context.close().catch(() => {});
  await browser?.close();
  if (server) {
    await server.stop();
    server.cleanup();
  }
});

async function createWebinar(title) {
  const res = await api(server, 'POST', '/api/webinars', {
    token: server.adminToken,
    body: { title, description: 'Created by the Q&A browser test.', capacity: null,
      sessions: [{ starts_at: new Date(Date.now() + 86_400_000).toISOString(), duration_minutes: 60 }] },
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

async function register(webinarId, name, email) {
  const res = await api(server, 'POST', `/api/webinars/${webinarId}/registrations`, { body: { name, email, consent: true } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

async function openPage({ organizer = false } = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 }, locale: 'en-US', timezoneId: 'America/New_York' });
  contexts.push(context);
  context.setDefaultTimeout(10_000);
  if (organizer) await signInOrganizer(context, server);
  const page = await context.newPage();
  page.pageErrors = [];
  page.on('pageerror', (err) => page.pageErrors.push(err));
  failOnCspViolations(page, page.pageErrors);
  return page;
}

async function openRoom(registration) {
  const page = await openPage();
  await page.goto(registration.join_url);
  await page.locator('#chat-status').filter({ hasText: /^Connected$/ }).waitFor();
  return page;
}

const screenshot = (page, name) => page.locator('#qa-section').screenshot({ path: path.join(artifacts, name) });
const item = (page, text) => page.locator('#qa-list > li').filter({ has: page.locator('.qa-text', { hasText: text }) });
const shown = (page) => page.locator('#qa-list > li').evaluateAll((items) => items.map((li) => ({
  text: li.querySelector('.qa-text')?.textContent,
  votes: Number(li.querySelector('.qa-votes')?.textContent),
})));

async function ask(page, text) {
  await page.getByLabel('Ask a question').fill(text);
  await page.getByRole('button', { name: 'Ask', exact: true }).click();
}

test('two attendees and the organizer: ask, upvote, delete, pin, answer, dismiss, anonymous', async () => {
  const webinar = await createWebinar('Q&A in the browser');
  const ada = await openRoom(await register(webinar.id, 'Ada Lovelace', 'ada.qa@example.org'));
  const bob = await openRoom(await register(webinar.id, 'Bob Okafor', 'bob.qa@example.org'));
  const org = await openPage({ organizer: true });
  await org.goto(`${server.url}/live/${webinar.id}`);
  await org.locator('#chat-status').filter({ hasText: /^Connected$/ }).waitFor();

  await ask(ada, 'Will the slides be shared?');
  await ask(bob, 'Is there a recording?');
  for (const p of [ada, bob, org]) await item(p, 'Is there a recording?').waitFor();
  // Ada upvotes Bob's question (twice pressed = withdrawn, third = up again): it moves to the top with one vote.
  const vote = item(ada, 'Is there a recording?').locator('.qa-vote');
  await vote.click();
  await item(ada, 'Is there a recording?').locator('.qa-vote.voted').waitFor();
  await vote.click();
  await item(ada, 'Is there a recording?').locator('.qa-vote:not(.voted)').waitFor();
  await vote.click();
  await bob.waitForFunction(() => document.querySelector('#qa-list > li .qa-votes')?.textContent === '1');
  assert.deepEqual(await shown(bob), [{ text: 'Is there a recording?', votes: 1 }, { text: 'Will the slides be shared?', votes: 0 }]);
  assert.equal(await item(ada, 'Is there a recording?').locator('.qa-vote').getAttribute('aria-pressed'), 'true');

  // Bob's own question has Delete; Ada's does not for him.
  assert.equal(await item(bob, 'Will the slides be shared?').getByRole('button', { name: 'Delete' }).count(), 0);
  await ask(bob, 'Oops, wrong question');
  await item(ada, 'Oops, wrong question').waitFor();
  await item(bob, 'Oops, wrong question').getByRole('button', { name: 'Delete' }).click();
  await item(ada, 'Oops, wrong question').waitFor({ state: 'detached' });

  // The organizer pins Ada's question: everyone sees it as "Now answering".
  await item(org, 'Will the slides be shared?').getByRole('button', { name: 'Pin' }).click();
  for (const p of [ada, bob]) await p.locator('#qa-pinned').filter({ hasText: 'Will the slides be shared?' }).waitFor();
  await screenshot(bob, 'qa-attendee.png');
  await bob.screenshot({ path: path.join(artifacts, 'qa-page.png'), fullPage: true });
  await screenshot(org, 'qa-organizer.png');
  await item(org, 'Will the slides be shared?').getByRole('button', { name: 'Answered' }).click();
  await item(ada, 'Will the slides be shared?').locator('.qa-badge.answered').waitFor();
  await item(org, 'Is there a recording?').getByRole('button', { name: 'Dismiss' }).click();
  await item(bob, 'Is there a recording?').waitFor({ state: 'detached' });

  // Anonymous asking, switched on by the organizer.
  assert.equal(await ada.locator('#qa-anonymous-row').isVisible(), false);
  await org.getByLabel('Allow anonymous questions').check();
  await ada.locator('#qa-anonymous-row').waitFor();
  await ada.getByLabel('Ask anonymously').check();
  await ask(ada, 'A shy question');
  await item(bob, 'A shy question').locator('.qa-author', { hasText: 'Anonymous' }).waitFor();
  await screenshot(ada, 'qa-anonymous.png');

  // A reload keeps it all (the hello carries the questions, counts, my votes and the pinned one).
  await bob.reload();
  await item(bob, 'A shy question').waitFor();
  await bob.locator('#qa-pinned').filter({ hasText: 'Will the slides be shared?' }).waitFor();
  for (const p of [ada, bob, org]) assert.deepEqual(p.pageErrors.map(String), []);
});
