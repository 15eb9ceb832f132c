// The deployment of config/deploy/, tested: Debian's nginx with a self-signed certificate in front of a real
// build/cohort on loopback, configured with the shipped site (config/deploy/nginx/cohort.conf, only its addresses,
// ports and paths replaced by the test's) and its location snippet (included as it is). Through it: a signup
// whose per-IP limit counts the client nginx saw (not nginx's own 127.0.0.1, not a forged X-Forwarded-For), a
// WSS chat, and an HLS playback (live, then the replay) whose segments are fetched from Cohort once and then served
// from nginx's cache, while playlists and forged segment URLs never are.
// Also: the whole shipped site passes `nginx -t`, and the shipped TOML examples are accepted by cohort.
// nginx runs as a child with its own prefix, pid, logs and cache in a temp dir (never the system's service).
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { startServer, repoRoot, cohortBin } from '../support/server.mjs';
import { assertError, sleep } from '../support/http.mjs';
import { ChatClient } from '../support/ws.mjs';

const deployDir = path.join(repoRoot, 'config', 'deploy');
const siteFile = path.join(deployDir, 'nginx', 'cohort.conf');
const locationsFile = path.join(deployDir, 'nginx', 'cohort-locations.conf');
const FUTURE = [{ starts_at: '2036-06-01T18:00:00Z', duration_minutes: 60 }];
const rfc3339 = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

let dir;          // temp dir: certificate, configs, nginx prefix
let cert;         // PEM of the self-signed certificate (trusted as the CA by every client here)
let server;       // cohort
let nginx;        // { proc, port, exited, log() }
let base;         // https://127.0.0.1:<nginx port>
let emails = 0;
const clients = new Set();
const publishers = new Set();

// A port that was free a moment ago (nginx cannot report a port 0 it bound; a lost race is retried in before()).
function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

// Replaces `from` (a string or regex) in text, which must occur exactly once: a change to the shipped file
// that the test no longer matches fails here instead of testing something else.
function replaceOnce(text, from, to, what) {
  const n = typeof from === 'string' ? text.split(from).length - 1 : (text.match(new RegExp(from.source, `${from.flags.replace('g', '')}g`)) ?? []).length;
  assert.equal(n, 1, `${what}: expected exactly one match of ${from} in ${siteFile}`);
  return text.replace(from, to);
}

// The shipped site with the test's certificate, cache folder and snippet path; `listen` replaces its TLS
// listen lines, `upstream` its Cohort address; `redirect: false` drops the port-80 server.
function siteFor({ cache, listen, upstream, redirect }) {
  let site = readFileSync(siteFile, 'utf8');
  site = replaceOnce(site, /ssl_certificate \S+;/, `ssl_certificate ${path.join(dir, 'cert.pem')};`, 'certificate');
  site = replaceOnce(site, /ssl_certificate_key \S+;/, `ssl_certificate_key ${path.join(dir, 'key.pem')};`, 'certificate key');
  site = replaceOnce(site, '/var/cache/nginx/cohort ', `${cache} `, 'proxy_cache_path');
  site = replaceOnce(site, '/etc/nginx/snippets/cohort-locations.conf;', `${locationsFile};`, 'snippet include');
  if (upstream) site = replaceOnce(site, 'server 127.0.0.1:8080;', `server ${upstream};`, 'upstream');
  if (listen) {
    site = replaceOnce(site, /^ *listen \[::\]:443 ssl http2;\n/m, '', 'IPv6 TLS listen');
    site = replaceOnce(site, 'listen 443 ssl http2;', `listen ${listen} ssl http2;`, 'TLS listen');
  }
  if (!redirect) site = replaceOnce(site, /^server \{\n\s*listen 80;[\s\S]*?\n\}\n/m, '', 'port-80 server');
  return site;
}

// nginx.conf around a site: everything nginx writes (pid, logs, temp files) under the prefix p.
function nginxConf(p, sitePath) {
  return [
    process.getuid?.() === 0 ? 'user root;' : '',  // workers must reach the temp dir, which is root's 0700
    'worker_processes 1;',
    `pid ${p}/nginx.pid;`,
    `error_log ${p}/error.log notice;`,
    'events { worker_connections 256; }',
    'http {',
    `  access_log ${p}/access.log;`,
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${p}/${t}_temp;`),
    `  include ${sitePath};`,
    '}',
    '',
  ].join('\n');
}

// Starts nginx on `port` in front of cohort at `upstream`; resolves once it answers /healthz over TLS,
// rejects with { busy: true } when the port was taken meanwhile.
async function startNginx(port, upstream) {
  const p = path.join(dir, 'nginx');
  rmSync(p, { recursive: true, force: true });
  mkdirSync(p, { recursive: true });
  const sitePath = path.join(p, 'site.conf');
  writeFileSync(sitePath, siteFor({ cache: path.join(p, 'cache'), listen: `127.0.0.1:${port}`, upstream, redirect: false }));
  writeFileSync(path.join(p, 'nginx.conf'), nginxConf(p, sitePath));
  const proc = spawn('nginx', ['-p', p, '-e', path.join(p, 'error.log'), '-c', path.join(p, 'nginx.conf'), '-g', 'daemon off;'],
    { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  const log = () => { try { return readFileSync(path.join(p, 'error.log'), 'utf8'); } catch { return ''; } };
  const n = { proc, port, exited, log: () => `${stderr}${log()}` };
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      const err = new Error(`nginx exited (${proc.exitCode ?? proc.signalCode}):\n${n.log()}`);
      err.busy = /Address already in use/.test(n.log());
      throw err;
    }
    try {
      const res = await request('GET', `https://127.0.0.1:${port}/healthz`);
      if (res.status === 200 && res.text === 'ok') return n;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`nginx did not answer /healthz within 10 s:\n${n.log()}`);
    }
    await sleep(100);
  }
}

async function stopNginx(n) {
  if (!n) return;
  if (n.proc.exitCode === null && n.proc.signalCode === null) n.proc.kill('SIGTERM');
  const timer = setTimeout(() => n.proc.kill('SIGKILL'), 5000);
  await n.exited;
  clearTimeout(timer);
}

// One HTTPS request on its own connection, the certificate checked against the test's own CA (cert.pem).
// localAddress picks the client address nginx sees (any of 127.0.0.0/8 on Linux).
// Resolves with { status, headers: {get}, bytes, text, body (parsed JSON when JSON) }.
function request(method, url, { body, headers = {}, token, localAddress } = {}) {
  const h = { ...headers };
  if (token) h.authorization = `Bearer ${token}`;
  let payload;
  if (body !== undefined) {
    payload = Buffer.from(JSON.stringify(body));
    h['content-type'] = 'application/json';
  }
  h['content-length'] = String(payload?.length ?? 0);
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method, headers: h, ca: cert, agent: false, localAddress, timeout: 10_000 }, (res) => {
      const chunks = [];
      res.on('data', (d) => chunks.push(d));
      res.on('error', reject);
      res.on('end', () => {
        const bytes = Buffer.concat(chunks);
        const text = bytes.toString('utf8');
        let parsed = text;
        if ((res.headers['content-type'] ?? '').includes('application/json')) parsed = JSON.parse(text);
        resolve({ status: res.statusCode, headers: { get: (k) => res.headers[k.toLowerCase()] ?? null }, bytes, text, body: parsed });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url}: no answer within 10 s`)));
    req.on('error', reject);
    req.end(payload);
  });
}

const admin = (method, pathname, body) => request(method, base + pathname, { token: server.adminToken, body });

async function newWebinar(sessions = FUTURE) {
  const res = await admin('POST', '/api/webinars', { title: 'Deploy test', description: '', capacity: null, sessions });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

const signup = (webinarId, localAddress, headers) => request('POST', `${base}/api/webinars/${webinarId}/registrations`, {
  localAddress, headers, body: { name: 'Grace Hopper', email: `deploy${++emails}-${Date.now()}@example.com`, consent: true },
});

async function register(webinarId, localAddress) {
  const res = await signup(webinarId, localAddress);
  assert.equal(res.status, 201, `signup from ${localAddress}: ${JSON.stringify(res.body)}`);
  return res.body;
}

// A chat socket through nginx: wss://, the certificate checked, Origin as a browser on the public URL sends it.
// Resolves with a ChatClient, or rejects with err.status when the upgrade is refused.
function openWss(query, { origin = base, label = 'wss' } = {}) {
  const u = new URL('/ws', base);
  u.protocol = 'wss:';
  for (const [k, v] of Object.entries(query)) u.searchParams.set(k, String(v));
  const ws = new WebSocket(u, { ca: cert, origin, perMessageDeflate: false, handshakeTimeout: 5000 });
  const client = new ChatClient(ws, { label });
  return new Promise((resolve, reject) => {
    ws.once('open', () => { clients.add(client); resolve(client); });
    ws.once('unexpected-response', (req, res) => {
      const err = new Error(`${label}: upgrade refused: HTTP ${res.statusCode}`);
      err.status = res.statusCode;
      req.destroy();
      reject(err);
    });
    ws.once('error', (err) => reject(new Error(`${label}: connect failed: ${err.message}`)));
  });
}

// OBS's part: a real ffmpeg publishing H.264/AAC over RTMP straight to Cohort (RTMP does not go through nginx).
function publish(key, seconds) {
  const m = /rtmp ingest on rtmp:\/\/127\.0\.0\.1:(\d+)\/live/.exec(server.stdout);
  assert.ok(m, `no rtmp ingest line on stdout:\n${server.stdout}`);
  const proc = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=30',
    '-f', 'lavfi', '-i', 'sine', '-t', String(seconds), '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-preset', 'veryfast',
    '-tune', 'zerolatency', '-g', '30', '-c:a', 'aac', '-f', 'flv', `rtmp://127.0.0.1:${m[1]}/live/${key}`],
  { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  const p = { proc, exited, stderr: () => stderr, kill() { if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL'); } };
  publishers.add(p);
  proc.on('exit', () => publishers.delete(p));
  return p;
}

// URIs a playlist names (segments and the EXT-X-MAP init), resolved against the playlist URL.
function playlistUris(text, playlistUrl) {
  const uris = [];
  for (const line of text.split('\n').map((l) => l.trim())) {
    if (!line) continue;
    if (line.startsWith('#EXT-X-MAP:')) uris.push(new URL(/URI="([^"]+)"/.exec(line)[1], playlistUrl));
    else if (!line.startsWith('#')) uris.push(new URL(line, playlistUrl));
  }
  return uris;
}

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'cohort-deploy-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
    '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], { stdio: 'pipe' });
  cert = readFileSync(path.join(dir, 'cert.pem'));
  // Cohort's public URL is the proxy's (the Origin check, HSTS, Secure cookies), so nginx's port comes first.
  // Another process may take that port before nginx binds it: then both start again on a new one.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    base = `https://127.0.0.1:${port}`;
    const toml = path.join(dir, 'cohort.toml');
    writeFileSync(toml, [
      '[server]',
      `public_url = "${base}"`,
      'trusted_proxies = ["127.0.0.1/32"]',
      '',
      '[registration]',
      'ip_per_minute = 2',
      '',
    ].join('\n'));
    // startServer turns the signup limit off (--signups-per-ip 0) unless the flag is given, and flags beat the file.
    server = await startServer({ args: ['--config', toml, '--signups-per-ip', '2'] });
    try {
      nginx = await startNginx(port, new URL(server.url).host);
      break;
    } catch (err) {
      await server.stop();
      server.cleanup();
      server = undefined;
      if (!err.busy || attempt === 3) throw err;
    }
  }
});

after(async () => {
  for (const p of publishers) p.kill();
  await stopNginx(nginx);
  if (server) {
    await server.stop();
    server.cleanup();
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

afterEach(async () => {
  const open = [...clients];
  clients.clear();
  const results = await Promise.allSettled(open.map((c) => c.close()));
  assert.deepEqual(results.filter((r) => r.status === 'rejected').map((r) => r.reason.message), [], 'protocol violations seen by clients');
  assert.ok(server?.proc.exitCode === null && server.proc.signalCode === null, `cohort died; stderr tail:\n${server?.stderr.slice(-2000)}`);
  assert.ok(nginx?.proc.exitCode === null && nginx.proc.signalCode === null, `nginx died:\n${nginx?.log().slice(-2000)}`);
});

test('signup through nginx: the per-IP limit counts the client nginx saw, not nginx and not a forged X-Forwarded-For', async () => {
  const w = await newWebinar();
  // ip_per_minute = 2: two signups from 127.0.0.2 pass ...
  await register(w.id, '127.0.0.2');
  await register(w.id, '127.0.0.2');
  // ... and the next ones are refused, although each names another client in every forwarding header (which
  // would be a fresh budget each time if Cohort saw it): nginx replaced them. Up to three tries, in case a
  // fixed-window limiter's minute turns over right after the first two.
  let refused;
  for (let i = 1; i <= 3 && !refused; i++) {
    const forged = `203.0.113.${i}`;
    const res = await signup(w.id, '127.0.0.2', { 'x-forwarded-for': forged, forwarded: `for=${forged}`, 'x-real-ip': forged });
    if (res.status === 429) refused = res;
    else assert.equal(res.status, 201, JSON.stringify(res.body));
  }
  assert.ok(refused, 'a third signup from 127.0.0.2 within a minute is refused (429), whatever X-Forwarded-For it sends');
  assertError(refused, 429, undefined, undefined, 'signup beyond ip_per_minute');
  assert.match(refused.headers.get('retry-after') ?? '', /^[1-9]\d*$/, 'a 429 says when to retry');
  // Another client behind the same nginx still signs up: the limit is per client, not per proxy.
  const other = await signup(w.id, '127.0.0.3');
  assert.equal(other.status, 201, `signup from 127.0.0.3 after 127.0.0.2 was limited: ${JSON.stringify(other.body)}`);
});

test('WSS chat through nginx: the upgrade is proxied with TLS, a message reaches the sender and the organizer', async () => {
  const w = await newWebinar();
  const person = await register(w.id, '127.0.0.4');
  const attendee = await openWss({ token: person.token }, { label: 'attendee' });
  const hello = await attendee.next('hello');
  assert.equal(hello.me.id, person.id);
  assert.equal(hello.room, w.id);
  const organizer = await openWss({ token: server.adminToken, webinar: w.id }, { label: 'organizer' });
  await organizer.next('hello');

  attendee.chat('Hello through nginx', { client_id: 'deploy-1' });
  const isIt = Object.assign((m) => m.type === 'chat.message' && m.text === 'Hello through nginx', { label: 'the chat.message' });
  const own = await attendee.next(isIt);
  const seen = await organizer.next(isIt);
  assert.equal(own.seq, seen.seq);
  assert.deepEqual(seen.from, { id: person.id, name: 'Grace Hopper', role: 'registrant' }, JSON.stringify(seen));

  // The Origin check still works behind the proxy: a page on another site cannot open the socket.
  await assert.rejects(openWss({ token: person.token }, { origin: 'https://evil.example', label: 'foreign origin' }),
    (err) => err.status === 403, 'an upgrade from a foreign Origin is refused');
});

test('HLS through nginx: playlists are never cached; a live and a replay segment come from Cohort once, then from the cache; a forged signature does not', async () => {
  const w = await newWebinar([{ starts_at: rfc3339(Date.now() - 5 * 60_000), duration_minutes: 60 }]);
  const person = await register(w.id, '127.0.0.5');
  const keyRes = await admin('POST', `/api/webinars/${w.id}/stream-key`);
  assert.equal(keyRes.status, 201, JSON.stringify(keyRes.body));
  const pub = publish(keyRes.body.stream_key, 8);

  const playlistUrl = `${base}/live/${w.id}/index.m3u8?token=${encodeURIComponent(person.token)}`;
  const deadline = Date.now() + 20_000;
  let pl;
  for (;;) {
    pl = await request('GET', playlistUrl);
    if (pl.status === 200 && playlistUris(pl.text, playlistUrl).length >= 2) break;
    assert.ok(Date.now() < deadline, `live playlist through nginx not ready within 20 s: ${pl.status} ${pl.text}\n`
      + `ffmpeg: ${pub.stderr()}\ncohort: ${server.stderr.slice(-2000)}`);
    await sleep(250);
  }
  assert.match(pl.headers.get('content-type') ?? '', /^application\/vnd\.apple\.mpegurl\b/i);
  assert.equal(pl.headers.get('cache-control'), 'no-cache');
  assert.equal(pl.headers.get('x-cache-status'), null, 'a playlist does not go through the cache');
  const again = await request('GET', playlistUrl);
  assert.equal(again.status, 200);
  assert.equal(again.headers.get('x-cache-status'), null, 'a playlist is fetched from Cohort every time');

  // The newest segment (a media segment, not the init): fetched twice, the second time from nginx's cache.
  const segment = playlistUris(pl.text, playlistUrl).at(-1);
  assert.ok(segment.searchParams.get('sig'), `a signed segment URL: ${segment}`);
  const first = await request('GET', segment.href);
  assert.equal(first.status, 200, `segment ${segment.pathname}: ${first.text.slice(0, 300)}`);
  assert.ok(first.bytes.length > 0);
  assert.equal(first.headers.get('x-cache-status'), 'MISS', 'the first fetch goes to Cohort');
  const second = await request('GET', segment.href, { localAddress: '127.0.0.6' });
  assert.equal(second.status, 200);
  assert.equal(second.headers.get('x-cache-status'), 'HIT', 'the second fetch (another viewer) is served by nginx');
  assert.ok(second.bytes.equals(first.bytes), 'the cached segment has the same bytes');

  // The same path with a forged signature is another cache key: Cohort refuses it, and its error is not kept.
  const forged = new URL(segment);
  const sig = forged.searchParams.get('sig');
  forged.searchParams.set('sig', (sig[0] === 'a' ? 'b' : 'a') + sig.slice(1));
  for (const attempt of [1, 2]) {
    const res = await request('GET', forged.href);
    assertError(res, 403, undefined, undefined, `forged signature, fetch ${attempt}`);
    assert.notEqual(res.headers.get('x-cache-status'), 'HIT', `forged signature, fetch ${attempt}: never from the cache`);
  }
  const unsigned = new URL(segment.pathname, base);
  assertError(await request('GET', unsigned.href), 401, undefined, undefined, 'the cached path without its query');

  // The recording of that publish, once it ended: its playlist is not cached, its segments are (a Range too).
  const ex = await pub.exited;
  assert.equal(ex.code, 0, `the publisher finished: ${JSON.stringify(ex)} ${pub.stderr()}`);
  let recording;
  for (const until = Date.now() + 10_000; ;) {
    const list = await request('GET', `${base}/api/webinars/${w.id}/recordings?token=${encodeURIComponent(person.token)}`);
    assert.equal(list.status, 200, JSON.stringify(list.body));
    recording = list.body.recordings.find((r) => r.ended_at !== null && r.segments > 0);
    if (recording) break;
    assert.ok(Date.now() < until, `no finished recording within 10 s: ${JSON.stringify(list.body)}`);
    await sleep(200);
  }
  const replayUrl = `${base}${recording.playlist}?token=${encodeURIComponent(person.token)}`;
  const vod = await request('GET', replayUrl);
  assert.equal(vod.status, 200, vod.text);
  assert.equal(vod.headers.get('x-cache-status'), null, 'a replay playlist does not go through the cache');
  const part = playlistUris(vod.text, replayUrl).at(-1);
  const cold = await request('GET', part.href);
  assert.equal(cold.status, 200, `replay segment ${part.pathname}: ${cold.text.slice(0, 300)}`);
  assert.equal(cold.headers.get('x-cache-status'), 'MISS');
  const warm = await request('GET', part.href, { localAddress: '127.0.0.6' });
  assert.equal(warm.headers.get('x-cache-status'), 'HIT', 'the second fetch of a replay segment is served by nginx');
  assert.ok(warm.bytes.equals(cold.bytes));
  const range = await request('GET', part.href, { headers: { range: 'bytes=0-99' } });
  assert.equal(range.status, 206, 'a Range request is answered from the cached copy');
  assert.equal(range.headers.get('x-cache-status'), 'HIT');
  assert.ok(range.bytes.equals(cold.bytes.subarray(0, 100)), 'the Range answer is the first 100 bytes');
});

test('through nginx: the HSTS of an https public_url reaches the client, /metrics is hidden; the whole shipped site passes nginx -t', async () => {
  const health = await request('GET', `${base}/healthz`);
  assert.equal(health.status, 200);
  assert.match(health.headers.get('strict-transport-security') ?? '', /^max-age=[1-9]\d*/, 'HSTS on an answer through the proxy');
  const metrics = await request('GET', `${base}/metrics`);
  assert.equal(metrics.status, 403, 'the public name does not serve /metrics');
  assert.doesNotMatch(metrics.text, /cohort_/);

  // The site as shipped (both servers, IPv4 and IPv6 listens), only the certificate, cache and snippet paths replaced.
  const p = path.join(dir, 'check');
  mkdirSync(p, { recursive: true });
  const sitePath = path.join(p, 'site.conf');
  writeFileSync(sitePath, siteFor({ cache: path.join(p, 'cache'), redirect: true }));
  writeFileSync(path.join(p, 'nginx.conf'), nginxConf(p, sitePath));
  const t = spawnSync('nginx', ['-t', '-p', p, '-e', path.join(p, 'error.log'), '-c', path.join(p, 'nginx.conf')], { encoding: 'utf8', timeout: 10_000 });
  assert.equal(t.status, 0, `nginx -t on ${siteFile}:\n${t.stderr}`);
});

test('cohort accepts the shipped configurations (config/deploy/cohort.toml, config/production.example.toml)', () => {
  for (const file of ['config/deploy/cohort.toml', 'config/production.example.toml']) {
    const r = spawnSync(cohortBin, ['--config', path.join(repoRoot, file), 'routes'], { encoding: 'utf8', timeout: 10_000 });
    assert.equal(r.status, 0, `cohort --config ${file}: ${r.stderr}`);
  }
});
