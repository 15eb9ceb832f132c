// [browser] The privacy pages (issue 15; the API itself is tested in tests/privacy) in a real
// Chromium against a real build/cohort: the signup form shows the privacy notice (the default,
// then the organizer's own text), the room page downloads the registrant's data and erases it
// after a confirmation, and the console's Privacy tab edits the notice and erases a registrant.
// Screenshots go to build/test-artifacts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { launchChromium, artifacts, failOnCspViolations, signInOrganizer } from '../support/browser.mjs';
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

async function openPage() {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US', acceptDownloads: true });
  contexts.push(context);
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  page.pageErrors = [];
  page.on('pageerror', (err) => page.pageErrors.push(err));
  failOnCspViolations(page, page.pageErrors);
  return page;
}

const iso = (ms) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

async function createWebinar() {
  const res = await api(server, 'POST', '/api/webinars', {
    token: server.adminToken,
    body: { title: 'Feeding therapy basics', description: 'Three sessions.', sessions: [{ starts_at: iso(Date.now() + 86_400_000), duration_minutes: 60 }] },
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

test('the signup form shows the default notice, then the organizer\'s text', async () => {
  const w = await createWebinar();
  const page = await openPage();
  await page.goto(`${server.url}/w/${w.id}`);
  const notice = page.locator('#privacy-notice');
  await notice.waitFor();
  assert.match(await notice.innerText(), /Your data/);
  assert.match(await notice.innerText(), /until the organizer deletes the series/);
  assert.match(await notice.innerText(), /verification code/);
  // It sits inside the form, above the Register button.
  assert.equal(await page.locator('#register-form #privacy-notice + .actions #submit-button').count(), 1);
  await page.screenshot({ path: path.join(artifacts, 'privacy-signup-default.png'), fullPage: true });

  const put = await api(server, 'PUT', `/api/webinars/${w.id}/privacy-notice`,
    { token: server.adminToken, body: { text: 'We keep your name and email for this series only.\nWrite to us to be forgotten.' } });
  assert.equal(put.status, 200);
  await page.reload();
  await page.locator('#privacy-notice').waitFor();
  assert.deepEqual(await page.locator('#privacy-notice p.hint').allInnerTexts(),
    ['We keep your name and email for this series only.', 'Write to us to be forgotten.']);
  assert.deepEqual(page.pageErrors.map(String), []);
});

test('the room page downloads the registrant\'s data and erases it after a confirmation', async () => {
  const w = await createWebinar();
  const reg = await api(server, 'POST', `/api/webinars/${w.id}/registrations`, { body: { name: 'Lena Park', email: 'lena@example.org', consent: true } });
  assert.equal(reg.status, 201);
  const page = await openPage();
  await page.goto(`${server.url}/live/${w.id}#token=${reg.body.token}`);
  await page.locator('#privacy-section').waitFor();

  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-button')]);
  const doc = JSON.parse(readFileSync(await download.path(), 'utf8'));
  assert.equal(doc.registration.email, 'lena@example.org');
  assert.match(download.suggestedFilename(), /\.json$/);

  await page.click('#erase-button');
  await page.locator('#erase-confirm').waitFor();
  await page.locator('#privacy-section').scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(artifacts, 'privacy-room-erase-confirm.png'), fullPage: true });
  await page.click('#erase-yes');
  await page.locator('#erased h1').waitFor();
  assert.equal(await page.locator('#erased h1').innerText(), 'Your data was erased');
  assert.equal(await page.locator('#room').isHidden(), true);
  await page.screenshot({ path: path.join(artifacts, 'privacy-room-erased.png'), fullPage: true });
  const me = await api(server, 'GET', '/api/me', { token: reg.body.token });
  assert.equal(me.status, 401);
  const list = await api(server, 'GET', `/api/webinars/${w.id}/registrations`, { token: server.adminToken });
  assert.equal(list.body.registrations.find((r) => r.id === reg.body.id).name, 'Erased registrant');
  // Reloading the page: the link is dead and stored nowhere.
  await page.reload();
  await page.locator('#no-access').waitFor();
  assert.deepEqual(page.pageErrors.map(String), []);
});

test('the console edits the notice, and the signup form shows it; "Use the default" goes back', async () => {
  const w = await createWebinar();
  const page = await openPage();
  await signInOrganizer(page.context(), server);
  await page.goto(`${server.url}/console#series=${w.id}&tab=privacy`);
  await page.getByTestId('tab-privacy').waitFor();
  assert.equal(await page.getByTestId('tab-privacy').getAttribute('aria-selected'), 'true');
  await page.locator('#privacy-status', { hasText: 'default notice' }).waitFor();
  await page.getByTestId('privacy-text').fill('Kept: your name and email, for this series only.\nAsk us to erase it any time.');
  await page.getByTestId('privacy-save').click();
  await page.locator('#privacy-status', { hasText: 'shows your notice' }).waitFor();
  await page.locator('.privacy-preview summary').click();
  await page.screenshot({ path: path.join(artifacts, 'privacy-console.png'), fullPage: true });
  const got = await api(server, 'GET', `/api/webinars/${w.id}/privacy-notice`);
  assert.deepEqual([got.body.custom, got.body.text], [true, 'Kept: your name and email, for this series only.\nAsk us to erase it any time.']);

  const signup = await openPage();
  await signup.goto(`${server.url}/w/${w.id}`);
  await signup.locator('#privacy-notice').waitFor();
  assert.match(await signup.locator('#privacy-notice').innerText(), /Ask us to erase it any time\./);
  await signup.screenshot({ path: path.join(artifacts, 'privacy-signup-custom.png'), fullPage: true });

  // The organizer erases one registrant from the panel (two clicks).
  const reg = await api(server, 'POST', `/api/webinars/${w.id}/registrations`, { body: { name: 'Ravi Menon', email: 'ravi@example.org', consent: true } });
  await page.getByTestId('privacy-rid').fill(String(reg.body.id));
  await page.getByTestId('privacy-erase').click();
  await page.getByTestId('privacy-erase').click();
  await page.locator('#privacy-person-status', { hasText: 'is erased' }).waitFor();
  assert.equal((await api(server, 'GET', '/api/me', { token: reg.body.token })).status, 401);

  await page.getByTestId('privacy-default').click();
  await page.locator('#privacy-status', { hasText: 'shows the default notice' }).waitFor();
  assert.equal((await api(server, 'GET', `/api/webinars/${w.id}/privacy-notice`)).body.custom, false);
  assert.deepEqual(page.pageErrors.map(String), []);
  assert.deepEqual(signup.pageErrors.map(String), []);
});
