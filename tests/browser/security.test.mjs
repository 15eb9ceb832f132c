// [browser] The browser side of "safe on the open internet", in a real Chromium against a real
// build/cohort: a bonus file carrying script (HTML, SVG) opened the way a registrant opens it does not
// run on Cohort's origin (it downloads; it would render sandboxed at most); every page carries a strict
// Content-Security-Policy and loads with no CSP violation; the organizer's pages hold no admin token in
// the browser's storage.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { launchChromium, signInOrganizer, failOnCspViolations } from '../support/browser.mjs';
import { startServer, api } from '../support/server.mjs';

let server;
let browser;
let webinar;
let ada;
const contexts = [];

// What the planted script would do if it ran on Cohort's origin: mark the origin's storage and
// copy out the registrant's token.
const PAYLOAD = "localStorage.setItem('pwned', 'yes'); localStorage.setItem('stolen', JSON.stringify(Object.entries(localStorage)));"
  + " document.title = 'pwned';";
const HTML_FILE = `<!doctype html><html><head><title>Handout</title><script>${PAYLOAD}</script></head>`
  + `<body><h1>Handout</h1><img src=x onerror="${PAYLOAD.replace(/'/g, '&#39;')}"></body></html>`;
const SVG_FILE = '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
  + `<script>${PAYLOAD}</script><rect width="10" height="10"/></svg>`;

before(async () => {
  server = await startServer();
  browser = await launchChromium();
  const now = Date.now();
  const res = await api(server, 'POST', '/api/webinars', {
    token: server.adminToken,
    body: { title: 'Security checks', description: 'Browser security test.', capacity: null,
      sessions: [{ starts_at: new Date(now + 86_400_000).toISOString(), duration_minutes: 60 }] },
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  webinar = res.body;
  const reg = await api(server, 'POST', `/api/webinars/${webinar.id}/registrations`,
    { body: { name: 'Ada Lovelace', email: 'ada.security@example.org', consent: true } });
  assert.equal(reg.status, 201, JSON.stringify(reg.body));
  ada = reg.body;
});

after(async () => {
  for (const context of contexts) await context.close().catch(() => {});
  await browser?.close();
  if (server) {
    await server.stop();
    server.cleanup();
  }
});

async function newPage() {
  const context = await browser.newContext({ acceptDownloads: true });
  contexts.push(context);
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  page.pageErrors = [];
  page.on('pageerror', (err) => page.pageErrors.push(err));
  page.on('dialog', (dialog) => { page.pageErrors.push(new Error(`unexpected dialog: ${dialog.message()}`)); dialog.dismiss(); });
  failOnCspViolations(page, page.pageErrors);
  return { context, page };
}

// A released drop with this file, uploaded with the type the organizer's client claimed.
async function fileDrop(title, bytes, type, filename) {
  const created = await api(server, 'POST', `/api/webinars/${webinar.id}/drops`, { token: server.adminToken, body: { title } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const up = await api(server, 'PUT', `/api/webinars/${webinar.id}/drops/${created.body.id}/file?filename=${filename}`,
    { token: server.adminToken, raw: Buffer.from(bytes), headers: { 'content-type': type } });
  assert.equal(up.status, 200, JSON.stringify(up.body));
  const rel = await api(server, 'PATCH', `/api/webinars/${webinar.id}/drops/${created.body.id}`,
    { token: server.adminToken, body: { release: 'now' } });
  assert.equal(rel.status, 200, JSON.stringify(rel.body));
  for (let i = 0; i < 100; i++) {
    const list = await api(server, 'GET', `/api/webinars/${webinar.id}/drops`, { token: ada.token });
    if (list.body.drops.some((d) => d.id === created.body.id)) return created.body;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`drop ${title} was not released`);
}

// Opens the URL in the page as a link would; resolves with the download it turned into, or null
// when the browser rendered it instead.
async function follow(page, url) {
  const download = page.waitForEvent('download', { timeout: 10_000 });
  download.catch(() => {});
  try {
    await page.goto(url);
  } catch (err) {
    if (!/Download is starting|net::ERR_ABORTED/.test(String(err))) throw err;
    return download;
  }
  await page.waitForTimeout(300); // rendered: give a script the time to run
  return null;
}

test('an HTML and an SVG drop carrying script download instead of running on Cohort\'s origin', async () => {
  const html = await fileDrop('Handout (HTML)', HTML_FILE, 'text/html', 'handout.html');
  const svg = await fileDrop('Diagram (SVG)', SVG_FILE, 'image/svg+xml', 'diagram.svg');
  const { page } = await newPage();
  // The registrant's room: the token lands in this origin's localStorage, where a script would find it.
  await page.goto(ada.join_url);
  await page.getByRole('heading', { level: 1, name: /^Hi / }).waitFor();
  const origin = new URL(server.url).origin;
  const token = await page.evaluate((id) => localStorage.getItem(`cohort.token.${id}`), webinar.id);
  assert.equal(token, ada.token, 'the room page kept the token');

  for (const [drop, body, name] of [[html, HTML_FILE, 'handout.html'], [svg, SVG_FILE, 'diagram.svg']]) {
    const url = `${origin}/api/drops/${drop.id}/file?token=${encodeURIComponent(ada.token)}`;
    const download = await follow(page, url);
    assert.ok(download, `${name} is downloaded, not rendered on ${origin}`);
    assert.equal(download.suggestedFilename(), name);
    assert.equal(await readFile(await download.path(), 'utf8'), body, `${name}: the bytes as uploaded`);
    // The page is still Cohort's room, untouched: nothing ran on the origin.
    await page.goto(`${origin}/live/${webinar.id}`);
    await page.getByRole('heading', { level: 1, name: /^Hi / }).waitFor();
    assert.notEqual(await page.title(), 'pwned');
    assert.equal(await page.evaluate(() => localStorage.getItem('pwned')), null, `${name}: no script ran on Cohort's origin`);
    assert.equal(await page.evaluate(() => localStorage.getItem('stolen')), null);
  }

  // Even opened directly in a tab with a bearer-less top-level navigation, the file's answer forbids
  // rendering with script: a sandbox CSP, octet-stream, attachment.
  const res = await page.request.get(`${origin}/api/drops/${svg.id}/file?token=${encodeURIComponent(ada.token)}`);
  assert.equal(res.headers()['content-security-policy'], "sandbox; default-src 'none'");
  assert.equal(res.headers()['content-type'], 'application/octet-stream');
  assert.match(res.headers()['content-disposition'], /^attachment;/);
  assert.deepEqual(page.pageErrors.map(String), []);
});

test('a safe type still opens in the browser: HTML uploaded as text/plain shows as text and runs no script', async () => {
  // The organizer's client lied about the type; the browser must still not run the markup's script.
  const lie = await fileDrop('Not really a PDF', HTML_FILE, 'text/plain', 'notes.txt');
  const { page } = await newPage();
  await page.goto(ada.join_url);
  await page.getByRole('heading', { level: 1, name: /^Hi / }).waitFor();
  const origin = new URL(server.url).origin;
  const download = await follow(page, `${origin}/api/drops/${lie.id}/file?token=${encodeURIComponent(ada.token)}`);
  assert.equal(download, null, 'text/plain is shown inline');
  assert.equal(await page.evaluate(() => document.contentType), 'text/plain', 'shown as text, not parsed as HTML');
  await page.goto(`${origin}/live/${webinar.id}`);
  await page.getByRole('heading', { level: 1, name: /^Hi / }).waitFor();
  assert.equal(await page.evaluate(() => localStorage.getItem('pwned')), null);
});

test('every page carries a strict CSP and loads without a CSP violation; the organizer keeps no token in storage', async () => {
  const { context, page } = await newPage();
  await signInOrganizer(context, server);
  const pages = ['/', `/w/${webinar.id}`, `/live/${webinar.id}`, `/materials/${webinar.id}`, '/console', '/unsubscribe',
    `/certificate?webinar=${webinar.id}&registration=${ada.id}&session=1`];
  for (const path of pages) {
    const res = await page.goto(server.url + path);
    assert.equal(res.status(), 200, path);
    const csp = res.headers()['content-security-policy'] ?? '';
    for (const directive of ["default-src 'self'", "script-src 'self'", "style-src 'self'", "object-src 'none'",
      "base-uri 'none'", "frame-ancestors 'none'"])
      assert.ok(csp.split(/;\s*/).includes(directive), `${path}: CSP has ${directive}: ${csp}`);
    assert.ok(!/unsafe-inline|unsafe-eval/.test(csp), `${path}: no unsafe-* in ${csp}`);
    await page.waitForLoadState('networkidle');
  }
  // The organizer views (room with stream box and drop manager, console) ran on the cookie alone.
  await page.goto(`${server.url}/live/${webinar.id}`);
  await page.getByRole('heading', { level: 1, name: /^Organizer view/ }).waitFor();
  await page.locator('#drop-manager').waitFor();
  await page.goto(`${server.url}/console`);
  await page.getByTestId('series-list').getByText('Security checks').first().waitFor();
  const stored = await page.evaluate(() => [...Object.keys(localStorage), ...Object.keys(sessionStorage)]);
  assert.deepEqual(stored.filter((k) => !k.startsWith('cohort.token.')), [], `storage: ${stored}`);
  assert.ok(!(await page.evaluate(() => document.cookie)).includes('cohort_session'), 'the session cookie is HttpOnly');
  assert.deepEqual(page.pageErrors.map(String), []);
});
