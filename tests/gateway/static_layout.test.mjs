// The shared page layout (web/layout.html) against a real build/cohort: every page is served
// assembled (one head, one header, one footer, its own title and script) with the headers pages
// always had; an edit of a page or of the layout shows without a restart; a page that does not fit
// the layout stops the start-up, naming the file and the slot.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, copyFileSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServer, cohortBin, repoRoot } from '../support/server.mjs';

const count = (text, what) => text.split(what).length - 1;

const pages = {
  '/': { file: 'index.html', script: '/assets/index.js' },
  '/w/1': { file: 'register.html', script: '/assets/register.js' },
  '/live/1': { file: 'live.html', script: '/assets/live.js' },
  '/materials/1': { file: 'materials.html', script: '/assets/materials.js' },
  '/certificate': { file: 'certificate.html', script: '/assets/certificate.js' },
  '/ce/1/test': { file: 'ce-test.html', script: '/assets/ce-test.js' },
  '/unsubscribe': { file: 'unsubscribe.html', script: '/assets/unsubscribe.js' },
  '/console': { file: 'console.html', script: '/assets/console.js' },
};

let server;
before(async () => { server = await startServer(); });
after(async () => { await server?.stop(); server?.cleanup(); });

test('every page is served in the layout: one doctype, head, header, footer; its own title and script', async () => {
  for (const [route, { file, script }] of Object.entries(pages)) {
    const res = await fetch(server.url + route);
    assert.equal(res.status, 200, route);
    assert.match(res.headers.get('content-type') ?? '', /^text\/html; charset=utf-8/, route);
    assert.equal(res.headers.get('cache-control'), 'no-cache', route);
    assert.match(res.headers.get('content-security-policy') ?? '', /script-src 'self';/, route);
    const html = await res.text();
    assert.ok(html.startsWith('<!doctype html>\n'), `${route} does not start with the doctype`);
    for (const once of ['<!doctype html>', '<head>', '<header class="site-header">', '<footer class="site-footer">',
      '<main id="main"', '<title>', 'class="skip-link"', '/assets/style.css']) {
      assert.equal(count(html, once), 1, `${route}: ${once} ${count(html, once)} times`);
    }
    assert.equal(count(html, `<script type="module" src="${script}"></script>`), 1, `${route}: its script`);
    assert.ok(!/<script(?![^>]*\bsrc=)/.test(html), `${route} has an inline script`);
    assert.ok(!html.includes('{{') && !html.includes('<!-- slot') && !html.includes('cohort:layout'), `${route}: layout markup left over`);
    const source = readFileSync(path.join(repoRoot, 'web', file), 'utf8');
    const title = /<!-- slot title -->(.*)/.exec(source)[1].trim();
    assert.ok(html.includes(`<title>${title}</title>`), `${route}: title ${title}`);
    const again = await (await fetch(server.url + route)).text();
    assert.equal(again, html, `${route} differs between two requests`);
  }
});

function tinyWebRoot() {
  const root = mkdtempSync(path.join(tmpdir(), 'cohort-layout-'));
  mkdirSync(path.join(root, 'assets'));
  copyFileSync(path.join(repoRoot, 'web', 'layout.html'), path.join(root, 'layout.html'));
  return root;
}

const page = (main) => '<!-- cohort:layout -->\n<!-- slot title -->Tiny — Cohort\n<!-- slot head -->\n'
  + '  <script type="module" src="/assets/index.js"></script>\n<!-- slot tagline -->Tiny\n'
  + `<!-- slot main -->\n    <p>${main}</p>\n<!-- slot footer -->Tiny footer\n`;

// A later modification time than before, whatever the file system's clock granularity.
function writeLater(file, text, seconds) {
  writeFileSync(file, text);
  const t = new Date(Date.now() + seconds * 1000);
  utimesSync(file, t, t);
}

test('an edit of a page or of the layout shows without a restart', async () => {
  const root = tinyWebRoot();
  writeFileSync(path.join(root, 'index.html'), page('first'));
  const own = await startServer({ args: ['--web-root', root] });
  try {
    const get = async () => (await fetch(`${own.url}/`)).text();
    assert.match(await get(), /<p>first<\/p>/);
    writeLater(path.join(root, 'index.html'), page('second'), 10);
    const second = await get();
    assert.match(second, /<p>second<\/p>/);
    assert.doesNotMatch(second, /first/);
    const layout = readFileSync(path.join(root, 'layout.html'), 'utf8');
    writeLater(path.join(root, 'layout.html'), layout.replace('<header class="site-header">', '<header class="site-header" data-edited="yes">'), 20);
    const third = await get();
    assert.match(third, /data-edited="yes"/);
    assert.match(third, /<p>second<\/p>/);
  } finally {
    await own.stop();
    own.cleanup();
    rmSync(root, { recursive: true, force: true });
  }
});

test('a page that does not fit the layout stops the start-up, naming the file and the slot', async () => {
  const root = tinyWebRoot();
  writeFileSync(path.join(root, 'index.html'), page('x').replace('<!-- slot title -->Tiny — Cohort\n', ''));
  const dataDir = mkdtempSync(path.join(tmpdir(), 'cohort-layout-data-'));
  try {
    const proc = spawn(cohortBin, ['--listen', '127.0.0.1:0', '--rtmp', '127.0.0.1:0', '--data-dir', dataDir,
      '--admin-token', 'x'.repeat(32), '--web-root', root], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    proc.stdout.on('data', (d) => { stdout += d; });
    proc.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
    const code = await new Promise((resolve) => proc.on('exit', (c, signal) => resolve(c ?? signal)));
    clearTimeout(timer);
    assert.notEqual(code, 0, `exit ${code}; stdout ${stdout}`);
    assert.doesNotMatch(stdout, /listening on/);
    assert.match(stderr, /index\.html/);
    assert.match(stderr, /"title"/);
  } finally {
    rmSync(root, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  }
});
