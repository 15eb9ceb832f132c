// [browser] The console's Certificates tab in a real Chromium, signed in as an organizer: the
// series' certificates with their state, the PDF link, re-issue (two clicks; the row becomes
// "Replaced by ..." and the new one appears), revoke with a reason, the session filter and the CSV
// link. No CSP violations, no script errors. Screenshot: build/test-artifacts/console-certificates.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { launchChromium, artifacts, failOnCspViolations, signInOrganizer } from '../support/browser.mjs';
import { startServer, api } from '../support/server.mjs';
import { ceSeries, register, insertCertificate } from './support.mjs';

let server, browser;

before(async () => {
  server = await startServer();
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  if (server) { await server.stop(); server.cleanup(); }
});

test('the organizer sees, re-issues and revokes certificates in the console', async () => {
  const w = await ceSeries(server, 'Feeding in the NICU');
  const zoe = await register(server, w, 'Zoë Łukasz-Ñúñez', 'zoe.console@example.org', 'OT-12345');
  const ben = await register(server, w, 'Ben Okafor', 'ben.console@example.org');
  const zoeCode = insertCertificate(server, w, zoe, { license: 'OT-12345' });
  const benCode = insertCertificate(server, w, ben);

  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US' });
  context.setDefaultTimeout(10_000);
  const errors = [];
  try {
    await signInOrganizer(context, server);
    const page = await context.newPage();
    page.on('pageerror', (err) => errors.push(err));
    failOnCspViolations(page, errors);
    await page.goto(`${server.url}/console#series=${w.id}&tab=certificates`);
    const table = page.getByTestId('certificates-table');
    await table.waitFor();
    const zoeRow = page.locator(`[data-testid="certificate-row"][data-code="${zoeCode}"]`);
    await zoeRow.waitFor();
    assert.match(await zoeRow.textContent(), /Zoë Łukasz-Ñúñez.*License OT-12345.*1: Oral motor readiness.*Live.*1\.5 · 0\.15/);
    assert.equal(await zoeRow.getByTestId('certificate-pdf').getAttribute('href'), `/api/certificates/${zoeCode}.pdf`);
    assert.equal(await page.getByTestId('certificates-csv').getAttribute('href'), `/api/webinars/${w.id}/certificates.csv`);
    assert.match(await page.getByTestId('certificates-status').textContent(), /2 valid certificates \(3 contact hours\)/);

    // The PDF link downloads the certificate with the console's session cookie.
    const [download] = await Promise.all([page.waitForEvent('download'), zoeRow.getByTestId('certificate-pdf').click()]);
    assert.equal(download.suggestedFilename(), `ce-certificate-${zoeCode}.pdf`);

    // Re-issue takes two clicks.
    const reissue = zoeRow.getByTestId('certificate-reissue');
    await reissue.click();
    assert.equal(await reissue.textContent(), 'Confirm re-issue');
    await reissue.click();
    await page.locator(`[data-testid="certificate-row"][data-code="${zoeCode}"][data-status="revoked"]`).waitFor();
    assert.match(await page.locator(`[data-testid="certificate-row"][data-code="${zoeCode}"]`).textContent(), /Replaced\s*by [0-9A-Z]{4}-/);
    assert.equal(await page.locator('[data-testid="certificate-row"][data-status="valid"]').count(), 2);

    // Revoke asks why.
    const benRow = page.locator(`[data-testid="certificate-row"][data-code="${benCode}"]`);
    await benRow.getByTestId('certificate-revoke').click();
    await benRow.getByTestId('certificate-revoke-reason').fill('Left after 20 minutes; attendance corrected');
    await page.screenshot({ path: path.join(artifacts, 'console-certificates-revoke.png'), fullPage: true });
    await benRow.getByTestId('certificate-revoke-confirm').click();
    await page.locator(`[data-testid="certificate-row"][data-code="${benCode}"][data-status="revoked"]`).waitFor();
    const revoked = await api(server, 'GET', `/api/verify/${benCode}`);
    assert.equal(revoked.body.status, 'revoked');
    await page.screenshot({ path: path.join(artifacts, 'console-certificates.png'), fullPage: true });

    // The session filter.
    await page.getByTestId('certificates-session').selectOption('2');
    await page.getByTestId('certificates-empty').waitFor();
    assert.equal(await page.getByTestId('certificates-csv').getAttribute('href'), `/api/webinars/${w.id}/certificates.csv?session=2`);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});
