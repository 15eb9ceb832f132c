// [browser] The post-test and evaluation page (/ce/{id}/test#token=T&session=N) in a real Chromium
// against a real build/cohort: a registrant who attended fails the post-test once, tries again and
// passes, then sends the evaluation (a required scale left empty is flagged inline first). No CSP
// violation; screenshots in build/test-artifacts. And the console's Post-test tab: the organizer
// writes a question (a missing right answer is flagged on that question), an evaluation item, and
// reads the summary with its CSV link.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { launchChromium, artifacts, failOnCspViolations, signInOrganizer } from '../support/browser.mjs';
import { startServer, api } from '../support/server.mjs';
import { endedSeries, attend, register, bank } from '../assessment/ce_fixture.mjs';

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

// Ticks the options of every shown question: the right ones, or (wrong) the first wrong one.
async function answer(page, { right }) {
  for (const q of bank.questions) {
    const fieldset = page.locator('fieldset', { has: page.locator('legend', { hasText: q.prompt }) });
    const picks = right ? q.correct.map((i) => q.options[i]) : [q.options.find((_, i) => !q.correct.includes(i))];
    for (const text of picks) await fieldset.getByLabel(text, { exact: true }).check();
  }
}

test('a registrant fails once, passes, then sends the evaluation', async () => {
  const w = await endedSeries(server, { title: 'Feeding therapy for toddlers', ce: { attempts_max: 3 } });
  const put = await api(server, 'PUT', `/api/webinars/${w.id}/sessions/1/test`, { token: server.adminToken, body: bank });
  assert.equal(put.status, 200);
  const items = await api(server, 'PUT', `/api/webinars/${w.id}/evaluation`, {
    token: server.adminToken,
    body: { items: [
      { session_number: null, kind: 'scale', prompt: 'The session met its learning objectives', required: true },
      { session_number: 1, kind: 'text', prompt: 'What will you try with your clients?', required: false },
    ] },
  });
  assert.equal(items.status, 200);
  const maya = await register(server, w.id, 'Maya Ortiz', 'maya.ce@example.org');
  attend(server, w, maya.id, 56);

  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const errors = [];
  failOnCspViolations(page, errors);
  page.on('pageerror', (e) => errors.push(e));
  try {
    await page.goto(`${server.url}/ce/${w.id}/test#token=${encodeURIComponent(maya.token)}&session=1`);
    await page.getByTestId('test-start').waitFor();
    assert.equal(new URL(page.url()).hash, '#session=1', 'the token left the address bar');
    assert.equal(await page.getByTestId('my-ce-link').getAttribute('href'), `/ce/${w.id}#token=${encodeURIComponent(maya.token)}`);
    assert.match(await page.getByTestId('test-summary').textContent(), /Pass mark 80%\. 0 attempts used of 3\./);
    assert.equal(await page.getByTestId('webinar-title').textContent(), 'Feeding therapy for toddlers');
    await page.screenshot({ path: path.join(artifacts, 'ce-test-1-start.png'), fullPage: true });

    await page.getByTestId('test-start').click();
    await page.getByTestId('test-form').waitFor();
    assert.equal(await page.locator('#test-questions > li').count(), 4);
    // Submitting with nothing ticked is caught on the page.
    await page.getByTestId('test-submit').click();
    await page.locator('#test-error', { hasText: 'Please answer every question' }).waitFor();
    await answer(page, { right: false });
    await page.screenshot({ path: path.join(artifacts, 'ce-test-2-answering.png'), fullPage: true });
    await page.getByTestId('test-submit').click();
    await page.getByTestId('test-score').waitFor();
    assert.equal(await page.getByTestId('test-score').textContent(), '0% — not passed');
    assert.match(await page.getByTestId('test-result').textContent(), /2 attempts left/);
    assert.equal(await page.getByTestId('test-start').textContent(), 'Try again');
    await page.screenshot({ path: path.join(artifacts, 'ce-test-3-failed.png'), fullPage: true });

    await page.getByTestId('test-start').click();
    await page.getByTestId('test-form').waitFor();
    await answer(page, { right: true });
    await page.getByTestId('test-submit').click();
    await page.locator('[data-testid="test-score"]', { hasText: '100% — passed' }).waitFor();
    assert.ok(await page.getByTestId('test-closed').isHidden(), 'the pass is told once, in the result');
    assert.ok(await page.getByTestId('test-start').isHidden());
    await page.screenshot({ path: path.join(artifacts, 'ce-test-4-passed.png'), fullPage: true });

    // The evaluation: the required scale is flagged inline, then the answers are sent once.
    await page.getByTestId('evaluation-form').waitFor();
    await page.getByLabel('What will you try with your clients?').fill('Messy play before meals');
    await page.getByTestId('evaluation-submit').click();
    await page.locator('.field-error', { hasText: 'Please choose 1 to 5.' }).waitFor();
    await page.screenshot({ path: path.join(artifacts, 'ce-test-5-evaluation-error.png'), fullPage: true });
    await page.getByRole('group', { name: /met its learning objectives/ }).getByLabel('4', { exact: true }).check();
    await page.getByTestId('evaluation-submit').click();
    await page.locator('[data-testid="evaluation-closed"]', { hasText: 'Thank you: your evaluation was received.' }).waitFor();
    assert.match(await page.getByTestId('evaluation-closed').textContent(), /Messy play before meals/);
    await page.screenshot({ path: path.join(artifacts, 'ce-test-6-evaluation-sent.png'), fullPage: true });

    // A reload (token now from this device's storage) shows the same finished state.
    await page.reload();
    await page.getByTestId('evaluation-closed').waitFor();
    assert.match(await page.getByTestId('test-closed').textContent(), /You passed/);
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: path.join(artifacts, 'ce-test-8-phone.png'), fullPage: true });

    const summary = await api(server, 'GET', `/api/webinars/${w.id}/evaluation/summary?session=1`, { token: server.adminToken });
    assert.equal(summary.body.responses, 1);
    assert.deepEqual(summary.body.items[0].distribution, [0, 0, 0, 1, 0]);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('the organizer edits the bank and the evaluation in the console and reads the summary', async () => {
  const w = await endedSeries(server, { title: 'Handwriting readiness' });
  const r = await register(server, w.id, 'Noor Haddad', 'noor.ce@example.org');
  attend(server, w, r.id, 60);
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await signInOrganizer(context, server);
  const page = await context.newPage();
  const errors = [];
  failOnCspViolations(page, errors);
  page.on('pageerror', (e) => errors.push(e));
  try {
    await page.goto(`${server.url}/console#series=${w.id}&tab=assessment`);
    await page.getByTestId('bank-add').click();
    const q = page.getByTestId('bank-question').first();
    await q.getByLabel('Question').fill('Which grip comes first?');
    const answers = q.locator('[data-role="option"]');
    await answers.nth(0).fill('Palmar grasp');
    await answers.nth(1).fill('Tripod grasp');
    await page.getByTestId('bank-save').click();
    await q.locator('.field-error', { hasText: 'exactly one right answer' }).waitFor();
    await q.locator('[data-role="right"]').nth(0).check();
    await page.getByTestId('bank-save').click();
    await page.getByTestId('bank-status').filter({ hasText: 'Saved: 1 question.' }).waitFor();
    const bankNow = await api(server, 'GET', `/api/webinars/${w.id}/sessions/1/test`, { token: server.adminToken });
    assert.deepEqual(bankNow.body.questions.map((x) => [x.prompt, x.options, x.correct]), [['Which grip comes first?', ['Palmar grasp', 'Tripod grasp'], [0]]]);

    await page.getByTestId('evaluation-add').click();
    const item = page.getByTestId('evaluation-item').first();
    await item.getByLabel('Prompt').fill('The examples fit my caseload');
    await page.getByTestId('evaluation-save').click();
    await page.getByTestId('evaluation-status').filter({ hasText: 'Saved: 1 item.' }).waitFor();
    const items = await api(server, 'GET', `/api/webinars/${w.id}/evaluation`, { token: server.adminToken });
    assert.deepEqual(items.body.items.map((i) => [i.prompt, i.kind, i.session_number, i.required]), [['The examples fit my caseload', 'scale', null, true]]);

    // A response arrives; the summary shows it when the tab is shown again.
    const sent = await api(server, 'POST', '/api/me/ce/1/evaluation', { token: r.token, body: { answers: { [items.body.items[0].id]: 5 } } });
    assert.equal(sent.status, 201);
    await page.getByTestId('tab-registrants').click();
    await page.getByTestId('tab-assessment').click();
    await page.getByTestId('evaluation-summary').filter({ hasText: 'Mean 5.00 of 5 from 1 answer.' }).waitFor();
    assert.equal(await page.getByTestId('evaluation-csv').getAttribute('href'), `/api/webinars/${w.id}/evaluation.csv?session=1`);
    await page.screenshot({ path: path.join(artifacts, 'ce-test-7-console.png'), fullPage: true });
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});
