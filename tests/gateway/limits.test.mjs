// The HTTP front's abuse limits against a real build/cohort (issue 12, items 1 and 4): requests refused at
// header time before a body byte is read (and before 100 Continue), spool files removed on every way out,
// crawling uploads dropped, concurrent uploads and per-address connections capped, forwarding headers believed
// only from trusted proxies, security headers, and an accept loop that backs off when descriptors run out.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, readFileSync, readdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { startServer, api, cohortBin } from '../support/server.mjs';
import { assertError, RawConn, sleep } from '../support/http.mjs';
import { wsUrl } from '../support/ws.mjs';
import WebSocket from 'ws';

const SESSIONS = [{ starts_at: '2036-05-01T17:00:00Z', duration_minutes: 60 }];
const MB200 = 209715200;
const MIN_RATE = 4096;
const PASSWORD = 'therapy-webinars-2026';

let plain, limited, configDir;
const plainFixture = {}, limitedFixture = {};

async function fixture(s, into) {
  const w = await api(s, 'POST', '/api/webinars', {
    token: s.adminToken, body: { title: 'Limits', description: '', capacity: null, sessions: SESSIONS },
  });
  assert.equal(w.status, 201, JSON.stringify(w.body));
  const d = await api(s, 'POST', `/api/webinars/${w.body.id}/drops`, { token: s.adminToken, body: { title: 'Slides' } });
  assert.equal(d.status, 201, JSON.stringify(d.body));
  const r = await api(s, 'POST', `/api/webinars/${w.body.id}/registrations`, { body: { name: 'Limit Tester', email: 'limits@example.com', consent: true } });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  Object.assign(into, { webinar: w.body.id, drop: d.body.id, registrant: r.body.token });
}

const uploadPath = (f) => `/api/webinars/${f.webinar}/drops/${f.drop}/file?filename=notes.bin`;
const uploadsOf = (s) => {
  const dir = path.join(s.dataDir, 'uploads');
  return existsSync(dir) ? readdirSync(dir) : [];
};

// A raw connection from a chosen loopback address (the server sees it as that client).
async function connectFrom(url, localAddress) {
  const { hostname, port } = new URL(url);
  const sock = net.connect({ port: Number(port), host: hostname, localAddress });
  await new Promise((resolve, reject) => { sock.once('connect', resolve); sock.once('error', reject); });
  return new RawConn(sock, `${hostname}:${port}`);
}

// The response head (status line + headers) as text, once it has arrived.
async function readHead(conn, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const end = conn.buf.indexOf('\r\n\r\n');
    if (end >= 0) return conn.buf.subarray(0, end).toString('latin1');
    if (conn.closed) throw new Error(`closed before a response head: ${JSON.stringify(conn.buf.toString('latin1'))}`);
    if (Date.now() > deadline) throw new Error(`no response head within ${timeoutMs} ms`);
    await sleep(20);
  }
}

function uploadHead(conn, pathname, { token, length, extra = {} }) {
  const lines = [`PUT ${pathname} HTTP/1.1`, `Host: ${conn.host}`, 'Content-Type: application/octet-stream', `Content-Length: ${length}`];
  if (token) lines.push(`Authorization: Bearer ${token}`);
  for (const [k, v] of Object.entries(extra)) lines.push(`${k}: ${v}`);
  conn.write(lines.join('\r\n') + '\r\n\r\n');
}

async function waitFor(what, check, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) assert.fail(`${what} within ${timeoutMs} ms`);
    await sleep(25);
  }
}

before(async () => {
  configDir = mkdtempSync(path.join(tmpdir(), 'cohort-limits-'));
  const config = path.join(configDir, 'limits.toml');
  writeFileSync(config, [
    '[server]',
    'public_url = "https://webinars.example.org"',
    'trusted_proxies = ["127.0.0.1/32"]',
    '[limits]',
    'connections_per_ip = 6',
    'uploads_max = 2',
    `upload_min_bytes_per_second = ${MIN_RATE}`,
    'upload_rate_window_seconds = 1',
    '',
  ].join('\n'));
  [plain, limited] = await Promise.all([startServer(), startServer({ args: ['--config', config] })]);
  await fixture(plain, plainFixture);
  await fixture(limited, limitedFixture);
});

after(async () => {
  for (const s of [plain, limited]) {
    if (!s) continue;
    await s.stop();
    s.cleanup();
  }
  rmSync(configDir, { recursive: true, force: true });
});

test('an unauthenticated PUT of 200 MB gets 401 before any body byte, and nothing is spooled', async () => {
  const conn = await RawConn.open(plain.url);
  try {
    uploadHead(conn, uploadPath(plainFixture), { length: MB200 });
    assertError(await conn.readResponse(), 401, 'unauthorized');
    assert.deepEqual(uploadsOf(plain), [], 'data/uploads is empty');
  } finally { conn.destroy(); }
});

test('Expect: 100-continue gets the refusal (401/403/404/413) instead of 100 Continue', async () => {
  const f = plainFixture;
  const cases = [
    { what: 'no token', path: uploadPath(f), token: null, length: MB200, status: 401, code: 'unauthorized' },
    { what: 'a registrant token', path: uploadPath(f), token: f.registrant, length: MB200, status: 403, code: 'forbidden' },
    { what: 'no such route', path: '/api/nothing/here', token: plain.adminToken, length: MB200, status: 404, code: 'not_found' },
    { what: 'over drops.file_max_bytes', path: uploadPath(f), token: plain.adminToken, length: MB200 + 1, status: 413, code: 'payload_too_large' },
    { what: 'a JSON route over body_max_bytes', path: `/api/webinars/${f.webinar}/registrations`, token: null, length: 10 << 20, status: 413, code: 'payload_too_large', method: 'POST', type: 'application/json' },
  ];
  for (const c of cases) {
    const conn = await RawConn.open(plain.url);
    try {
      const lines = [`${c.method ?? 'PUT'} ${c.path} HTTP/1.1`, `Host: ${conn.host}`, `Content-Type: ${c.type ?? 'application/octet-stream'}`,
        `Content-Length: ${c.length}`, 'Expect: 100-continue'];
      if (c.token) lines.push(`Authorization: Bearer ${c.token}`);
      conn.write(lines.join('\r\n') + '\r\n\r\n');
      const head = await readHead(conn);
      assert.match(head, new RegExp(`^HTTP/1\\.1 ${c.status} `), `${c.what}: ${head.split('\r\n')[0]}`);
      assertError(await conn.readResponse(), c.status, c.code, undefined, c.what);
      assert.ok(await conn.waitClosed(5000), `${c.what}: the server closes, since the body was not read`);
    } finally { conn.destroy(); }
  }
  assert.deepEqual(uploadsOf(plain), [], 'data/uploads is empty');
  // An accepted upload does get 100 Continue, then stores the file.
  const conn = await RawConn.open(plain.url);
  try {
    const bytes = randomBytes(1000);
    uploadHead(conn, uploadPath(f), { token: plain.adminToken, length: bytes.length, extra: { Expect: '100-continue' } });
    assert.match(await readHead(conn), /^HTTP\/1\.1 100 /);
    conn.buf = conn.buf.subarray(conn.buf.indexOf('\r\n\r\n') + 4);
    conn.write(bytes);
    const res = await conn.readResponse();
    assert.equal(res.status, 200, res.text);
  } finally { conn.destroy(); }
});

test('an authenticated upload reset half-way leaves nothing in data/uploads within a second', async () => {
  const conn = await RawConn.open(plain.url);
  uploadHead(conn, uploadPath(plainFixture), { token: plain.adminToken, length: 10 << 20 });
  conn.write(randomBytes(1 << 20));
  await waitFor('the upload is spooled', () => uploadsOf(plain).length > 0, 5000);
  conn.sock.resetAndDestroy();
  const resetAt = Date.now();
  await waitFor('data/uploads is empty after the reset', () => uploadsOf(plain).length === 0, 1000);
  assert.ok(Date.now() - resetAt <= 1000);
  assert.equal((await api(plain, 'GET', '/healthz')).status, 200);
});

test('an upload crawling below limits.upload_min_bytes_per_second is dropped and its spool file removed', async () => {
  const conn = await RawConn.open(limited.url);
  let timer;
  try {
    uploadHead(conn, uploadPath(limitedFixture), { token: limited.adminToken, length: 1 << 20 });
    const tick = () => { conn.write('x'); timer = setTimeout(tick, 1000); };
    tick();
    await waitFor('the upload is spooled', () => uploadsOf(limited).length > 0, 5000);
    // The window is 1 s: well before the 10 s read timeout a byte a second would otherwise reset.
    const res = await conn.readResponse(8000);
    assertError(res, 408, 'too_slow');
    assert.ok(await conn.waitClosed(5000), 'the connection is closed');
    await waitFor('data/uploads is empty', () => uploadsOf(limited).length === 0, 2000);
    const metrics = await api(limited, 'GET', '/metrics');
    assert.match(metrics.body, /^cohort_http_uploads_too_slow_total [1-9]/m);
  } finally { clearTimeout(timer); conn.destroy(); }
});

test('uploads beyond limits.uploads_max get 503 with Retry-After at header time; a slot frees when one ends', async () => {
  const held = [];
  let feeder;
  try {
    for (let i = 0; i < 2; i++) {
      const c = await RawConn.open(limited.url);
      uploadHead(c, uploadPath(limitedFixture), { token: limited.adminToken, length: 100 << 20 });
      held.push(c);
    }
    // Keep both well above the minimum rate while the third one asks.
    const feed = () => { for (const c of held) c.write(randomBytes(64 << 10)); };
    feed();
    feeder = setInterval(feed, 200);
    await waitFor('both uploads are spooled', () => uploadsOf(limited).length === 2, 5000);
    const third = await RawConn.open(limited.url);
    try {
      uploadHead(third, uploadPath(limitedFixture), { token: limited.adminToken, length: 1000, extra: { Expect: '100-continue' } });
      const res = await third.readResponse();
      assertError(res, 503, 'busy');
      assert.match(res.headers.get('retry-after') ?? '', /^\d+$/);
    } finally { third.destroy(); }
    assert.equal(uploadsOf(limited).length, 2, 'the refused upload spooled nothing');
    clearInterval(feeder);
    for (const c of held) c.sock.resetAndDestroy();
    await waitFor('a freed slot takes a new upload', async () => {
      const bytes = randomBytes(2000);
      const res = await api(limited, 'PUT', uploadPath(limitedFixture), { token: limited.adminToken, raw: bytes, headers: { 'content-type': 'application/octet-stream' } });
      return res.status === 200;
    }, 5000);
    const metrics = await api(limited, 'GET', '/metrics');
    assert.match(metrics.body, /^cohort_http_uploads_refused_total [1-9]/m);
  } finally {
    clearInterval(feeder);
    for (const c of held) c.destroy();
  }
});

test('limits.connections_per_ip: one address past the cap is closed at accept, another is still served', async () => {
  const cap = 6;
  const conns = [];
  try {
    for (let i = 0; i < cap; i++) {
      const c = await connectFrom(limited.url, '127.0.0.2');
      conns.push(c);
      c.send('GET', '/healthz');  // answered: the server has accepted and counted it
      assert.equal((await c.readResponse()).status, 200);
    }
    const over = await connectFrom(limited.url, '127.0.0.2');
    try {
      over.send('GET', '/healthz');
      assert.ok(await over.waitClosed(5000), 'the connection over the cap is closed');
      assert.ok(!over.buf.toString('latin1').startsWith('HTTP/1.1 200'), 'and not served');
    } finally { over.destroy(); }
    const other = await connectFrom(limited.url, '127.0.0.3');
    try {
      other.send('GET', '/healthz');
      assert.equal((await other.readResponse()).status, 200, 'another address is served');
    } finally { other.destroy(); }
    const metrics = await api(limited, 'GET', '/metrics');
    assert.match(metrics.body, /^cohort_http_connections_refused_total [1-9]/m);
    // The cap counts open connections: closing one makes room.
    conns.pop().destroy();
    await waitFor('127.0.0.2 is served again', async () => {
      const c = await connectFrom(limited.url, '127.0.0.2');
      try {
        c.send('GET', '/healthz');
        return (await c.readResponse(2000).catch(() => null))?.status === 200;
      } finally { c.destroy(); }
    }, 5000);
  } finally { for (const c of conns) c.destroy(); }
});

test('WebSockets count against limits.connections_per_ip for as long as they are open', async () => {
  const sockets = [], conns = [];
  try {
    // Three registrants (three forwarded addresses, so no signup limit is in the way), a socket each.
    for (let i = 0; i < 3; i++) {
      const r = await api(limited, 'POST', `/api/webinars/${limitedFixture.webinar}/registrations`, {
        body: { name: `Socket ${i}`, email: `socket${i}@example.com`, consent: true }, headers: { 'X-Forwarded-For': `198.51.100.${20 + i}` },
      });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      const ws = new WebSocket(wsUrl(limited, { token: r.body.token }), { origin: 'https://webinars.example.org', localAddress: '127.0.0.5' });
      ws.on('error', () => {});
      await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('unexpected-response', (_, res) => reject(new Error(`upgrade refused: ${res.statusCode}`))); });
      sockets.push(ws);
    }
    for (let i = 0; i < 3; i++) {
      const c = await connectFrom(limited.url, '127.0.0.5');
      conns.push(c);
      c.send('GET', '/healthz');
      assert.equal((await c.readResponse()).status, 200);
    }
    const over = await connectFrom(limited.url, '127.0.0.5');
    try {
      over.send('GET', '/healthz');
      assert.ok(await over.waitClosed(5000), 'three sockets and three connections fill the cap of 6');
    } finally { over.destroy(); }
    for (const ws of sockets) ws.terminate();
    await waitFor('the closed sockets free their places', async () => {
      const c = await connectFrom(limited.url, '127.0.0.5');
      try {
        c.send('GET', '/healthz');
        return (await c.readResponse(2000).catch(() => null))?.status === 200;
      } finally { c.destroy(); }
    }, 5000);
  } finally {
    for (const ws of sockets) ws.terminate();
    for (const c of conns) c.destroy();
  }
});

// The login limiter counts failures per client address (auth.login_attempts_per_minute = 5).
async function failedLogin(s, from, forwardedFor, n) {
  const conn = await connectFrom(s.url, from);
  try {
    const headers = forwardedFor ? { 'X-Forwarded-For': forwardedFor } : {};
    conn.send('POST', '/api/session', { body: { email: `nobody${n}-${randomBytes(4).toString('hex')}@example.org`, password: 'wrong-password' }, headers });
    return await conn.readResponse(20000);
  } finally { conn.destroy(); }
}

test('X-Forwarded-For is believed from a trusted proxy (per-IP limits see the client), ignored from anyone else', { timeout: 120_000 }, async () => {
  // From the trusted proxy 127.0.0.1: 203.0.113.9 uses up its attempts, 203.0.113.10 is someone else.
  for (let i = 0; i < 5; i++) assertError(await failedLogin(limited, '127.0.0.1', '198.51.100.7, 203.0.113.9', i), 401, 'invalid_credentials');
  assertError(await failedLogin(limited, '127.0.0.1', '203.0.113.9', 5), 429, undefined, undefined, 'the forwarded client is limited');
  assertError(await failedLogin(limited, '127.0.0.1', '203.0.113.10', 6), 401, 'invalid_credentials', undefined, 'another forwarded client is not');
  // From an untrusted peer the header is the client's own claim: the limit keys on the peer.
  for (let i = 0; i < 5; i++) assertError(await failedLogin(limited, '127.0.0.4', `192.0.2.${i + 1}`, 10 + i), 401, 'invalid_credentials');
  assertError(await failedLogin(limited, '127.0.0.4', '192.0.2.99', 20), 429, undefined, undefined, 'a spoofed header does not escape the limit');
});

test('every response carries nosniff and Referrer-Policy; an https public_url adds HSTS and a Secure session cookie', async () => {
  for (const p of ['/healthz', '/api/nothing']) {
    const res = await api(limited, 'GET', p);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff', p);
    assert.equal(res.headers.get('referrer-policy'), 'strict-origin-when-cross-origin', p);
    assert.equal(res.headers.get('strict-transport-security'), 'max-age=31536000', p);
  }
  const http = await api(plain, 'GET', '/healthz');
  assert.equal(http.headers.get('referrer-policy'), 'strict-origin-when-cross-origin');
  assert.equal(http.headers.get('strict-transport-security'), null, 'no HSTS with an http public URL');

  const added = spawnSync(cohortBin, ['organizer', 'add', '--email', 'hsts@example.org', '--data-dir', limited.dataDir],
    { input: `${PASSWORD}\n`, encoding: 'utf8', timeout: 20000 });
  assert.equal(added.status, 0, added.stderr);
  const login = await api(limited, 'POST', '/api/session', { body: { email: 'hsts@example.org', password: PASSWORD } });
  assert.equal(login.status, 200, JSON.stringify(login.body));
  const cookie = login.headers.get('set-cookie') ?? '';
  assert.match(cookie, /; Secure/, cookie);
  assert.match(cookie, /HttpOnly/, cookie);
});

// Starts cohort under `ulimit` settings through sh; resolves once it listens.
function startLimited(ulimit, dataDir) {
  const adminToken = randomBytes(24).toString('hex');
  const proc = spawn('sh', ['-c', `${ulimit} && exec "$0" "$@"`, cohortBin, '--listen', '127.0.0.1:0', '--data-dir', dataDir,
    '--admin-token', adminToken, '--rtmp', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const out = { proc, stdout: '', stderr: '', dataDir, adminToken };
  proc.stderr.on('data', (d) => { out.stderr += d; });
  out.exited = new Promise((resolve) => proc.on('exit', resolve));
  out.ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start: ${out.stdout} ${out.stderr}`)), 15000);
    proc.stdout.on('data', (d) => {
      out.stdout += d;
      const m = /listening on (http:\/\/[^\s]+)/.exec(out.stdout);
      if (m) { clearTimeout(timer); out.url = m[1]; resolve(out); }
    });
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`exited ${code}: ${out.stderr}`)); });
  });
  return out;
}

function cpuSeconds(pid) {
  // utime and stime are fields 14 and 15, after the parenthesised command name.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

// Not on the sanitizer build (run_all.sh sets ASAN_OPTIONS for it): the sanitizer runtime needs
// a descriptor itself (its memory probe opens a pipe), so out of descriptors UBSan's vptr check
// on Boost's error_category fails and aborts the process — an artifact of the sanitizer, not of
// Cohort. The normal build runs this test.
const sanitizerBuild = Boolean(process.env.ASAN_OPTIONS);

test('out of descriptors, accept backs off: little CPU, few log lines, and it serves again afterwards',
  { timeout: 60_000, skip: sanitizerBuild && 'the sanitizer runtime cannot run out of descriptors' }, async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'cohort-emfile-'));
  const s = startLimited('ulimit -n 64', dataDir);
  const socks = [];
  try {
    await s.ready;
    assert.match(s.stdout, /open files limit is 64\b/);
    const { port } = new URL(s.url);
    for (let i = 0; i < 80; i++) {
      const sock = net.connect(Number(port), '127.0.0.1');
      sock.on('error', () => {});
      socks.push(sock);
    }
    await waitFor('accept runs out of descriptors', () => /accept.*(Too many open files|descriptors)/i.test(s.stderr), 10000);
    const logBefore = s.stderr.split('\n').filter((l) => l.includes('accept')).length;
    const cpuBefore = cpuSeconds(s.proc.pid);
    await sleep(2000);
    const cpu = cpuSeconds(s.proc.pid) - cpuBefore;
    const logLines = s.stderr.split('\n').filter((l) => l.includes('accept')).length - logBefore;
    assert.ok(cpu < 0.5, `used ${cpu} s of CPU in 2 s while out of descriptors`);
    assert.ok(logLines <= 4, `${logLines} accept log lines in 2 s`);
    for (const sock of socks) sock.destroy();
    socks.length = 0;
    await waitFor('it serves again', async () => {
      try {
        return (await fetch(`${s.url}/healthz`, { signal: AbortSignal.timeout(2000) })).status === 200;
      } catch { return false; }
    }, 15000);
  } finally {
    for (const sock of socks) sock.destroy();
    s.proc.kill('SIGTERM');
    await s.exited;
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('start-up raises the soft RLIMIT_NOFILE to the hard limit and logs it', { timeout: 30_000 }, async (t) => {
  const hard = spawnSync('sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).stdout.trim();
  if (hard !== 'unlimited' && Number(hard) <= 256) return t.skip(`the hard limit here is ${hard}`);
  const dataDir = mkdtempSync(path.join(tmpdir(), 'cohort-nofile-'));
  const s = startLimited('ulimit -Sn 256', dataDir);
  try {
    await s.ready;
    const m = /open files limit raised from 256 to (\d+) \(the hard limit\)/.exec(s.stdout);
    assert.ok(m, s.stdout);
    if (hard !== 'unlimited') assert.equal(m[1], hard);
    const limits = readFileSync(`/proc/${s.proc.pid}/limits`, 'utf8');
    assert.match(limits, new RegExp(`Max open files\\s+${m[1]}\\s`));
  } finally {
    s.proc.kill('SIGTERM');
    await s.exited;
    rmSync(dataDir, { recursive: true, force: true });
  }
});
