// [browser] Bonus drops in a real Chromium against a real build/cohort: a drop released while the room
// is open appears on top without reload (notice, New badge, markup shown as text, once after a
// reconnect); the materials page on another device lists what was released, New until seen; the
// organizer creates, edits and deletes drops through the form, one with a file the registrant downloads.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { launchChromium, artifacts, signInOrganizer, failOnCspViolations } from '../support/browser.mjs';
import { startServer, api } from '../support/server.mjs';

// A zone that is never UTC, so a page that forgets to convert to local time shows the wrong hour.
const TIME_ZONE = 'America/New_York';
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 900 };
const XSS = '<img src=x onerror=alert(1)>';
// RFC 3339 at whole seconds, the precision the API speaks.
const rfc3339 = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const WEBINAR_TITLE = 'Sensory play in the clinic';

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
  webinar = await createWebinar(WEBINAR_TITLE, [
    { starts_at: new Date(now - 10 * 60_000).toISOString(), duration_minutes: 60 },
    { starts_at: new Date(now + 7 * 86_400_000).toISOString(), duration_minutes: 60 },
  ]);
  ada = await register(webinar.id, 'Ada Lovelace', 'ada.drops@example.org');
  bob = await register(webinar.id, 'Bob Okafor', 'bob.drops@example.org');
});

after(async () => {
  for (const context of contexts) await context.close().catch(() => {});
  await browser?.close();
  if (server) {
    await server.stop();
    server.cleanup();
  }
});

async function createWebinar(title, sessions) {
  const res = await api(server, 'POST', '/api/webinars', {
    token: server.adminToken,
    body: { title, description: 'Created by the drops browser test.', capacity: null, sessions },
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

async function register(webinarId, name, email) {
  const res = await api(server, 'POST', `/api/webinars/${webinarId}/registrations`, {
    body: { name, email, profession: 'occupational therapist', consent: true },
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

async function createDrop(body) {
  const res = await api(server, 'POST', `/api/webinars/${webinar.id}/drops`, { token: server.adminToken, body });
  assert.equal(res.status, 201, `POST drop ${JSON.stringify(body)} -> ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

async function organizerDrops() {
  const res = await api(server, 'GET', `/api/webinars/${webinar.id}/drops`, { token: server.adminToken });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.drops;
}

// A fresh browser profile (own localStorage) per device; any uncaught page error or dialog fails the
// test. Every WebSocket the page opens is kept in window.__chatSockets so a test can cut the connection.
async function openPage({ viewport = DESKTOP, organizer = false } = {}) {
  const context = await browser.newContext({ viewport, locale: 'en-US', timezoneId: TIME_ZONE, acceptDownloads: true });
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

// Drop titles as shown, top to bottom.
const shownTitles = (page) => page.locator('#drops-list > li .drop-title').allInnerTexts();
const dropItem = (page, title) => page.locator('#drops-list > li').filter({ has: page.locator('.drop-title', { hasText: title }) });

const FIRST_TITLE = `Week 1 worksheet ${XSS}`;
const FIRST_BODY = [
  '**Print** this *before* session 2.',
  '',
  '- bring a towel',
  `- ${XSS}`,
  '',
  '[Session notes](https://example.org/notes) and [not a link](javascript:alert(1)) <script>alert(2)</script>',
].join('\n');

test('a drop released while the room is open appears on top, as text, with a notice and a New badge', async () => {
  const a = await openRoom(ada);
  const b = await openRoom(bob, { viewport: PHONE });
  const panel = a.getByRole('region', { name: 'Bonus materials' });
  await panel.waitFor();
  await a.locator('#drops-empty').filter({ hasText: 'No bonus materials yet — they appear here as they are released' }).waitFor();
  assert.equal(await panel.getByRole('link', { name: 'All my materials' }).getAttribute('href'), `/materials/${webinar.id}`);

  const releaseAt = Math.ceil((Date.now() + 2_000) / 1_000) * 1_000; // 2–3 s ahead
  const drop = await createDrop({ title: FIRST_TITLE, body: FIRST_BODY, url: 'https://example.org/worksheet', release_at: rfc3339(releaseAt) });
  assert.equal(drop.state, 'scheduled', JSON.stringify(drop));
  assert.equal(drop.release_at, rfc3339(releaseAt), JSON.stringify(drop));
  assert.equal(await a.locator('#drops-list > li').count(), 0, 'shown before its release time');

  // Up to ~2 s after the release time, without reload.
  const item = a.locator('#drops-list > li').first();
  await item.waitFor({ timeout: releaseAt - Date.now() + 2_000 });
  assert.ok(Date.now() >= releaseAt - 250, `shown ${releaseAt - Date.now()} ms before its release time`);
  await dropItem(b, 'Week 1 worksheet').waitFor({ timeout: 2_000 });

  // The notice: polite, visible, names the drop; the item: New badge, title and body as text.
  const notice = a.locator('#drop-notice');
  assert.equal(await notice.getAttribute('aria-live'), 'polite');
  assert.equal(await notice.innerText(), `New bonus material: ${FIRST_TITLE}`);
  assert.ok(await notice.isVisible(), 'the notice is visible');
  assert.match(await item.locator('.drop-new').textContent(), /^New$/);
  assert.equal(await item.locator('.drop-title').innerText(), FIRST_TITLE);
  assert.match(await item.locator('.drop-meta').innerText(), /^Released .+\d{1,2}:\d{2}\s?(AM|PM) E[SD]T$/);
  const body = item.locator('.drop-body');
  assert.equal(await body.locator('strong').innerText(), 'Print');
  assert.equal(await body.locator('em').innerText(), 'before');
  assert.deepEqual(await body.locator('li').allInnerTexts(), ['bring a towel', XSS]);
  assert.equal(await body.getByRole('link', { name: 'Session notes' }).getAttribute('href'), 'https://example.org/notes');
  assert.match(await body.innerText(), /\[not a link\]\(javascript:alert\(1\)\) <script>alert\(2\)<\/script>/);
  assert.equal(await a.locator('#drops-section a[href^="javascript:"]').count(), 0);
  for (const page of [a, b]) {
    assert.equal(await page.locator('#drops-section img, #drops-section script, #drop-toast img').count(), 0, 'markup from the drop was parsed');
  }
  assert.equal(await item.locator('a.drop-link').getAttribute('href'), 'https://example.org/worksheet');
  await screenshot(a, 'drops-room.png');
  await b.locator('#drops-section').scrollIntoViewIfNeeded();
  await b.screenshot({ path: path.join(artifacts, 'drops-room-phone.png') });
  const box = await b.locator('#drops-section').boundingBox();
  assert.ok(box.x >= 0 && box.x + box.width <= PHONE.width, `phone: the panel is wider than the screen ${JSON.stringify(box)}`);

  // The notice does not block: it can be dismissed, and the panel stays.
  await a.getByRole('button', { name: 'Dismiss' }).click();
  assert.ok(!(await a.locator('#drop-toast-actions').isVisible()), 'the notice stays after Dismiss');

  // A reconnect's hello repeats the drop: still shown once.
  await a.evaluate(() => window.__chatSockets.at(-1).close());
  await a.locator('#chat-status').filter({ hasText: /reconnecting/i }).waitFor();
  await waitConnected(a);
  await a.waitForTimeout(300);
  assert.deepEqual(await shownTitles(a), [FIRST_TITLE]);

  // After a reload it comes from hello.
  await a.reload();
  await waitConnected(a);
  await dropItem(a, 'Week 1 worksheet').waitFor();
  assert.deepEqual(await shownTitles(a), [FIRST_TITLE]);
  assertNoPageErrors(a);
  assertNoPageErrors(b);
  await a.context().close();
  await b.context().close();
});

test('the materials page on another device lists released drops newest first, New until seen', async () => {
  // Released while nobody has the room open: unseen for Ada whatever her room page marked before.
  await createDrop({ title: 'Reading list', body: 'Three short papers.', release: 'now' });
  const d = await openPage({ viewport: PHONE });
  const seen = d.waitForResponse((r) => new URL(r.url()).pathname === `/api/webinars/${webinar.id}/drops/seen` && r.request().method() === 'POST');
  await d.goto(ada.join_url.replace('/live/', '/materials/'));
  await d.getByRole('heading', { level: 1, name: 'Your bonus materials' }).waitFor();
  assert.ok(!d.url().includes('token='), `the token stays in the address bar: ${d.url()}`);
  assert.equal(await d.getByRole('link', { name: /Back to your webinar room/ }).getAttribute('href'), `/live/${webinar.id}`);
  assert.equal(await d.locator('#webinar-title').innerText(), WEBINAR_TITLE);
  assert.deepEqual(await shownTitles(d), ['Reading list', FIRST_TITLE]);
  assert.equal(await dropItem(d, 'Reading list').locator('.drop-new').count(), 1, 'the unseen drop has a New badge');
  assert.match(await d.locator('#tz-note').innerText(), /America\/New_York/);
  assert.equal(await d.locator('#drops-list img, #drops-list script').count(), 0);
  const seenResponse = await seen;
  assert.equal(seenResponse.status(), 204);
  // Marked up to the newest drop on screen, so one released meanwhile would keep its badge.
  assert.ok(new URL(seenResponse.url()).searchParams.get('until'), `seen without until: ${seenResponse.url()}`);
  await screenshot(d, 'drops-materials-phone.png');

  await d.reload();
  await d.getByRole('heading', { level: 1, name: 'Your bonus materials' }).waitFor();
  assert.deepEqual(await shownTitles(d), ['Reading list', FIRST_TITLE]);
  assert.equal(await d.locator('#drops-list .drop-new').count(), 0, 'New badges after seen');

  // The room page on this device (token from localStorage) lists both, without badges, and links here.
  await d.goto(`${server.url}/live/${webinar.id}`);
  await waitConnected(d);
  await dropItem(d, 'Reading list').waitFor();
  assert.deepEqual(await shownTitles(d), ['Reading list', FIRST_TITLE]);
  assert.equal(await d.locator('#drops-list .drop-new').count(), 0);
  await d.getByRole('link', { name: 'All my materials' }).click();
  await d.getByRole('heading', { level: 1, name: 'Your bonus materials' }).waitFor();
  await d.setViewportSize(DESKTOP);
  await screenshot(d, 'drops-materials.png');
  assertNoPageErrors(d);

  // Someone with nothing released yet gets the empty state.
  const other = await createWebinar('Empty drops series', [{ starts_at: new Date(Date.now() + 86_400_000).toISOString(), duration_minutes: 45 }]);
  const cy = await register(other.id, 'Cy Twombly', 'cy.drops@example.org');
  const e = await openPage({ viewport: PHONE });
  await e.goto(cy.join_url.replace('/live/', '/materials/'));
  await e.locator('#drops-empty').filter({ hasText: 'No bonus materials yet — they appear here as they are released' }).waitFor();
  assert.equal(await e.locator('#drops-list > li').count(), 0);
  await screenshot(e, 'drops-materials-empty.png');
  assertNoPageErrors(e);
  await d.context().close();
  await e.context().close();
});

test('the organizer creates, edits and deletes drops in the room; a file reaches the registrant byte for byte', async () => {
  const org = await openPage({ organizer: true });
  await org.goto(`${server.url}/live/${webinar.id}`);
  await org.getByRole('heading', { level: 1, name: `Organizer view — ${WEBINAR_TITLE}` }).waitFor();
  const manager = org.getByRole('region', { name: 'Bonus drops' });
  await manager.waitFor();
  const managed = (title) => org.locator('#dm-list > li').filter({ has: org.locator('.dm-item-title', { hasText: title }) });
  await managed('Reading list').waitFor();
  assert.equal(await managed('Reading list').locator('.dm-state').innerText(), 'Released');
  assert.match(await managed('Week 1 worksheet').innerText(), /Everyone registered/);
  assert.match(await managed('Week 1 worksheet').innerText(), /Opened by \d+ (person|people)/);
  assert.equal(await org.locator('#drops-section').isVisible(), false, 'the organizer gets the manager, not the registrant panel');

  const form = org.locator('#dm-form');
  const submit = form.getByRole('button', { name: 'Create drop' });

  // A missing title is caught next to the field, which gets focus.
  await submit.click();
  await org.locator('#dm-title-error').filter({ hasText: /title/i }).waitFor();
  assert.equal(await org.evaluate(() => document.activeElement?.id), 'dm-title');
  assert.equal(await org.locator('#dm-title').getAttribute('aria-invalid'), 'true');

  // The server's field error (a link that is not http/https) goes next to the link field.
  await org.getByLabel('Title', { exact: true }).fill('Bad link');
  await org.getByLabel('Link (optional)').fill('javascript:alert(1)');
  await submit.click();
  await org.locator('#dm-url-error').filter({ hasText: /./ }).waitFor();
  assert.equal(await org.evaluate(() => document.activeElement?.id), 'dm-url');
  assert.equal(await org.locator('#dm-title-error').innerText(), '');
  assert.ok(!(await organizerDrops()).some((d) => d.title === 'Bad link'), 'a rejected drop was stored');

  // Scheduled at a local date and time (tomorrow 9:30 in New York), sent as UTC.
  const [localValue, expectedIso] = await org.evaluate(() => {
    const d = new Date(Date.now() + 86_400_000);
    d.setHours(9, 30, 0, 0);
    const p = (n) => String(n).padStart(2, '0');
    return [`${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T09:30`, d.toISOString().replace(/\.\d{3}Z$/, 'Z')];
  });
  await org.getByLabel('Title', { exact: true }).fill('Session 2 slides');
  await org.getByLabel('Link (optional)').fill('https://example.org/slides');
  await org.getByLabel('At a date and time').check();
  await org.getByLabel('Date and time', { exact: true }).fill(localValue);
  await submit.click();
  await managed('Session 2 slides').waitFor();
  const scheduled = managed('Session 2 slides');
  assert.equal(await scheduled.locator('.dm-state').innerText(), 'Scheduled');
  assert.match(await scheduled.locator('.dm-when').innerText(), /^Releases .+ 9:30\s?AM E[SD]T$/);
  let stored = (await organizerDrops()).find((d) => d.title === 'Session 2 slides');
  assert.equal(stored?.release_at, expectedIso, JSON.stringify(stored));
  assert.equal(await org.getByLabel('Title', { exact: true }).inputValue(), '', 'the form was not reset after the drop was created');

  // Edit: relative to session 2, 30 minutes before; audience: missed session 1.
  await scheduled.getByRole('button', { name: 'Edit Session 2 slides' }).click();
  await org.getByRole('heading', { name: 'Edit drop: Session 2 slides' }).waitFor();
  assert.equal(await org.evaluate(() => document.activeElement?.id), 'dm-title');
  assert.equal(await org.getByLabel('Date and time', { exact: true }).inputValue(), localValue);
  await org.getByLabel('Title', { exact: true }).fill('Session 2 slides (v2)');
  await org.getByLabel('Relative to a session').check();
  await org.getByLabel('Minutes').fill('30');
  await org.getByLabel('Before or after').selectOption('before');
  await org.getByLabel('Session', { exact: true }).selectOption('2');
  await org.getByLabel('Those who missed a session').check();
  await org.getByLabel('Which session').selectOption('1');
  await form.getByRole('button', { name: 'Save changes' }).click();
  await managed('Session 2 slides (v2)').waitFor();
  const edited = managed('Session 2 slides (v2)');
  assert.match(await edited.locator('.dm-when').innerText(), /30 min before the start of session 2/);
  assert.match(await edited.innerText(), /Those who missed session 1/);
  stored = (await organizerDrops()).find((d) => d.id === stored.id);
  assert.deepEqual(stored.release, { session: 2, offset_minutes: -30 }, JSON.stringify(stored));
  assert.equal(stored.audience, 'missed');
  assert.equal(stored.audience_session, 1);
  assert.equal(stored.title, 'Session 2 slides (v2)');
  await form.getByRole('button', { name: 'Create drop' }).waitFor();

  // Delete takes two clicks.
  await edited.getByRole('button', { name: 'Delete Session 2 slides (v2)' }).click();
  await edited.getByRole('button', { name: 'Confirm: delete Session 2 slides (v2)' }).click();
  await edited.waitFor({ state: 'detached' });
  assert.ok(!(await organizerDrops()).some((d) => d.id === stored.id), 'the deleted drop is still listed by the API');

  // A drop with a file, released now, while Ada has the room open.
  const a = await openRoom(ada);
  const bytes = Buffer.from([0x25, 0x50, 0x44, 0x46, 0x2d, 0x00, 0xff, 0xfe, 0x80, 0x0a, ...Buffer.from(' Worksheet bytes — ü\n')]);
  await org.getByLabel('Title', { exact: true }).fill('Printable worksheet');
  await org.getByLabel('Text (optional)').fill('Fill it in **before** session 2.');
  await org.getByLabel('File (optional)').setInputFiles({ name: 'worksheet week 1.pdf', mimeType: 'application/pdf', buffer: bytes });
  await org.setViewportSize(PHONE);
  await org.locator('#dm-form').screenshot({ path: path.join(artifacts, 'drops-organizer-form-phone.png') });
  const formBox = await org.locator('#dm-form').boundingBox();
  assert.ok(formBox.x >= 0 && formBox.x + formBox.width <= PHONE.width, `phone: the form is wider than the screen ${JSON.stringify(formBox)}`);
  await org.setViewportSize(DESKTOP);
  await submit.click();
  await org.locator('#dm-status').filter({ hasText: 'Created “Printable worksheet” with worksheet week 1.pdf — released now.' }).waitFor();
  await managed('Printable worksheet').locator('.dm-state', { hasText: 'Released' }).waitFor();
  assert.match(await managed('Printable worksheet').innerText(), new RegExp(`File: worksheet week 1\\.pdf \\(${bytes.length} bytes\\)`));
  const withFile = (await organizerDrops()).find((d) => d.title === 'Printable worksheet');
  assert.equal(withFile?.file?.size, bytes.length, JSON.stringify(withFile));
  assert.equal(withFile.file.content_type, 'application/pdf');
  assert.equal(withFile.state, 'released');

  // Ada gets it live and downloads it through the link.
  const item = dropItem(a, 'Printable worksheet');
  await item.waitFor({ timeout: 3_000 });
  await a.locator('#drop-notice').filter({ hasText: 'New bonus material: Printable worksheet' }).waitFor();
  const link = item.getByRole('link', { name: /Download worksheet week 1\.pdf/ });
  assert.match(await item.innerText(), new RegExp(`worksheet week 1\\.pdf \\(${bytes.length} bytes\\)`));
  const [download] = await Promise.all([a.waitForEvent('download'), link.click()]);
  assert.equal(download.suggestedFilename(), 'worksheet week 1.pdf');
  assert.deepEqual(await readFile(await download.path()), bytes, 'downloaded bytes differ from the upload');
  const fetched = await a.evaluate(async (href) => {
    const res = await fetch(href);
    return { status: res.status, type: res.headers.get('content-type'), bytes: Array.from(new Uint8Array(await res.arrayBuffer())) };
  }, await link.getAttribute('href'));
  assert.equal(fetched.status, 200);
  assert.match(fetched.type ?? '', /^application\/pdf/);
  assert.deepEqual(Buffer.from(fetched.bytes), bytes);
  await screenshot(a, 'drops-room-file.png');

  // The click and the download count as opened.
  await org.reload();
  await managed('Printable worksheet').waitFor();
  assert.match(await managed('Printable worksheet').innerText(), /Opened by 1 person/);
  await screenshot(org, 'drops-organizer.png');
  await org.setViewportSize(PHONE);
  await org.locator('#dm-list').screenshot({ path: path.join(artifacts, 'drops-organizer-phone.png') });
  assertNoPageErrors(org);
  assertNoPageErrors(a);
});

test('the drop manager warns about a drop whose session a series edit removed', async () => {
  const now = Date.now();
  const w = await createWebinar('Shrinking series', [
    { starts_at: new Date(now + 86_400_000).toISOString(), duration_minutes: 60 },
    { starts_at: new Date(now + 8 * 86_400_000).toISOString(), duration_minutes: 60 },
  ]);
  for (const [title, session] of [['Tied to session 2', 2], ['Tied to session 1', 1]]) {
    const res = await api(server, 'POST', `/api/webinars/${w.id}/drops`,
      { token: server.adminToken, body: { title, release: { session, offset_minutes: 15 } } });
    assert.equal(res.status, 201, JSON.stringify(res.body));
  }
  const patched = await api(server, 'PATCH', `/api/webinars/${w.id}`, { token: server.adminToken, body: { sessions: [w.sessions[0]] } });
  assert.equal(patched.status, 200, JSON.stringify(patched.body));

  const org = await openPage({ organizer: true });
  await org.goto(`${server.url}/live/${w.id}`);
  const managed = (title) => org.locator('#dm-list > li').filter({ has: org.locator('.dm-item-title', { hasText: title }) });
  await managed('Tied to session 2').waitFor();
  const warning = managed('Tied to session 2').getByTestId('drop-warning');
  await warning.waitFor();
  assert.match(await warning.innerText(), /Session 2 no longer exists, so this drop will not be released/);
  assert.equal(await managed('Tied to session 1').getByTestId('drop-warning').count(), 0);
  assertNoPageErrors(org);
});
