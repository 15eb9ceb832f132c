// [browser] Registration flow in a real Chromium against a real build/cohort:
// landing page → webinar page → sign-up → personal room, plus field errors, waitlist and cancel.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { launchChromium, artifacts, failOnCspViolations } from '../support/browser.mjs';
import { startServer, api } from '../support/server.mjs';

const DEMO_TITLE = 'Level Up Your Skillset: 5 Ways Infant Massage Supports Your Pediatric Therapy Goals';
// A zone that is never UTC, so a page that forgets to convert to local time shows the wrong hour.
const TIME_ZONE = 'America/New_York';

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

// A fresh browser profile per test (own localStorage), failing the test on any uncaught page error.
async function openPage({ viewport = { width: 1280, height: 900 } } = {}) {
  const context = await browser.newContext({ viewport, locale: 'en-US', timezoneId: TIME_ZONE });
  contexts.push(context);
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  page.pageErrors = [];
  page.on('pageerror', (err) => page.pageErrors.push(err));
  failOnCspViolations(page, page.pageErrors);
  page.on('dialog', (dialog) => { page.pageErrors.push(new Error(`unexpected dialog: ${dialog.message()}`)); dialog.dismiss(); });
  return page;
}

function assertNoPageErrors(page) {
  assert.deepEqual(page.pageErrors.map(String), []);
}

async function registrationCount(webinarId) {
  const res = await api(server, 'GET', `/api/webinars/${webinarId}/registrations?limit=500`, { token: server.adminToken });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.total;
}

async function createWebinar(fields) {
  const res = await api(server, 'POST', '/api/webinars', {
    token: server.adminToken,
    body: {
      description: 'Created by the browser test.',
      sessions: [{ starts_at: new Date(Date.now() + 3 * 86_400_000).toISOString(), duration_minutes: 45 }],
      ...fields,
    },
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

async function fillForm(page, { name, email, profession = '', consent = true }) {
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByLabel('Email', { exact: true }).fill(email);
  if (profession) await page.getByLabel('Profession').fill(profession);
  if (consent) await page.getByLabel('I agree to receive emails about this webinar series').check();
}

const screenshot = (page, name) => page.screenshot({ path: path.join(artifacts, name), fullPage: true });

test('landing page → register → personal room', async () => {
  const page = await openPage();
  await page.goto(`${server.url}/`);
  await page.getByRole('heading', { name: 'Upcoming webinars' }).waitFor();
  const card = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: DEMO_TITLE }) });
  await card.waitFor();
  assert.match(await card.innerText(), /500 seats left/);
  // The next session is shown in the viewer's zone, not in UTC.
  const localHour = new Intl.DateTimeFormat('en-US', { timeZone: TIME_ZONE, hour: 'numeric', minute: '2-digit' })
    .format(new Date(demo.next_session_at));
  assert.ok((await card.innerText()).includes(localHour), `expected ${localHour} in ${await card.innerText()}`);
  await screenshot(page, 'index.png');

  await card.getByRole('link', { name: DEMO_TITLE }).click();
  await page.waitForURL(`**/w/${demo.id}`);
  await page.getByRole('heading', { level: 1, name: DEMO_TITLE }).waitFor();
  assert.equal(await page.locator('#session-list > li').count(), demo.sessions.length);
  assert.match(await page.locator('#tz-note').innerText(), new RegExp(TIME_ZONE.replace('/', '\\/')));
  assert.match(await page.locator('#session-list').innerText(), /E[SD]T/);
  await screenshot(page, 'registration-form.png');

  const before = await registrationCount(demo.id);
  await fillForm(page, { name: 'Ada Lovelace', email: 'ada@example.org', profession: 'occupational therapist' });
  await page.getByRole('button', { name: 'Register' }).click();

  await page.getByRole('heading', { name: "You're registered" }).waitFor();
  const joinLink = page.locator('#join-link');
  const href = await joinLink.getAttribute('href');
  assert.ok(href.includes(`/live/${demo.id}`), href);
  assert.match(href, /#token=[^&\s]+/);
  assert.equal(await joinLink.innerText(), href);
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
  await page.getByRole('button', { name: 'Copy link' }).click();
  await page.getByText('Link copied.').waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), href);
  assert.match(await page.locator('#success').innerText(), /Keep this link private/);
  assert.equal(await registrationCount(demo.id), before + 1);
  await screenshot(page, 'registration-success.png');

  await joinLink.click();
  await page.waitForURL(`**/live/${demo.id}`);
  await page.getByRole('heading', { level: 1, name: /^Hi Ada Lovelace — you're registered for / }).waitFor();
  assert.ok((await page.locator('#greeting').innerText()).includes(DEMO_TITLE));
  // The token leaves the address bar but stays usable on this device.
  assert.ok(!page.url().includes('token'), page.url());
  const token = await page.evaluate((id) => localStorage.getItem(`cohort.token.${id}`), demo.id);
  assert.ok(token);
  // The form sent the browser's zone, so the emails give session times in it.
  assert.equal((await api(server, 'GET', '/api/me', { token })).body.time_zone, TIME_ZONE);
  await page.locator('#video-slot[data-state="waiting"] #player-screen-text').filter({ hasText: 'The live stream starts here when the session begins' }).waitFor();
  assert.equal(await page.locator('#session-list > li').count(), demo.sessions.length);
  await screenshot(page, 'live-room.png');

  await page.reload();
  await page.getByRole('heading', { level: 1, name: /^Hi Ada Lovelace/ }).waitFor();
  assertNoPageErrors(page);
});

test('invalid email shows an inline error and registers nobody', async () => {
  const page = await openPage();
  await page.goto(`${server.url}/w/${demo.id}`);
  await page.getByRole('heading', { level: 1, name: DEMO_TITLE }).waitFor();
  const before = await registrationCount(demo.id);

  await fillForm(page, { name: 'Grace Hopper', email: 'grace-at-example' });
  await page.getByRole('button', { name: 'Register' }).click();

  const email = page.getByLabel('Email', { exact: true });
  const error = page.locator('#email-error');
  await error.waitFor({ state: 'visible' });
  assert.ok((await error.innerText()).trim().length > 0);
  assert.equal(await email.getAttribute('aria-invalid'), 'true');
  assert.ok((await email.getAttribute('aria-describedby')).split(' ').includes('email-error'));
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'email');
  // The message sits with the email field, not elsewhere on the page.
  assert.equal(await error.evaluate((node) => node.closest('.field')?.querySelector('input')?.id), 'email');
  assert.equal(await page.locator('#name-error').innerText(), '');
  assert.ok(!(await page.getByRole('heading', { name: "You're registered" }).isVisible()));
  // The form keeps what was typed.
  assert.equal(await page.getByLabel('Name', { exact: true }).inputValue(), 'Grace Hopper');
  assert.equal(await registrationCount(demo.id), before);
  await screenshot(page, 'registration-invalid-email.png');

  // Fixing the field clears the error and the sign-up goes through.
  await email.fill('grace@example.org');
  await page.getByRole('button', { name: 'Register' }).click();
  await page.getByRole('heading', { name: "You're registered" }).waitFor();
  assert.equal(await registrationCount(demo.id), before + 1);
  assertNoPageErrors(page);
});

test('a full webinar puts the next registrant on the waitlist; a repeat email is told it is registered', async () => {
  const webinar = await createWebinar({ title: 'Small group clinic: feeding therapy Q&A', capacity: 1 });
  const first = await api(server, 'POST', `/api/webinars/${webinar.id}/registrations`, {
    body: { name: 'First Person', email: 'first@example.org', profession: '', consent: true },
  });
  assert.equal(first.status, 201, JSON.stringify(first.body));
  assert.equal(first.body.status, 'registered');

  const page = await openPage({ viewport: { width: 390, height: 844 } });
  await page.goto(`${server.url}/w/${webinar.id}`);
  await page.getByRole('heading', { level: 1, name: webinar.title }).waitFor();
  assert.match(await page.locator('#seats').innerText(), /waitlist open/i);
  await fillForm(page, { name: 'Second Person', email: 'second@example.org' });
  await screenshot(page, 'registration-phone.png');
  await page.getByRole('button', { name: 'Join the waitlist' }).click();
  await page.getByRole('heading', { name: "You're on the waitlist" }).waitFor();
  assert.match(await page.locator('#join-link').getAttribute('href'), /\/live\/\d+#token=/);
  await screenshot(page, 'registration-waitlist.png');

  await page.locator('#join-link').click();
  await page.getByRole('heading', { level: 1, name: /^Hi Second Person — you're on the waitlist for / }).waitFor();
  // The waitlist holds no seat: no chat or video here, and the server refuses them too.
  assert.equal(await page.locator('#live-section').isVisible(), false);
  assert.equal(await page.locator('#chat-slot').isVisible(), false);
  await screenshot(page, 'live-room-phone.png');

  // Same address as the first registrant, typed differently: no second seat, no link.
  const again = await openPage();
  await again.goto(`${server.url}/w/${webinar.id}`);
  await again.getByRole('heading', { level: 1, name: webinar.title }).waitFor();
  await fillForm(again, { name: 'First Person', email: 'FIRST@Example.org' });
  await again.getByRole('button', { name: 'Join the waitlist' }).click();
  await again.getByText('This email is already registered for this webinar.').waitFor();
  assert.equal(await again.locator('#join-link').isVisible(), false);
  assert.equal(await again.getByLabel('Email', { exact: true }).inputValue(), 'FIRST@Example.org');
  assert.equal(await registrationCount(webinar.id), 2);
  assertNoPageErrors(page);
  assertNoPageErrors(again);
});

test('cancelling from the room frees the seat for the waitlist', async () => {
  const webinar = await createWebinar({ title: 'Sensory diets in practice', capacity: 1 });
  const holder = await api(server, 'POST', `/api/webinars/${webinar.id}/registrations`, {
    body: { name: 'Seat Holder', email: 'holder@example.org', consent: true },
  });
  const waiting = await api(server, 'POST', `/api/webinars/${webinar.id}/registrations`, {
    body: { name: 'Waiting Person', email: 'waiting@example.org', consent: true },
  });
  assert.equal(holder.body.status, 'registered');
  assert.equal(waiting.body.status, 'waitlisted');

  // The waitlisted one has the room open in another tab: it shows no room until a seat frees up.
  const waitingPage = await openPage();
  await waitingPage.clock.install();
  await waitingPage.goto(waiting.body.join_url);
  await waitingPage.getByRole('heading', { level: 1, name: /^Hi Waiting Person — you're on the waitlist/ }).waitFor();
  assert.equal(await waitingPage.locator('#live-section').isVisible(), false);

  const page = await openPage();
  await page.goto(holder.body.join_url);
  await page.getByRole('heading', { level: 1, name: /^Hi Seat Holder — you're registered/ }).waitFor();
  await page.getByRole('button', { name: 'Cancel my registration' }).click();
  // Nothing happens until the second, explicit confirmation.
  const me = await api(server, 'GET', '/api/me', { token: holder.body.token });
  assert.equal(me.body.status, 'registered');
  await page.getByRole('button', { name: 'No, keep it' }).click();
  assert.equal(await page.getByRole('button', { name: 'Yes, cancel my registration' }).isVisible(), false);

  await page.getByRole('button', { name: 'Cancel my registration' }).click();
  await page.getByRole('button', { name: 'Yes, cancel my registration' }).click();
  await page.getByRole('heading', { level: 1, name: /^Hi Seat Holder — your registration for .* is cancelled/ }).waitFor();
  assert.ok(await page.getByRole('link', { name: 'Register again' }).isVisible());
  await screenshot(page, 'live-room-cancelled.png');

  const promoted = await api(server, 'GET', '/api/me', { token: waiting.body.token });
  assert.equal(promoted.body.status, 'registered');
  // Within the page's 30 s check, the promoted registrant's page opens the room by itself.
  await waitingPage.clock.fastForward(31_000);
  await waitingPage.getByRole('heading', { level: 1, name: /^Hi Waiting Person — you're registered/ }).waitFor();
  await waitingPage.locator('#live-section').waitFor();
  await waitingPage.locator('#chat-slot').waitFor();
  assertNoPageErrors(page);
  assertNoPageErrors(waitingPage);
});

test('an unknown token gets a friendly message and a way back', async () => {
  const page = await openPage();
  await page.goto(`${server.url}/live/${demo.id}#token=not-a-real-token`);
  await page.getByRole('heading', { level: 1, name: 'We could not open your room' }).waitFor();
  assert.match(await page.locator('#no-access-text').innerText(), /do not recognise this personal link/);
  const back = page.getByRole('link', { name: 'Go to the registration page' });
  assert.equal(await back.getAttribute('href'), `/w/${demo.id}`);
  assert.ok(!page.url().includes('token'));
  assert.equal(await page.evaluate((id) => localStorage.getItem(`cohort.token.${id}`), demo.id), null);

  await page.goto(`${server.url}/w/999999`);
  await page.getByRole('heading', { level: 1, name: 'This webinar does not exist' }).waitFor();
  assertNoPageErrors(page);
});

test('server text is rendered as text, never as markup', async () => {
  const payload = '<img src=x onerror=alert(1)>';
  const webinar = await createWebinar({ title: `Markup check ${payload}`, description: `Description ${payload}` });
  const reg = await api(server, 'POST', `/api/webinars/${webinar.id}/registrations`, {
    body: { name: `Eve ${payload}`, email: 'eve@example.org', consent: true },
  });
  assert.equal(reg.status, 201, JSON.stringify(reg.body));

  const page = await openPage();
  await page.goto(`${server.url}/`);
  await page.getByRole('link', { name: `Markup check ${payload}` }).waitFor();
  await page.goto(`${server.url}/w/${webinar.id}`);
  await page.getByRole('heading', { level: 1, name: `Markup check ${payload}` }).waitFor();
  assert.ok((await page.locator('#webinar-description').innerText()).includes(payload));
  await page.goto(reg.body.join_url);
  await page.getByRole('heading', { level: 1, name: new RegExp(`^Hi Eve ${payload.replace(/[()]/g, '\\$&')}`) }).waitFor();
  assert.equal(await page.locator('main img').count(), 0);
  assertNoPageErrors(page);
});

test('a failed request keeps the form filled in and says so', async () => {
  const page = await openPage();
  await page.goto(`${server.url}/w/${demo.id}`);
  await page.getByRole('heading', { level: 1, name: DEMO_TITLE }).waitFor();
  const before = await registrationCount(demo.id);
  await page.route('**/api/webinars/*/registrations', (route) => route.abort('internetdisconnected'));
  await fillForm(page, { name: 'Offline Olivia', email: 'olivia@example.org', profession: 'speech therapist' });
  await page.getByRole('button', { name: 'Register' }).click();
  await page.getByRole('alert').filter({ hasText: 'you are not registered yet' }).waitFor();
  assert.equal(await page.getByLabel('Name', { exact: true }).inputValue(), 'Offline Olivia');
  assert.equal(await page.getByLabel('Email', { exact: true }).inputValue(), 'olivia@example.org');
  assert.equal(await page.getByLabel('Profession').inputValue(), 'speech therapist');
  assert.ok(await page.getByLabel('I agree to receive emails about this webinar series').isChecked());
  assert.ok(await page.getByRole('button', { name: 'Register' }).isEnabled());

  // Once the connection is back the same form goes through.
  await page.unroute('**/api/webinars/*/registrations');
  await page.getByRole('button', { name: 'Register' }).click();
  await page.getByRole('heading', { name: "You're registered" }).waitFor();
  assert.equal(await registrationCount(demo.id), before + 1);
  assertNoPageErrors(page);
});
