// [browser] "My CE" in a real Chromium against a real build/cohort: the room links to it when the
// series offers CE; a therapist who attended the whole session sees what is still missing in
// plain words, ticks the attestation, follows the post-test link, and once credited downloads
// the certificate PDF (fetched with the Bearer token) and sees the verification link; a second
// one who attended half is told the replay can still earn recorded credit. Screenshots in
// build/test-artifacts (ce-*.png).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { launchChromium, artifacts, failOnCspViolations, signInOrganizer } from '../support/browser.mjs';
import { startServer, api } from '../support/server.mjs';

const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };
const iso = (s) => new Date(s * 1000).toISOString().replace('.000Z', 'Z');

let server;
let browser;
const contexts = [];

before(async () => {
  server = await startServer();
  browser = await launchChromium();
});

after(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  await browser?.close();
  if (server) {
    await server.stop();
    server.cleanup();
  }
});

const sql = (statement) =>
  execFileSync('sqlite3', ['-cmd', '.timeout 10000', path.join(server.dataDir, 'cohort.db'), statement]).toString().trim();

async function register(webinarId, name, email) {
  const res = await api(server, 'POST', `/api/webinars/${webinarId}/registrations`, { body: { name, email, consent: true } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

function attend(webinarId, registrationId, startsAt, count) {
  const rows = [];
  for (let m = 0; m < count; m++) rows.push(`(${webinarId}, ${registrationId}, ${startsAt / 60 + m})`);
  sql(`INSERT OR IGNORE INTO attendance (webinar_id, registration_id, minute) VALUES ${rows.join(', ')};`);
}

async function openPage(viewport) {
  const context = await browser.newContext({ viewport, timezoneId: 'America/Chicago', acceptDownloads: true });
  contexts.push(context);
  const page = await context.newPage();
  const errors = [];
  failOnCspViolations(page, errors);
  page.on('pageerror', (e) => errors.push(e));
  return { page, errors };
}

test('My CE: missing items, attestation, post-test link, certificate download and the room link', async () => {
  const start = Math.floor(Date.now() / 60_000) * 60 - 4 * 3600;
  const created = await api(server, 'POST', '/api/webinars', {
    token: server.adminToken,
    body: {
      title: 'Feeding therapy in practice',
      sessions: [{ starts_at: iso(start), duration_minutes: 60 }, { starts_at: iso(start + 8 * 86400), duration_minutes: 90 }],
    },
  });
  assert.equal(created.status, 201);
  const w = created.body;
  const put = await api(server, 'PUT', `/api/webinars/${w.id}/ce`, {
    token: server.adminToken,
    body: {
      offered: true, provider_name: 'Pediatric Therapy Collective', provider_number: '12345', instructional_level: 'Intermediate',
      objectives: ['Name three red flags in pediatric feeding', 'Plan a graded exposure hierarchy'],
      recorded_credit: true, attestation: 'I attended this session and completed its activities.',
      sessions: [{ number: 1, title: 'Red flags', approval_number: 'AP-0001' }, { number: 2, title: 'Graded exposure' }],
    },
  });
  assert.equal(put.status, 200, JSON.stringify(put.body));
  sql(`INSERT INTO ce_questions (webinar_id, session_number, position, kind, prompt, options, correct) VALUES (${w.id}, 1, 1, 'single', 'Q', '["a","b"]', '[0]');`);
  const maya = await register(w.id, 'Maya Ortiz', 'maya.browser@example.org');
  const noor = await register(w.id, 'Noor Haddad', 'noor.browser@example.org');
  attend(w.id, maya.id, start, 60);
  attend(w.id, noor.id, start, 30);

  // The room links to My CE.
  const { page, errors } = await openPage(DESKTOP);
  await page.goto(`${server.url}/live/${w.id}#token=${encodeURIComponent(maya.token)}`);
  await page.getByTestId('ce-link').waitFor();
  await page.getByTestId('ce-link').click();
  await page.waitForURL(`${server.url}/ce/${w.id}`);
  await page.locator('#ce').waitFor();
  const cards = page.getByTestId('ce-session');
  assert.equal(await cards.count(), 2);
  const first = cards.nth(0);
  assert.match(await first.locator('h2').textContent(), /Session 1: Red flags/);
  assert.match(await first.textContent(), /Attended 60 of 60 minutes/);
  assert.deepEqual(await first.getByTestId('missing').locator('li').allTextContents(),
    ['post-test: not passed yet (0 of 3 attempts used, pass mark 80 %)', 'attestation not ticked']);
  const testLink = await first.getByTestId('test-link').getAttribute('href');
  assert.equal(testLink, `/ce/${w.id}/test#token=${encodeURIComponent(maya.token)}&session=1`);
  assert.match(await cards.nth(1).textContent(), /the session has not started yet/);
  assert.match(await page.locator('#ce-about').textContent(), /Pediatric Therapy Collective/);
  await page.screenshot({ path: path.join(artifacts, 'ce-my-ce-before.png'), fullPage: true });

  // Tick the attestation: the card re-renders from the answer.
  const button = first.getByTestId('attest-button');
  assert.equal(await button.isDisabled(), true);
  await first.getByTestId('attest-box').check();
  await button.click();
  await page.locator('#action-status', { hasText: 'attestation saved' }).waitFor();
  const again = page.getByTestId('ce-session').nth(0);
  assert.deepEqual(await again.getByTestId('missing').locator('li').allTextContents(),
    ['post-test: not passed yet (0 of 3 attempts used, pass mark 80 %)']);
  assert.equal(sql(`SELECT count(*) FROM ce_attestations WHERE registration_id = ${maya.id};`), '1');

  // Passed, and a certificate issued (the certificates module's part, written here directly).
  sql(`INSERT INTO ce_attempts (webinar_id, registration_id, session_number, started_at, shown, submitted_at, score_percent, passed)
       VALUES (${w.id}, ${maya.id}, 1, ${start}, '[]', ${start + 4000}, 90, 1);
       INSERT INTO ce_certificates (code, webinar_id, registration_id, session_number, kind, name, course_title, session_starts_at,
       contact_hours, ceus, issued_at) VALUES ('CE7K-93QF', ${w.id}, ${maya.id}, 1, 'live', 'Maya Ortiz', 'Feeding therapy in practice',
       ${start}, 1, 0.1, ${start + 5000});`);
  let authorization = null;
  await page.route('**/api/me/certificates/*.pdf', (route) => {
    authorization = route.request().headers().authorization;
    route.fulfill({ status: 200, contentType: 'application/pdf', body: '%PDF-1.4\n% test\n' });
  });
  await page.reload();
  await page.locator('#ce').waitFor();
  const done = page.getByTestId('ce-session').nth(0);
  assert.match(await done.locator('.ce-done').textContent(), /Complete — live credit, 1 contact hour \(0\.1 CEU\)/);
  assert.equal(await done.locator('.ce-verify').getAttribute('href'), '/verify/CE7K-93QF');
  const [download] = await Promise.all([page.waitForEvent('download'), done.getByTestId('certificate-download').click()]);
  assert.equal(download.suggestedFilename(), 'cohort-certificate-CE7K-93QF.pdf');
  assert.equal(authorization, `Bearer ${maya.token}`);
  await page.screenshot({ path: path.join(artifacts, 'ce-my-ce-complete.png'), fullPage: true });
  assert.deepEqual(errors, []);

  // Half the session on a phone: the replay can still earn recorded credit.
  const phone = await openPage(PHONE);
  await phone.page.goto(`${server.url}/ce/${w.id}#token=${encodeURIComponent(noor.token)}`);
  await phone.page.locator('#ce').waitFor();
  assert.equal(new URL(phone.page.url()).hash, '', 'the token leaves the address bar');
  const half = phone.page.getByTestId('ce-session').nth(0);
  const missing = await half.getByTestId('missing').locator('li').allTextContents();
  assert.equal(missing[0], 'attended 30 of 60 minutes — the replay can still earn recorded credit once it is published (watch 85 % of it)');
  assert.equal(await half.getByTestId('test-link').getAttribute('class'), 'button secondary', 'the test is not open yet');
  await phone.page.screenshot({ path: path.join(artifacts, 'ce-my-ce-phone.png'), fullPage: true });
  assert.deepEqual(phone.errors, []);
});

test('console CE credit: the settings form (with a field error) and the report with its CSV link', async () => {
  const start = Math.floor(Date.now() / 60_000) * 60 - 6 * 3600;
  const created = await api(server, 'POST', '/api/webinars', {
    token: server.adminToken,
    body: { title: 'Handwriting without tears', sessions: [{ starts_at: iso(start), duration_minutes: 60 }, { starts_at: iso(start + 7200), duration_minutes: 45 }] },
  });
  const w = created.body;
  const ines = await register(w.id, 'Ines Duarte', 'ines.console@example.org');
  await register(w.id, 'Tom Novak', 'tom.console@example.org');
  attend(w.id, ines.id, start, 60);

  const context = await browser.newContext({ viewport: DESKTOP, timezoneId: 'America/Chicago' });
  contexts.push(context);
  await signInOrganizer(context, server);
  const page = await context.newPage();
  const errors = [];
  failOnCspViolations(page, errors);
  page.on('pageerror', (e) => errors.push(e));
  await page.goto(`${server.url}/console#series=${w.id}&tab=ce`);
  await page.getByTestId('ce-save').waitFor();
  assert.equal(await page.getByTestId('ce-offered').isChecked(), false);
  assert.equal(await page.getByTestId('ce-min-percent').inputValue(), '85');

  await page.getByTestId('ce-offered').check();
  await page.getByTestId('ce-provider-name').fill('Pediatric Therapy Collective');
  await page.getByTestId('ce-level').fill('Introductory');
  await page.getByTestId('ce-objectives').fill('Describe grip development\nPlan a handwriting screen');
  await page.getByTestId('ce-test').uncheck();
  await page.getByTestId('ce-min-percent').fill('0');
  await page.getByTestId('ce-save').click();
  await page.locator('#ce-min-percent-error', { hasText: 'min_percent' }).waitFor();
  assert.equal(await page.getByTestId('ce-min-percent').getAttribute('aria-invalid'), 'true');
  await page.getByTestId('ce-min-percent').fill('85');
  await page.locator('#ce-s1-contact_hours').fill('0.75');
  await page.locator('#ce-s0-approval_number').fill('AP-77');
  await page.getByTestId('ce-save').click();
  await page.locator('#ce-save-status', { hasText: 'Saved.' }).waitFor();
  const stored = (await api(server, 'GET', `/api/webinars/${w.id}/ce`, { token: server.adminToken })).body;
  assert.deepEqual([stored.offered, stored.provider_name, stored.min_percent, stored.test_required], [true, 'Pediatric Therapy Collective', 85, false]);
  assert.deepEqual(stored.objectives, ['Describe grip development', 'Plan a handwriting screen']);
  assert.deepEqual(stored.sessions.map((x) => [x.approval_number, x.contact_hours]), [['AP-77', null], ['', 0.75]]);

  await page.locator('#ce-report-status', { hasText: 'registrant-sessions complete' }).waitFor();
  assert.equal(await page.getByTestId('ce-report-row').count(), 4);
  assert.equal(await page.getByTestId('ce-total-row').count(), 2);
  assert.match(await page.getByTestId('ce-report-row').first().textContent(), /Ines Duarte.*Complete \(live\)/);
  assert.equal(await page.getByTestId('ce-csv').getAttribute('href'), `/api/webinars/${w.id}/ce/report.csv`);
  await page.getByTestId('ce-report-session').selectOption('2');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="ce-report-row"]').length === 2);
  assert.equal(await page.getByTestId('ce-csv').getAttribute('href'), `/api/webinars/${w.id}/ce/report.csv?session=2`);
  await page.getByTestId('ce-report-session').selectOption('');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="ce-report-row"]').length === 4);
  await page.screenshot({ path: path.join(artifacts, 'ce-console.png'), fullPage: true });
  assert.deepEqual(errors, []);
});
