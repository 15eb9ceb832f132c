// [browser] Issue 15's journey, in headless Debian Chromium against a real build/cohort and a real
// ffmpeg publishing over RTMP:
//   the organizer sets up a CE series (signup questions, CE settings, a post-test, an evaluation);
//   Maya registers on the public page with her license number, is in the live room while the
//   session is streamed (90 % of its minutes), fails the post-test once and passes it, completes the
//   evaluation and the attestation, downloads her PDF certificate (checked with pdftotext) and the
//   verification page confirms it; Noor attended 50 %, is told what is missing, watches the replay in
//   the room (the server counts the segments she fetched) and earns recorded credit; the organizer
//   exports the CE report from the console.
// Time cannot be sped up: the session is ten minutes long and ends within a minute of the start of
// the test. Maya's live-room minute (and the stream) are real; the minutes before the test began
// are written into `attendance` with the sqlite3 CLI, as the live room would have written them.
// Screenshots: build/test-artifacts/ce-journey-NN-*.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { launchChromium, artifacts, signInOrganizer, failOnCspViolations, pressPlay } from '../support/browser.mjs';
import { startServer, api, repoRoot } from '../support/server.mjs';

const DESKTOP = { width: 1280, height: 900 };
const TITLE = 'Level Up Your Skillset: 5 Ways Infant Massage Supports Your Pediatric Therapy Goals';
const SESSION_TITLE = 'Infant massage and feeding';
const STATEMENT = 'Pediatric Therapy Collective is an AOTA Approved Provider of professional development. '
  + 'The assignment of AOTA CEUs does not imply endorsement of specific course content, products, or clinical procedures by AOTA.';
const APPROVAL = 'AP-2026-0142';
const MAYA = { name: 'Maya Ortiz', email: 'maya.ce@example.org', license: 'OT-88231' };
const NOOR = { name: 'Noor Haddad', email: 'noor.ce@example.org', license: 'SLP-40917' };
const BANK = {
  questions: [
    { kind: 'single', prompt: 'Which stroke suits an infant with colic?', options: ['Clockwise tummy circles', 'Firm back pressure', 'None'], correct: [0] },
    { kind: 'multiple', prompt: 'Which cues tell you to pause the massage?', options: ['Gaze aversion', 'Arching', 'Relaxed hands'], correct: [0, 1] },
  ],
};

let server;
let browser;
let webinar;
let sessionStart;  // unix seconds, minute-aligned
let publisher = null;
const contexts = [];
let shot = 0;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const iso = (s) => new Date(s * 1000).toISOString().replace('.000Z', 'Z');
const sql = (statement) => execFileSync('sqlite3', ['-cmd', '.timeout 10000', path.join(server.dataDir, 'cohort.db'), statement]).toString().trim();

async function until(what, fn, { timeoutMs = 20_000, everyMs = 250 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
    await sleep(everyMs);
  }
}

async function newPage(label) {
  const context = await browser.newContext({ viewport: DESKTOP, acceptDownloads: true, timezoneId: 'America/Chicago' });
  contexts.push(context);
  const page = await context.newPage();
  const errors = [];
  failOnCspViolations(page, errors);
  page.on('pageerror', (e) => errors.push(`${label}: ${e}`));
  page.errors = errors;
  return { context, page };
}

async function screenshot(page, name) {
  shot += 1;
  await page.screenshot({ path: path.join(artifacts, `ce-journey-${String(shot).padStart(2, '0')}-${name}.png`), fullPage: true });
}

// Minutes [from, from + count) of the session for a registration, as the live room writes them.
function attended(registrationId, from, count) {
  const first = sessionStart / 60 + from;
  sql(`WITH RECURSIVE m(x) AS (SELECT ${first} UNION ALL SELECT x + 1 FROM m WHERE x < ${first + count - 1})
       INSERT OR IGNORE INTO attendance (webinar_id, registration_id, minute) SELECT ${webinar.id}, ${registrationId}, x FROM m`);
}

function startPublisher(url, seconds) {
  const args = ['-hide_banner', '-loglevel', 'error', '-re',
    '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30', '-f', 'lavfi', '-i', 'sine', '-t', String(seconds),
    '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-g', '30',
    '-c:a', 'aac', '-f', 'flv', url];
  const proc = spawn('ffmpeg', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const info = { proc, stderr: '' };
  proc.stderr.on('data', (d) => { info.stderr += d; });
  info.exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  return info;
}

// Answers every question of the open attempt on the CE test page: right ones, or a wrong one each.
async function answerTest(page, right) {
  await page.getByTestId('test-form').waitFor();
  for (const q of BANK.questions) {
    const fieldset = page.locator('fieldset', { has: page.locator('legend', { hasText: q.prompt }) });
    const picks = right ? q.correct.map((i) => q.options[i]) : [q.options.find((_, i) => !q.correct.includes(i))];
    for (const text of picks) await fieldset.getByLabel(text, { exact: true }).check();
  }
  await page.getByTestId('test-submit').click();
}

async function evaluate(page) {
  await page.getByTestId('evaluation-form').waitFor();
  await page.getByRole('group', { name: /objectives were met/ }).getByLabel('5', { exact: true }).check();
  await page.getByLabel('What will you use with your clients?').fill('Tummy circles before feeding');
  await page.getByTestId('evaluation-submit').click();
  await page.locator('[data-testid="evaluation-closed"]', { hasText: 'Thank you' }).waitFor();
}

// On My CE: tick the attestation, then download the certificate; returns the PDF's text and code.
async function attestAndDownload(page, who) {
  const card = page.getByTestId('ce-session').nth(0);
  await card.getByTestId('attest-box').check();
  await card.getByTestId('attest-button').click();
  const done = page.getByTestId('ce-session').nth(0).locator('.ce-done');
  await done.waitFor({ timeout: 15_000 });
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('ce-session').nth(0).getByTestId('certificate-download').click()]);
  const file = path.join(artifacts, `ce-journey-${who}.pdf`);
  await download.saveAs(file);
  assert.equal(readFileSync(file).subarray(0, 5).toString(), '%PDF-');
  const text = execFileSync('pdftotext', ['-layout', file, '-']).toString();
  const verify = await page.getByTestId('ce-session').nth(0).locator('.ce-verify').getAttribute('href');
  return { text, verify, doneText: await done.textContent() };
}

before(async () => {
  assert.ok(existsSync(path.join(repoRoot, 'web', 'assets', 'hls.min.js')), 'web/assets/hls.min.js is missing');
  mkdirSync(artifacts, { recursive: true });
  for (const name of readdirSync(artifacts)) if (name.startsWith('ce-journey-')) rmSync(path.join(artifacts, name), { force: true });
  server = await startServer();
  browser = await launchChromium();
});

after(async () => {
  if (publisher && publisher.proc.exitCode === null) publisher.proc.kill('SIGKILL');
  for (const c of contexts) await c.close().catch(() => {});
  await browser?.close();
  if (server) {
    await server.stop();
    server.cleanup();
  }
});

test('CE credit end to end: live credit with a retaken post-test, recorded credit from the replay, the certificate, its verification and the report', { timeout: 300_000 }, async () => {
  // ---- The organizer's series: one ten-minute session that ends at the end of this minute ----
  if (new Date().getSeconds() > 25) await sleep((61 - new Date().getSeconds()) * 1000);
  const minute = Math.floor(Date.now() / 60_000);
  sessionStart = (minute - 9) * 60;
  const admin = { token: server.adminToken };
  const created = await api(server, 'POST', '/api/webinars', { ...admin, body: { title: TITLE, sessions: [{ starts_at: iso(sessionStart), duration_minutes: 10 }] } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  webinar = created.body;
  const put = async (p, body) => {
    const res = await api(server, 'PUT', p, { ...admin, body });
    assert.equal(res.status, 200, `${p}: ${JSON.stringify(res.body)}`);
  };
  await put(`/api/webinars/${webinar.id}/questions`, { questions: [{ preset: 'license_number', required: true }, { preset: 'discipline', required: true }] });
  await put(`/api/webinars/${webinar.id}/ce`, {
    offered: true, provider_name: 'Pediatric Therapy Collective', provider_number: '12345', instructional_level: 'Introductory',
    objectives: ['Name three massage strokes for colic', 'Recognize an infant\'s cues to pause'], statement: STATEMENT,
    live_credit: true, recorded_credit: true, min_percent: 85, test_required: true, pass_percent: 80, attempts_max: 3,
    shuffle: true, evaluation_required: true, attestation: 'I attended this session and completed it myself.',
    sessions: [{ number: 1, title: SESSION_TITLE, approval_number: APPROVAL, contact_hours: null }],
  });
  await put(`/api/webinars/${webinar.id}/sessions/1/test`, BANK);
  await put(`/api/webinars/${webinar.id}/evaluation`, { items: [
    { session_number: null, kind: 'scale', prompt: 'The learning objectives were met', required: true },
    { session_number: null, kind: 'text', prompt: 'What will you use with your clients?', required: false },
  ] });
  const key = await api(server, 'POST', `/api/webinars/${webinar.id}/stream-key`, { ...admin, raw: '', headers: { 'content-length': '0' } });
  assert.equal(key.status, 201, JSON.stringify(key.body));

  // ---- Maya registers on the public page with her license number ----
  const maya = await newPage('maya');
  await maya.page.goto(`${server.url}/w/${webinar.id}`);
  await maya.page.locator('#name').fill(MAYA.name);
  await maya.page.locator('#email').fill(MAYA.email);
  await maya.page.getByLabel('License number').fill(MAYA.license);
  await maya.page.getByLabel('Discipline').selectOption('OT');
  await maya.page.locator('#consent').check();
  await screenshot(maya.page, 'register');
  await maya.page.locator('#submit-button').click();
  await maya.page.locator('#success-heading').filter({ hasText: "You're registered" }).waitFor();
  const joinHref = await maya.page.locator('#join-link').getAttribute('href');
  const mayaToken = decodeURIComponent(/#token=([^&]+)/.exec(joinHref)[1]);
  const mayaId = (await api(server, 'GET', '/api/me', { token: mayaToken })).body.id ?? (await api(server, 'GET', '/api/me', { token: mayaToken })).body.registration?.id;
  assert.ok(mayaId, 'her registration id');

  // Noor signed up earlier, by the API, with her license number.
  const noorReg = await api(server, 'POST', `/api/webinars/${webinar.id}/registrations`, {
    body: { name: NOOR.name, email: NOOR.email, consent: true, answers: { license_number: NOOR.license, discipline: 'SLP' } },
  });
  assert.equal(noorReg.status, 201, JSON.stringify(noorReg.body));

  // The minutes before the test began: Maya 8 of them, Noor 5 (half the session).
  attended(mayaId, 0, 8);
  attended(noorReg.body.id, 0, 5);

  // ---- The session's last minutes: Maya in the live room while it is streamed ----
  await maya.page.locator('#join-link').click();
  await maya.page.locator('#chat-status').filter({ hasText: /^Connected$/ }).waitFor();
  publisher = startPublisher(`${key.body.rtmp_url}/${key.body.stream_key}`, 14);
  await until('Maya\'s minute in the room is recorded', () => sql(`SELECT count(*) FROM attendance WHERE registration_id = ${mayaId} AND minute = ${minute}`) === '1', { timeoutMs: 40_000, everyMs: 1000 });
  await maya.page.locator('#player-pill').filter({ hasText: 'LIVE' }).waitFor({ timeout: 25_000 });
  await screenshot(maya.page, 'live-room');
  const exit = await publisher.exited;
  assert.ok(exit.code === 0 || exit.code === 255, `ffmpeg: ${JSON.stringify(exit)}\n${publisher.stderr}`);
  const recording = await until('the recording is closed with its segments', async () => {
    const list = (await api(server, 'GET', `/api/webinars/${webinar.id}/recordings`, admin)).body.recordings ?? [];
    return list.find((r) => r.ended_at && r.segments > 1 && r.session === 1);
  }, { timeoutMs: 30_000, everyMs: 500 });
  await until('the session has ended', () => Date.now() / 1000 > sessionStart + 600 + 1, { timeoutMs: 70_000, everyMs: 500 });

  // ---- Maya: My CE, from the room ----
  await maya.page.reload();
  await maya.page.getByTestId('ce-link').click();
  await maya.page.locator('#ce').waitFor();
  const mayaCard = maya.page.getByTestId('ce-session').nth(0);
  const mayaMissing = await mayaCard.getByTestId('missing').locator('li').allTextContents();
  assert.ok(mayaMissing.some((t) => /post-test/.test(t)), mayaMissing.join(' | '));
  assert.ok(!mayaMissing.some((t) => /minutes/.test(t)), `attendance is met: ${mayaMissing.join(' | ')}`);
  await screenshot(maya.page, 'maya-my-ce');

  // The post-test: failed once, then passed; then the evaluation.
  await mayaCard.getByTestId('test-link').click();
  await maya.page.getByTestId('test-start').click();
  await answerTest(maya.page, false);
  await maya.page.locator('[data-testid="test-score"]', { hasText: 'not passed' }).waitFor();
  await screenshot(maya.page, 'maya-failed');
  await maya.page.getByTestId('test-start').click();
  await answerTest(maya.page, true);
  await maya.page.locator('[data-testid="test-score"]', { hasText: '100% — passed' }).waitFor();
  await evaluate(maya.page);
  await screenshot(maya.page, 'maya-passed-evaluated');

  // Back to My CE: the attestation completes it; the certificate.
  await maya.page.getByTestId('my-ce-link').click();
  await maya.page.locator('#ce').waitFor();
  const mayaCert = await attestAndDownload(maya.page, 'maya');
  await screenshot(maya.page, 'maya-complete');
  assert.match(mayaCert.doneText, /live credit/);
  for (const fact of [MAYA.name, MAYA.license, TITLE.slice(0, 40), SESSION_TITLE, APPROVAL, 'Pediatric Therapy Collective', 'AOTA Approved Provider', 'Live']) {
    assert.ok(mayaCert.text.replace(/\s+/g, ' ').includes(fact), `the PDF says "${fact}":\n${mayaCert.text}`);
  }
  assert.match(mayaCert.text, /0\.17|1\/6|10 min|0\.1[67]/, 'ten minutes of contact time');
  const code = /\/verify\/([A-Z0-9-]+)/.exec(mayaCert.verify)[1];
  assert.ok(mayaCert.text.includes(code), 'the code is printed');
  assert.ok(mayaCert.text.includes(`/verify/${code}`), 'with its URL');
  const mail = sql(`SELECT count(*) FROM outbox WHERE registration_id = ${mayaId} AND kind = 'certificate'`);
  assert.equal(mail, '1', 'one "certificate ready" mail');

  // The verification page, as a stranger sees it.
  const stranger = await newPage('stranger');
  await stranger.page.goto(`${server.url}/verify/${code}`);
  await stranger.page.getByTestId('verify-result').waitFor();
  assert.equal(await stranger.page.getByTestId('verdict').textContent(), 'Valid certificate');
  assert.equal(await stranger.page.getByTestId('name').textContent(), MAYA.name);
  assert.equal(await stranger.page.getByTestId('kind').textContent(), 'Live');
  assert.doesNotMatch(await stranger.page.locator('main').textContent(), new RegExp(`${MAYA.license}|${MAYA.email}`));
  await screenshot(stranger.page, 'verify');

  // ---- Noor: half the session; told what is missing; the replay earns recorded credit ----
  const noor = await newPage('noor');
  await noor.page.goto(`${server.url}/ce/${webinar.id}#token=${encodeURIComponent(noorReg.body.token)}`);
  await noor.page.locator('#ce').waitFor();
  const noorMissing = (await noor.page.getByTestId('ce-session').nth(0).getByTestId('missing').locator('li').allTextContents()).join(' | ');
  assert.match(noorMissing, /attended 5 of 10 minutes — the replay can still earn recorded credit/);
  await screenshot(noor.page, 'noor-missing');

  await noor.page.goto(`${server.url}/live/${webinar.id}#token=${encodeURIComponent(noorReg.body.token)}`);
  await noor.page.locator('#video-slot[data-state="replay"] video').waitFor({ timeout: 25_000 });
  await pressPlay(noor.page.locator('#video-slot video'));
  const seen = await until('the server counted the replay segments Noor fetched', () => {
    const n = Number(sql(`SELECT count(*) FROM replay_views WHERE registration_id = ${noorReg.body.id} AND recording_id = ${recording.id}`));
    return n >= Math.ceil(recording.segments * 0.85) ? n : 0;
  }, { timeoutMs: 60_000, everyMs: 1000 });
  console.log(`ce journey: Noor fetched ${seen} of ${recording.segments} replay segments`);
  await screenshot(noor.page, 'noor-replay');

  await noor.page.goto(`${server.url}/ce/${webinar.id}/test#token=${encodeURIComponent(noorReg.body.token)}&session=1`);
  await noor.page.getByTestId('test-start').click();
  await answerTest(noor.page, true);
  await noor.page.locator('[data-testid="test-score"]', { hasText: '100% — passed' }).waitFor();
  await evaluate(noor.page);
  await noor.page.getByTestId('my-ce-link').click();
  await noor.page.locator('#ce').waitFor();
  const noorCert = await attestAndDownload(noor.page, 'noor');
  await screenshot(noor.page, 'noor-complete');
  assert.match(noorCert.doneText, /recorded credit/);
  assert.match(noorCert.text, /Recorded/);
  assert.ok(noorCert.text.includes(NOOR.license));

  // ---- The organizer exports the CE report from the console ----
  const org = await newPage('organizer');
  await signInOrganizer(org.context, server);
  await org.page.goto(`${server.url}/console#series=${webinar.id}&tab=ce`);
  const rows = org.page.getByTestId('ce-report-row');
  await until('both therapists in the report', async () => (await rows.count()) >= 2, { timeoutMs: 15_000 });
  await screenshot(org.page, 'console-report');
  const [csvDownload] = await Promise.all([org.page.waitForEvent('download'), org.page.getByTestId('ce-csv').click()]);
  const csvFile = path.join(artifacts, 'ce-journey-report.csv');
  await csvDownload.saveAs(csvFile);
  const csv = readFileSync(csvFile, 'utf8');
  assert.ok(csv.includes(MAYA.license) && csv.includes(NOOR.license), csv);
  assert.ok(csv.includes(code), 'Maya\'s certificate code in the report');
  assert.match(csv, /recorded/);

  for (const p of [maya, noor, stranger, org]) assert.deepEqual(p.page.errors, []);
});
