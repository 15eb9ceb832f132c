// No secret leaves Cohort through its log, /metrics, or an ffmpeg child (issue 12, items 6 and 10), against a real
// build/cohort and a real ffmpeg publisher: the stream key, the admin token (given in COHORT_ADMIN_TOKEN), a
// registrant token, the SMTP password (COHORT_SMTP_PASSWORD), an organizer's password and session cookie, and an
// ingest URL secret. Each ffmpeg child has a minimal environment and none of the server's descriptors; its
// ingest server lets in only connections from the ffmpeg it started, before reading any body.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { startServer, api, cohortBin } from '../support/server.mjs';
import { sleep } from '../support/http.mjs';

const rfc3339 = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const cleanups = [];
after(async () => { for (const c of cleanups.reverse()) await c(); });

// A request from a chosen origin (fetch may not set Origin), for the console login.
function request(server, method, path, { body, origin, cookie } = {}) {
  const url = new URL(server.url + path);
  const payload = body === undefined ? '' : JSON.stringify(body);
  const headers = { 'content-length': Buffer.byteLength(payload) };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (origin) headers.origin = origin;
  if (cookie) headers.cookie = cookie;
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, path, method, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

function publish(port, key, seconds) {
  const proc = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=30',
    '-f', 'lavfi', '-i', 'sine', '-t', String(seconds), '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-preset', 'veryfast',
    '-tune', 'zerolatency', '-g', '30', '-c:a', 'aac', '-f', 'flv', `rtmp://127.0.0.1:${port}/live/${key}`], { stdio: 'ignore' });
  cleanups.push(() => { if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL'); });
  return proc;
}

const children = (pid) => readdirSync('/proc').filter((d) => /^\d+$/.test(d)).filter((d) => {
  try {
    const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
  } catch { return false; }
}).map(Number);

// fd number -> link target ("socket:[123]", "/path/cohort.db", "pipe:[7]").
function fds(pid) {
  const out = {};
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try { out[fd] = readlinkSync(`/proc/${pid}/fd/${fd}`); } catch { /* closed meanwhile */ }
  }
  return out;
}

test('a publish, a login and a viewer leave no secret in the log, /metrics, or an ffmpeg child (cmdline, environ, fds)', async () => {
  const adminToken = randomBytes(24).toString('hex');
  const smtpPassword = `smtp-${randomBytes(12).toString('hex')}`;
  const s = await startServer({ adminToken, env: { COHORT_ADMIN_TOKEN: adminToken, COHORT_SMTP_PASSWORD: smtpPassword } });
  cleanups.push(async () => { await s.kill(); s.cleanup(); });

  const organizerPassword = `organizer-${randomBytes(8).toString('hex')}`;
  const added = spawnSync(cohortBin, ['organizer', 'add', '--email', 'ana@example.org', '--data-dir', s.dataDir],
    { input: `${organizerPassword}\n`, encoding: 'utf8', timeout: 20000 });
  assert.equal(added.status, 0, added.stderr);
  const login = await request(s, 'POST', '/api/session', { body: { email: 'ana@example.org', password: organizerPassword }, origin: s.url });
  assert.equal(login.status, 200, login.text);
  const cookie = String(login.headers['set-cookie']).split(';')[0];
  const sessionValue = cookie.slice(cookie.indexOf('=') + 1);
  assert.ok(sessionValue.length >= 16, cookie);

  const w = await api(s, 'POST', '/api/webinars', {
    token: adminToken,
    body: { title: 'Secrets', description: '', capacity: null, sessions: [{ starts_at: rfc3339(Date.now() - 5 * 60_000), duration_minutes: 60 }] },
  });
  assert.equal(w.status, 201, JSON.stringify(w.body));
  const reg = await api(s, 'POST', `/api/webinars/${w.body.id}/registrations`,
    { body: { name: 'Grace Hopper', email: `secrets-${Date.now()}@example.com`, consent: true } });
  assert.equal(reg.status, 201, JSON.stringify(reg.body));
  const registrantToken = reg.body.token;
  const keyRes = await request(s, 'POST', `/api/webinars/${w.body.id}/stream-key`, { cookie, origin: s.url });
  assert.equal(keyRes.status, 201, keyRes.text);
  const streamKey = JSON.parse(keyRes.text).stream_key;

  const rtmp = Number(/rtmp ingest on rtmp:\/\/127\.0\.0\.1:(\d+)\/live/.exec(s.stdout)[1]);
  const publisher = publish(rtmp, streamKey, 20);
  const playlist = `${s.url}/live/${w.body.id}/index.m3u8?token=${encodeURIComponent(registrantToken)}`;
  const deadline = Date.now() + 15_000;
  let live;
  for (;;) {
    live = await fetch(playlist);
    if (live.status === 200) break;
    assert.ok(Date.now() < deadline, `no live playlist within 15 s; server stderr:\n${s.stderr.slice(-2000)}`);
    await sleep(200);
  }
  await live.text();

  // While it runs: every child of the server.
  const kids = children(s.proc.pid);
  assert.ok(kids.length >= 1, 'the server runs an ffmpeg child while live');
  const secrets = { streamKey, adminToken, registrantToken, smtpPassword, organizerPassword, sessionValue };
  const serverFds = fds(s.proc.pid);
  const serverSockets = new Set(Object.values(serverFds).filter((t) => t.startsWith('socket:')));
  let ingestPort = 0, ingestId = '';
  for (const pid of kids) {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
    const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean);
    for (const [name, value] of Object.entries(secrets)) {
      assert.ok(!cmdline.includes(value), `the ${name} is in child ${pid}'s command line: ${cmdline}`);
      assert.ok(!environ.join('\n').includes(value), `the ${name} is in child ${pid}'s environment`);
    }
    assert.doesNotMatch(cmdline, /\/ingest\/[0-9a-f]+\/[0-9a-f]{16,}\//, `an ingest secret is in child ${pid}'s command line: ${cmdline}`);
    const names = environ.map((e) => e.slice(0, e.indexOf('='))).sort();
    assert.deepEqual(names.filter((n) => !['HOME', 'LANG', 'LC_ALL', 'PATH'].includes(n)), [],
      `child ${pid} gets a minimal environment, not the server's: ${names.join(' ')}`);
    const theirs = fds(pid);
    for (const [fd, target] of Object.entries(theirs)) {
      assert.ok(!target.startsWith(s.dataDir), `child ${pid} holds fd ${fd} -> ${target} of the data dir`);
      assert.ok(!serverSockets.has(target), `child ${pid} holds fd ${fd} -> ${target}, a socket of the server`);
    }
    const m = /http:\/\/127\.0\.0\.1:(\d+)\/ingest\/([0-9a-f]+)\//.exec(cmdline);
    if (m) [ingestPort, ingestId] = [Number(m[1]), m[2]];
  }
  assert.ok(ingestPort, 'an ffmpeg child writes to the loopback ingest server');

  // Anyone else on this machine who connects to the ingest server is let go before a byte is read: the request
  // below announces a body it never sends, and is not answered (nor waited on for its body).
  const foreign = await new Promise((resolve) => {
    const c = net.connect(ingestPort, '127.0.0.1');
    let got = '';
    const t0 = Date.now();
    const timer = setTimeout(() => { c.destroy(); resolve({ got, closed: false, ms: Date.now() - t0 }); }, 8000);
    c.on('connect', () => c.write(`PUT /ingest/${ingestId}/seg_99999.m4s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000000\r\n\r\n`));
    c.on('data', (d) => { got += d; });
    c.on('error', () => {});  // a reset is a close too
    c.on('close', () => { clearTimeout(timer); resolve({ got, closed: true, ms: Date.now() - t0 }); });
  });
  assert.deepEqual({ got: foreign.got, closed: foreign.closed }, { got: '', closed: true },
    'a connection to the ingest server from outside its ffmpeg is closed unanswered');

  const metrics = await (await fetch(`${s.url}/metrics`)).text();
  assert.match(metrics, /^cohort_ingest_refused_total [1-9]/m, 'the refused ingest connection is counted');
  publisher.kill('SIGKILL');
  await sleep(500);
  const status = await s.stop();
  assert.deepEqual(status, { code: 0, signal: null });
  const log = s.stdout + s.stderr;
  assert.match(log, /ffmpeg/, 'ffmpeg ran and the server logged about it');
  for (const [name, value] of Object.entries(secrets)) {
    assert.ok(!log.includes(value), `the ${name} is in the server's log:\n${log.split('\n').filter((l) => l.includes(value)).join('\n')}`);
    assert.ok(!metrics.includes(value), `the ${name} is in /metrics`);
  }
});
