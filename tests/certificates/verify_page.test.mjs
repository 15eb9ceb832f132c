// [browser] The public /verify/{code} page in a real Chromium: a valid certificate shows the
// verdict and the facts in the site's layout, a replaced one says so and links to its successor,
// an erased one shows no name, an unknown code says so; the "check another code" form works. No
// CSP violations, no script errors. Screenshots in build/test-artifacts/verify-*.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { launchChromium, artifacts, failOnCspViolations } from '../support/browser.mjs';
import { startServer, api } from '../support/server.mjs';
import { ceSeries, register, insertCertificate, sql } from './support.mjs';

let server, browser;

before(async () => {
  server = await startServer();
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  if (server) { await server.stop(); server.cleanup(); }
});

async function openPage(errors) {
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 }, locale: 'en-US' });
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  page.on('pageerror', (err) => errors.push(err));
  failOnCspViolations(page, errors);
  return { context, page };
}

test('/verify shows a valid certificate, then a replaced one, an erased one and an unknown code', async () => {
  const w = await ceSeries(server, 'Feeding in the NICU');
  const zoe = await register(server, w, 'Zoë Łukasz-Ñúñez', 'zoe.page@example.org', 'OT-12345');
  const code = insertCertificate(server, w, zoe, { license: 'OT-12345' });
  const errors = [];
  const { context, page } = await openPage(errors);
  try {
    const res = await page.goto(`${server.url}/verify/${code.toLowerCase()}`);
    assert.equal(res.status(), 200);
    assert.equal(res.headers()['content-security-policy'] !== undefined, true);
    assert.equal(await page.locator('meta[name="robots"]').getAttribute('content'), 'noindex, nofollow');
    assert.equal(await page.locator('meta[name="referrer"]').getAttribute('content'), 'no-referrer');
    await page.getByTestId('verify-result').waitFor();
    assert.equal(await page.getByTestId('verdict').textContent(), 'Valid certificate');
    assert.equal(await page.getByTestId('name').textContent(), 'Zoë Łukasz-Ñúñez');
    assert.equal(await page.getByTestId('course').textContent(), 'Feeding in the NICU');
    assert.equal(await page.getByTestId('session').textContent(), 'Oral motor readiness');
    assert.equal(await page.getByTestId('kind').textContent(), 'Live');
    assert.equal(await page.getByTestId('hours').textContent(), '1.5');
    assert.equal(await page.getByTestId('ceus').textContent(), '0.15');
    assert.equal(await page.getByTestId('code').textContent(), code);
    assert.doesNotMatch(await page.locator('main').textContent(), /OT-12345|zoe\.page@example\.org/);
    await page.screenshot({ path: path.join(artifacts, 'verify-valid.png'), fullPage: true });

    // Re-issued: the old code says it was replaced and links to the new one.
    const fresh = (await api(server, 'POST', `/api/certificates/${code}/reissue`, { token: server.adminToken, raw: '' })).body;
    await page.goto(`${server.url}/verify/${code}`);
    await page.getByTestId('verify-result').waitFor();
    assert.match(await page.getByTestId('verdict').textContent(), /^Replaced/);
    await page.screenshot({ path: path.join(artifacts, 'verify-replaced.png'), fullPage: true });
    await page.getByTestId('replaced-by').click();
    await page.waitForURL(`**/verify/${fresh.code}`);
    await page.getByTestId('verify-result').waitFor();
    assert.equal(await page.getByTestId('verdict').textContent(), 'Valid certificate');

    // Revoked without a replacement.
    await api(server, 'POST', `/api/certificates/${fresh.code}/revoke`, { token: server.adminToken, body: { reason: 'test' } });
    await page.reload();
    await page.getByTestId('verify-result').waitFor();
    assert.match(await page.getByTestId('verdict').textContent(), /^Revoked/);

    // The records policy erased the personal fields.
    const ana = await register(server, w, 'Ana Ruiz', 'ana.page@example.org');
    const erased = insertCertificate(server, w, ana);
    sql(server, `UPDATE ce_certificates SET name = '', personal_erased_at = strftime('%s','now') WHERE code = '${erased}'`);
    await page.goto(`${server.url}/verify/${erased}`);
    await page.getByTestId('erased-note').waitFor();
    assert.doesNotMatch(await page.locator('main').textContent(), /Ana Ruiz/);
    assert.equal(await page.getByTestId('name').textContent(), 'Not kept (see below)');
    await page.screenshot({ path: path.join(artifacts, 'verify-erased.png'), fullPage: true });

    // An unknown code, then the form to type another.
    await page.goto(`${server.url}/verify/ZZZZ-ZZZZ-ZZZZ`);
    await page.getByTestId('verify-unknown').waitFor();
    assert.equal(await page.getByTestId('verify-result').isHidden(), true);
    await page.screenshot({ path: path.join(artifacts, 'verify-unknown.png'), fullPage: true });
    await page.getByLabel('Check another code').fill(erased.toLowerCase());
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL(`**/verify/${erased.toLowerCase()}`);
    await page.getByTestId('erased-note').waitFor();
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});
