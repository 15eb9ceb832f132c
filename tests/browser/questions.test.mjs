// [browser] Signup questions in a real Chromium against a real build/cohort: the registration page renders the
// series' questions (text, choice, checkbox, required markers), a missing required answer shows the server's inline
// error under its field and keeps what was typed, and a therapist registers with a license number that the
// organizer then sees; the console's question editor adds presets and a custom choice, refuses a bad one inline,
// and keeps answers across an edit. Screenshots: build/test-artifacts/questions-*.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { launchChromium, artifacts, failOnCspViolations, signInOrganizer } from '../support/browser.mjs';
import { startServer, api } from '../support/server.mjs';

let server;
let browser;
let context;

before(async () => {
  server = await startServer();
  browser = await launchChromium();
});
after(async () => {
  await context?.close().catch(() => {});
  await browser?.close();
  if (server) { await server.stop(); server.cleanup(); }
});

test('a therapist registers with a license number; a missing required answer is shown under its field', async () => {
  const created = await api(server, 'POST', '/api/webinars', { token: server.adminToken, body: {
    title: 'Sensory integration in the NICU', description: 'A four-part series for OTs, PTs and SLPs.', capacity: 50,
    sessions: [{ starts_at: new Date(Date.now() + 3 * 86_400_000).toISOString(), duration_minutes: 60 }] } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const w = created.body;
  const put = await api(server, 'PUT', `/api/webinars/${w.id}/questions`, { token: server.adminToken, body: { questions: [
    { preset: 'license_number', required: true },
    { preset: 'state' },
    { preset: 'discipline', required: true },
    { label: 'I would like CE credit for this series', kind: 'checkbox' },
  ] } });
  assert.equal(put.status, 200, JSON.stringify(put.body));

  context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US' });
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (err) => errors.push(err));
  failOnCspViolations(page, errors);

  await page.goto(`${server.url}/w/${w.id}`);
  await page.getByRole('heading', { name: 'Sensory integration in the NICU' }).waitFor();
  const license = page.getByLabel('License number');
  await license.waitFor();
  assert.equal(await license.getAttribute('required'), '', 'the license number is required');
  assert.equal(await page.locator('label[for="q-license_number"] .required-mark').count(), 1, 'with its marker');
  assert.match(await page.locator('label[for="q-state"]').textContent(), /\(optional\)/);
  const discipline = page.getByLabel('Discipline');
  assert.deepEqual(await discipline.locator('option').allTextContents(), ['Choose…', 'OT', 'OTA', 'PT', 'PTA', 'SLP', 'Other']);

  // Everything but the license number: the server's error appears under that field, the rest stays as typed.
  await page.getByLabel('Name', { exact: true }).fill('Maya Okafor');
  await page.getByLabel('Email', { exact: true }).fill('maya@example.org');
  await page.getByLabel('State or province of licensure').fill('Ohio');
  await discipline.selectOption('OT');
  await page.getByLabel('I would like CE credit for this series').check();
  await page.getByLabel('I agree to receive emails about this webinar series').check();
  await page.getByRole('button', { name: 'Register' }).click();
  const error = page.locator('#q-license_number-error');
  await page.waitForFunction(() => document.getElementById('q-license_number-error')?.textContent !== '');
  assert.equal(await error.textContent(), 'License number is required');
  assert.equal(await license.getAttribute('aria-invalid'), 'true');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'q-license_number', 'the field at fault has the focus');
  assert.equal(await page.getByLabel('State or province of licensure').inputValue(), 'Ohio', 'what was typed is kept');
  assert.equal(await discipline.inputValue(), 'OT');
  assert.equal(await page.getByLabel('Name', { exact: true }).inputValue(), 'Maya Okafor');
  await page.screenshot({ path: path.join(artifacts, 'questions-error.png'), fullPage: true });

  await license.fill('OT-48213');
  await page.getByRole('button', { name: 'Register' }).click();
  await page.getByRole('heading', { name: "You're registered" }).waitFor();
  await page.screenshot({ path: path.join(artifacts, 'questions-registered.png'), fullPage: true });

  const list = await api(server, 'GET', `/api/webinars/${w.id}/registrations`, { token: server.adminToken });
  assert.equal(list.body.registrations.length, 1);
  const answers = Object.fromEntries(list.body.registrations[0].answers.map((a) => [a.key, a.value]));
  assert.equal(answers.license_number, 'OT-48213');
  assert.equal(answers.state, 'Ohio');
  assert.equal(answers.discipline, 'OT');
  assert.equal(Object.values(answers).filter((v) => v === true).length, 1, 'the CE checkbox was ticked');
  assert.deepEqual(errors.map(String), []);
});

test('the console edits the signup questions: presets, a custom choice, an inline error, answers kept', async () => {
  const created = await api(server, 'POST', '/api/webinars', { token: server.adminToken, body: {
    title: 'Pediatric feeding series', description: '', capacity: null,
    sessions: [{ starts_at: new Date(Date.now() + 5 * 86_400_000).toISOString(), duration_minutes: 60 }] } });
  assert.equal(created.status, 201);
  const w = created.body;
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 1000 }, locale: 'en-US' });
  try {
    ctx.setDefaultTimeout(10_000);
    await signInOrganizer(ctx, server);
    const page = await ctx.newPage();
    const errors = [];
    page.on('pageerror', (err) => errors.push(err));
    failOnCspViolations(page, errors);
    await page.goto(`${server.url}/console#series=${w.id}&tab=registrants`);
    const editor = page.getByTestId('questions-editor');
    await editor.waitFor();
    await page.getByTestId('questions-status').filter({ hasText: /^$/ }).waitFor({ state: 'attached' });

    await page.getByTestId('questions-add-license_number').click();
    await page.getByTestId('questions-add-discipline').click();
    assert.equal(await page.getByTestId('questions-add-license_number').isDisabled(), true, 'a preset is added once');
    await page.getByTestId('question-required').nth(0).check();
    await page.getByTestId('questions-add-custom').click();
    const rows = page.getByTestId('question-row');
    assert.equal(await rows.count(), 3);
    // A choice with one option: the server refuses it, and the row's error says why.
    await page.getByTestId('question-label').nth(2).fill('Preferred format');
    await page.getByTestId('question-kind').nth(2).selectOption('choice');
    await page.getByTestId('question-options').nth(2).fill('Live');
    await page.getByTestId('questions-save').click();
    await page.getByTestId('questions-status').filter({ hasText: 'were not saved' }).waitFor();
    assert.match(await rows.nth(2).locator('.field-error').textContent(), /2 to 30 options/);
    await page.getByTestId('question-options').nth(2).fill('Live\nReplay');
    await page.getByTestId('questions-save').click();
    await page.getByTestId('questions-status').filter({ hasText: 'Saved' }).waitFor();
    await editor.screenshot({ path: path.join(artifacts, 'questions-console.png') });

    const stored = (await api(server, 'GET', `/api/webinars/${w.id}/questions`, { token: server.adminToken })).body.questions;
    assert.deepEqual(stored.map((q) => [q.key.replace(/^q\d+$/, 'q<id>'), q.kind, q.required]),
      [['license_number', 'text', true], ['discipline', 'choice', false], ['q<id>', 'choice', false]]);
    assert.deepEqual(stored[2].options, ['Live', 'Replay']);

    // Someone answers; the organizer removes the discipline and saves; the license number answer stays.
    const signup = await api(server, 'POST', `/api/webinars/${w.id}/registrations`, { body: { name: 'Lee Park', email: 'lee@example.org',
      consent: true, answers: { license_number: 'PT-77', discipline: 'PT', [stored[2].key]: 'Replay' } } });
    assert.equal(signup.status, 201, JSON.stringify(signup.body));
    await rows.nth(1).getByTestId('question-remove').click();
    await page.getByTestId('questions-save').click();
    await page.getByTestId('questions-status').filter({ hasText: 'Saved' }).waitFor();
    const me = await api(server, 'GET', '/api/me', { token: signup.body.token });
    assert.deepEqual(me.body.answers.map((a) => [a.key, a.value]), [['license_number', 'PT-77'], [stored[2].key, 'Replay']]);
    assert.deepEqual(errors.map(String), []);
  } finally {
    await ctx.close();
  }
});
