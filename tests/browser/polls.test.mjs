// [browser] Live polls in a real Chromium against a real build/cohort: the organizer prepares a poll in the room's
// manager (a bad form answered next to its field), opens it; two attendees see it without reload and vote (one
// changes her vote); the organizer's results follow live; attendees see results only once shown, with their own
// answer marked; a reload keeps the answer. Screenshots go to build/test-artifacts/polls-*.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { launchChromium, artifacts, signInOrganizer, failOnCspViolations } from '../support/browser.mjs';
import { startServer, api } from '../support/server.mjs';

const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };
const XSS = '<img src=x onerror=alert(1)>';

let server;
let browser;
let webinar;
let ada;
let bob;
const contexts = [];

before(async () => {
  server = await startServer();
  browser = await launchChromium();
  const now = Date.now();
  const res = await api(server, 'POST', '/api/webinars', {
    token: server.adminToken,
    body: { title: 'Polls in the clinic', description: 'Created by the polls browser test.', capacity: null,
      sessions: [{ starts_at: new Date(now - 10 * 60_000).toISOString(), duration_minutes: 60 }] },
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  webinar = res.body;
  ada = await register('Ada Lovelace', 'ada.polls@example.org');
  bob = await register('Bob Okafor', 'bob.polls@example.org');
});

after(async () => {
  for (const context of contexts) await context.close().catch(() => {});
  await browser?.close();
  if (server) {
    await server.stop();
    server.cleanup();
  }
});

async function register(name, email) {
  const res = await api(server, 'POST', `/api/webinars/${webinar.id}/registrations`, { body: { name, email, consent: true } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

async function openPage({ viewport = DESKTOP, organizer = false } = {}) {
  const context = await browser.newContext({ viewport, locale: 'en-US', timezoneId: 'America/New_York' });
  contexts.push(context);
  context.setDefaultTimeout(10_000);
  if (organizer) await signInOrganizer(context, server);
  const page = await context.newPage();
  page.pageErrors = [];
  page.on('pageerror', (err) => page.pageErrors.push(err));
  failOnCspViolations(page, page.pageErrors);
  page.on('dialog', (dialog) => { page.pageErrors.push(new Error(`unexpected dialog: ${dialog.message()}`)); dialog.dismiss(); });
  return page;
}

async function openRoom(registration, options) {
  const page = await openPage(options);
  await page.goto(registration.join_url);
  await page.getByRole('heading', { level: 1, name: /^Hi / }).waitFor();
  await page.locator('#chat-status').filter({ hasText: /^Connected$/ }).waitFor();
  return page;
}

const screenshot = (page, name) => page.screenshot({ path: path.join(artifacts, name), fullPage: true });
const card = (page, question) => page.locator('#polls-list > li').filter({ has: page.locator('.poll-question', { hasText: question }) });
const counts = async (c) => (await c.locator('.poll-result-count').allInnerTexts()).map((t) => t.split('·')[1].trim());

test('the organizer prepares and opens a poll, attendees vote live, results are shown and the answer is kept', async () => {
  const org = await openPage({ organizer: true });
  await org.goto(`${server.url}/live/${webinar.id}`);
  await org.getByRole('heading', { level: 1, name: /Organizer view/ }).waitFor();
  const a = await openRoom(ada);
  const b = await openRoom(bob, { viewport: PHONE });
  assert.equal(await a.locator('#polls-section').isVisible(), false, 'no poll yet: no panel for attendees');

  // A bad form is answered next to it; the poll is then saved as a draft that attendees do not see.
  const question = `Which topic next? ${XSS}`;
  await org.locator('#pm-question').fill(question);
  await org.locator('#pm-options').fill('Only one');
  await org.locator('#pm-create').click();
  await org.locator('#pm-error').filter({ hasText: /2 to 8/ }).waitFor();
  await org.locator('#pm-options').fill('Sensory diets\nHandwriting\nFeeding therapy');
  await org.locator('#pm-create').click();
  const orgCard = card(org, question);
  await orgCard.waitFor();
  assert.match(await orgCard.innerText(), /Draft/);
  await orgCard.getByRole('button', { name: 'Open poll' }).click();
  await orgCard.getByRole('button', { name: 'Close poll' }).waitFor();

  // Attendees see it at once, as text (the markup in the question is not HTML).
  const aCard = card(a, question);
  const bCard = card(b, question);
  await aCard.waitFor();
  await bCard.waitFor();
  assert.equal(await a.locator('#polls-list img').count(), 0);
  await aCard.getByLabel('Handwriting').check();
  await aCard.getByRole('button', { name: 'Vote' }).click();
  await aCard.getByText('Your vote is counted.').waitFor();
  await bCard.getByLabel('Sensory diets').check();
  await bCard.getByRole('button', { name: 'Vote' }).click();
  await bCard.getByRole('button', { name: 'Change my vote' }).waitFor();
  await bCard.getByLabel('Feeding therapy').check();
  await bCard.getByRole('button', { name: 'Change my vote' }).click();

  // The organizer's results follow live: Bob's change replaced his first vote.
  await orgCard.locator('.poll-voters').filter({ hasText: '2 votes' }).waitFor();
  await org.waitForFunction(() => [...document.querySelectorAll('#polls-list .poll-result-count')].map((n) => n.textContent).join('|') === '0% · 0|50% · 1|50% · 1');
  assert.equal(await aCard.locator('.poll-results').count(), 0, 'attendees see no results before they are shown');
  await screenshot(org, 'polls-organizer.png');
  await screenshot(a, 'polls-attendee-voted.png');

  await orgCard.getByRole('button', { name: 'Show results' }).click();
  await aCard.locator('.poll-results').waitFor();
  await bCard.locator('.poll-results').waitFor();
  assert.deepEqual(await counts(aCard), ['0', '1', '1']);
  assert.match(await aCard.locator('.poll-result.mine').innerText(), /Handwriting/);
  await screenshot(b, 'polls-attendee-results-phone.png');

  // A reload keeps Ada's answer (from the hello) and the results.
  await a.reload();
  await a.locator('#chat-status').filter({ hasText: /^Connected$/ }).waitFor();
  await card(a, question).locator('.poll-results').waitFor();
  assert.equal(await card(a, question).getByRole('radio', { name: 'Handwriting' }).isChecked(), true);

  // Closed: the vote form goes, the shown results stay.
  await orgCard.getByRole('button', { name: 'Close poll' }).click();
  await card(a, question).getByText('Voting has closed').waitFor();
  assert.equal(await card(a, question).locator('form').count(), 0);
  await screenshot(a, 'polls-attendee-closed.png');
  for (const p of [org, a, b]) assert.deepEqual(p.pageErrors.map(String), []);
});
