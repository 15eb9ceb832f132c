// [browser] Signup with registration.confirm_email in a real Chromium: the form says "check your email" (a person
// never fills the off-screen honeypot), opening the mailed link shows a button and confirms nothing by itself, and
// the button confirms and shows the personal join link.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { launchChromium } from '../support/browser.mjs';
import { startServer, api } from '../support/server.mjs';
import { sleep } from '../support/http.mjs';
import { parseMessage } from '../support/smtp.mjs';

let server, browser, configDir;

before(async () => {
  configDir = mkdtempSync(path.join(tmpdir(), 'cohort-confirm-browser-'));
  const config = path.join(configDir, 'cohort.toml');
  writeFileSync(config, '[registration]\nconfirm_email = true\nconfirm_hours = 1\n');
  server = await startServer({ args: ['--config', config] });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  if (server) { await server.stop(); server.cleanup(); }
  if (configDir) rmSync(configDir, { recursive: true, force: true });
});

async function confirmLink(addr, timeoutMs = 15000) {
  const dir = path.join(server.dataDir, 'outbox');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const f of existsSync(dir) ? readdirSync(dir) : []) {
      const m = parseMessage(readFileSync(path.join(dir, f), 'utf8'));
      if (!(m.header('to') ?? '').includes(addr)) continue;
      const text = m.leaves().find((p) => p.contentType === 'text/plain')?.text() ?? '';
      const link = /(http:\/\/\S+\/w\/\d+#confirm=\S+)/.exec(text)?.[1];
      if (link) return link;
    }
    if (Date.now() > deadline) throw new Error(`no confirmation link mailed to ${addr}`);
    await sleep(100);
  }
}

test('sign up, "check your email", open the mailed link, press the button: confirmed, join link shown', async () => {
  const created = await api(server, 'POST', '/api/webinars', { token: server.adminToken,
    body: { title: 'Confirm in the browser', capacity: 3, sessions: [{ starts_at: new Date(Date.now() + 3 * 86_400_000).toISOString(), duration_minutes: 45 }] } });
  assert.equal(created.status, 201);
  const w = created.body;
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US' });
  context.setDefaultTimeout(10_000);
  let page = await context.newPage();
  const errors = [];
  page.on('pageerror', (err) => errors.push(String(err)));
  try {
    await page.goto(`${server.url}/w/${w.id}`);
    await page.getByLabel('Name', { exact: true }).fill('Grace Hopper');
    await page.getByLabel('Email', { exact: true }).fill('grace@example.org');
    await page.getByLabel('I agree to receive emails about this webinar series').check();
    // The honeypot is off screen, out of the tab order, and stays empty.
    const trap = await page.locator('#website').boundingBox();
    assert.ok(trap && trap.x + trap.width <= 0, `the honeypot is off screen: ${JSON.stringify(trap)}`);
    await page.getByRole('button', { name: 'Register' }).click();
    await page.getByRole('heading', { name: 'Check your email' }).waitFor();

    const link = await confirmLink('grace@example.org');
    // As from a mail client: a fresh page (a goto that changes only the fragment would not load one).
    await page.close();
    page = await context.newPage();
    page.on('pageerror', (err) => errors.push(String(err)));
    await page.goto(link);
    const button = page.getByRole('button', { name: 'Confirm my registration' });
    await button.waitFor();
    const before = await api(server, 'GET', `/api/webinars/${w.id}/registrations`, { token: server.adminToken });
    assert.deepEqual(before.body.registrations.map((r) => [r.email, r.confirmed]), [['grace@example.org', false]],
      'opening the link confirms nothing');
    await button.click();
    await page.getByRole('heading', { name: "You're registered" }).waitFor();
    const join = await page.locator('#join-link').getAttribute('href');
    assert.match(join, new RegExp(`/live/${w.id}#token=`));
    assert.ok(!page.url().includes('confirm='), 'the token leaves the address bar');
    const after = await api(server, 'GET', `/api/webinars/${w.id}/registrations`, { token: server.adminToken });
    assert.deepEqual(after.body.registrations.map((r) => [r.email, r.confirmed, r.status]), [['grace@example.org', true, 'registered']]);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});
