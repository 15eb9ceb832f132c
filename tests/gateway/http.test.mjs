// The HTTP gateway against a real build/cohort: health and metrics, routing errors, request limits, auth,
// connection handling (keep-alive, pipelining, slow clients, huge headers), graceful shutdown, config errors, static files.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, readFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServer, api, cohortBin, repoRoot } from '../support/server.mjs';
import { assertError, RawConn, rawRequest, sleep } from '../support/http.mjs';

const SESSIONS = [{ starts_at: '2036-05-01T17:00:00Z', duration_minutes: 60 }];

let server, webinar, registrant, slowloris;

async function createWebinar(s, extra = {}) {
  const res = await api(s, 'POST', '/api/webinars', {
    token: s.adminToken, body: { title: 'Gateway test', description: '', capacity: null, sessions: SESSIONS, ...extra },
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

async function signup(s, webinarId, email) {
  return api(s, 'POST', `/api/webinars/${webinarId}/registrations`, { body: { name: 'Gate Keeper', email, consent: true } });
}

// A client that sends one header byte per second and never finishes its request.
function startSlowloris(url) {
  const { hostname, port } = new URL(url);
  const payload = `GET /healthz HTTP/1.1\r\nHost: ${hostname}:${port}\r\nX-Slow: ${'a'.repeat(200)}`;
  const sock = net.connect(Number(port), hostname);
  let sent = 0, timer, startedAt = Date.now();
  const result = new Promise((resolve) => {
    sock.on('connect', () => {
      startedAt = Date.now();
      const tick = () => {
        if (sock.destroyed) return;
        sock.write(payload[sent++]);
        timer = setTimeout(tick, 1000);
      };
      tick();
    });
    sock.on('error', () => {});
    sock.on('close', () => { clearTimeout(timer); resolve({ closedAfterMs: Date.now() - startedAt, bytesSent: sent }); });
  });
  return { result, get startedAt() { return startedAt; }, stop() { clearTimeout(timer); sock.destroy(); } };
}

// Runs build/cohort with args to completion (killing it after timeoutMs); never blocks the event loop.
function runCohort(args, timeoutMs = 10000) {
  return new Promise((resolve) => {
    const proc = spawn(cohortBin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    proc.stdout.on('data', (d) => { stdout += d; });
    proc.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    proc.on('exit', (code, signal) => { clearTimeout(timer); resolve({ code, signal, stdout, stderr }); });
  });
}

before(async () => {
  server = await startServer();
  // Runs in the background while the other tests go on; checked by the last test.
  slowloris = startSlowloris(server.url);
  webinar = await createWebinar(server);
  const res = await signup(server, webinar.id, 'gate.keeper@example.com');
  assert.equal(res.status, 201, JSON.stringify(res.body));
  registrant = res.body;
});

after(async () => {
  slowloris?.stop();
  if (server) {
    await server.stop();
    server.cleanup();
  }
});

test('GET /healthz answers 200 text/plain "ok"', async () => {
  const res = await api(server, 'GET', '/healthz');
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
  assert.equal(res.body.trim(), 'ok');
});

test('GET /readyz answers 200 "ready" once the database is open', async () => {
  const res = await api(server, 'GET', '/readyz');
  assert.equal(res.status, 200);
  assert.equal(String(res.body).trim(), 'ready');
});

test('unknown routes answer 404 not_found in the error shape', async () => {
  for (const p of ['/nope', '/api/nope', '/api/webinars/1/nope', '/healthz/extra']) {
    assertError(await api(server, 'GET', p), 404, 'not_found', undefined, p);
  }
});

test('a known route with the wrong method answers 405 with an Allow header', async () => {
  const del = await api(server, 'DELETE', '/api/webinars', { token: server.adminToken });
  assertError(del, 405, 'method_not_allowed');
  const allow = (del.headers.get('allow') ?? '').split(',').map((m) => m.trim().toUpperCase());
  assert.ok(allow.includes('GET') && allow.includes('POST'), `Allow for /api/webinars: ${del.headers.get('allow')}`);
  assert.ok(!allow.includes('DELETE'));

  const post = await api(server, 'POST', '/healthz', { body: {} });
  assertError(post, 405, 'method_not_allowed');
  assert.ok((post.headers.get('allow') ?? '').toUpperCase().includes('GET'), `Allow for /healthz: ${post.headers.get('allow')}`);

  const put = await api(server, 'PUT', '/api/me', { token: registrant.token, body: {} });
  assertError(put, 405, 'method_not_allowed');
  const meAllow = (put.headers.get('allow') ?? '').toUpperCase();
  assert.ok(meAllow.includes('GET') && meAllow.includes('DELETE'), `Allow for /api/me: ${put.headers.get('allow')}`);
});

test('POST with neither Content-Length nor chunked answers 411 length_required', async () => {
  const conn = await RawConn.open(server.url);
  try {
    conn.write(`POST /api/webinars/${webinar.id}/registrations HTTP/1.1\r\nHost: ${conn.host}\r\n`
      + 'Content-Type: application/json\r\n\r\n');
    assertError(await conn.readResponse(), 411, 'length_required');
  } finally { conn.destroy(); }
});

test('chunked request bodies are accepted', async () => {
  const conn = await RawConn.open(server.url);
  try {
    const body = JSON.stringify({ name: 'Chunky', email: 'chunked@example.com', consent: true });
    const half = Math.floor(body.length / 2);
    const chunk = (s) => `${Buffer.byteLength(s).toString(16)}\r\n${s}\r\n`;
    conn.write(`POST /api/webinars/${webinar.id}/registrations HTTP/1.1\r\nHost: ${conn.host}\r\n`
      + `Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${chunk(body.slice(0, half))}${chunk(body.slice(half))}0\r\n\r\n`);
    const res = await conn.readResponse();
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.status, 'registered');
  } finally { conn.destroy(); }
});

test('a body over 64 KiB answers 413 payload_too_large and nothing is stored; exactly 64 KiB is read', async () => {
  const make = (size) => {
    const prefix = '{"name":"', suffix = '","email":"big@example.com","consent":true}';
    return Buffer.from(prefix + 'a'.repeat(size - prefix.length - suffix.length) + suffix);
  };
  const send = async (buf, headers = {}) => {
    const conn = await RawConn.open(server.url);
    try {
      conn.write(rawRequest(conn.host, 'POST', `/api/webinars/${webinar.id}/registrations`, { body: buf, headers }));
      return await conn.readResponse();
    } finally { conn.destroy(); }
  };
  assertError(await send(make(65537)), 413, 'payload_too_large');
  assertError(await send(make(200 * 1024)), 413, 'payload_too_large');
  // 64 KiB exactly is within the limit: the body is parsed and then the 65 000-char name fails validation.
  assertError(await send(make(65536)), 422, 'validation_failed', 'name');

  // The same limit holds for chunked bodies, which announce no length up front.
  const conn = await RawConn.open(server.url);
  try {
    const body = make(70000).toString('latin1');
    conn.write(`POST /api/webinars/${webinar.id}/registrations HTTP/1.1\r\nHost: ${conn.host}\r\n`
      + 'Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n');
    for (let i = 0; i < body.length; i += 8192) {
      const piece = body.slice(i, i + 8192);
      conn.write(`${piece.length.toString(16)}\r\n${piece}\r\n`);
    }
    conn.write('0\r\n\r\n');
    assertError(await conn.readResponse(), 413, 'payload_too_large');
  } finally { conn.destroy(); }

  const list = await api(server, 'GET', `/api/webinars/${webinar.id}/registrations?limit=500`, { token: server.adminToken });
  assert.equal(list.status, 200);
  assert.ok(!list.body.registrations.some((r) => r.email === 'big@example.com'), 'an oversized signup was stored');
});

test('a body with a Content-Type other than application/json answers 415', async () => {
  const path415 = `/api/webinars/${webinar.id}/registrations`;
  const body = JSON.stringify({ name: 'Typed', email: 'typed@example.com', consent: true });
  for (const ct of ['text/plain', 'application/x-www-form-urlencoded', 'application/jsonx']) {
    assertError(await api(server, 'POST', path415, { raw: body, headers: { 'content-type': ct } }), 415, 'unsupported_media_type', undefined, ct);
  }
  // No Content-Type at all is not application/json either.
  const conn = await RawConn.open(server.url);
  try {
    conn.write(`POST ${path415} HTTP/1.1\r\nHost: ${conn.host}\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    assertError(await conn.readResponse(), 415, 'unsupported_media_type');
  } finally { conn.destroy(); }
  // Parameters on the media type are fine.
  const ok = await api(server, 'POST', path415, { raw: body, headers: { 'content-type': 'application/json; charset=utf-8' } });
  assert.equal(ok.status, 201, JSON.stringify(ok.body));
});

test('malformed JSON, or JSON that is not an object, answers 400 bad_json', async () => {
  const p = `/api/webinars/${webinar.id}/registrations`;
  for (const raw of ['{"name":', '{"name": "x",}', 'nope', '', '{"a":1} trailing',
    '[{"name":"A","email":"arr@example.com","consent":true}]', '"string"', 'null', '42', 'true']) {
    assertError(await api(server, 'POST', p, { raw, headers: { 'content-type': 'application/json' } }), 400, 'bad_json', undefined, raw);
  }
  const created = await api(server, 'POST', '/api/webinars', { token: server.adminToken, raw: '[]', headers: { 'content-type': 'application/json' } });
  assertError(created, 400, 'bad_json');
});

test('organizer routes: missing or unknown token 401, registrant token 403, admin token 200', async () => {
  const p = `/api/webinars/${webinar.id}/registrations`;
  assertError(await api(server, 'GET', p), 401, 'unauthorized');
  assertError(await api(server, 'GET', p, { token: 'not-a-real-token' }), 401, 'unauthorized');
  assertError(await api(server, 'GET', p, { headers: { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` } }), 401, 'unauthorized');
  assertError(await api(server, 'GET', p, { headers: { authorization: `Bearer ${server.adminToken}x` } }), 401, 'unauthorized');
  assertError(await api(server, 'GET', p, { token: registrant.token }), 403, 'forbidden');
  assertError(await api(server, 'GET', `${p}.csv`, { token: registrant.token }), 403, 'forbidden');
  assertError(await api(server, 'POST', '/api/webinars', { token: registrant.token, body: { title: 'x', sessions: SESSIONS } }), 403, 'forbidden');
  assertError(await api(server, 'PATCH', `/api/webinars/${webinar.id}`, { token: registrant.token, body: { title: 'hijacked' } }), 403, 'forbidden');
  assertError(await api(server, 'DELETE', `/api/webinars/${webinar.id}`, { token: registrant.token }), 403, 'forbidden');
  assertError(await api(server, 'POST', '/api/webinars', { body: { title: 'x', sessions: SESSIONS } }), 401, 'unauthorized');
  const ok = await api(server, 'GET', p, { token: server.adminToken });
  assert.equal(ok.status, 200);
  assert.equal((await api(server, 'GET', `/api/webinars/${webinar.id}`)).body.title, 'Gateway test');
});

test('keep-alive: several requests, including errors, are answered on one connection', async () => {
  const conn = await RawConn.open(server.url);
  try {
    conn.send('GET', '/healthz');
    let res = await conn.readResponse();
    assert.equal(res.status, 200);
    assert.equal(res.text.trim(), 'ok');

    conn.send('GET', '/does-not-exist');
    assertError(await conn.readResponse(), 404, 'not_found');

    conn.send('POST', `/api/webinars/${webinar.id}/registrations`, { body: { name: 'Keep', email: 'keep.alive@example.com', consent: true } });
    res = await conn.readResponse();
    assert.equal(res.status, 201, res.text);

    conn.send('GET', `/api/webinars/${webinar.id}`);
    res = await conn.readResponse();
    assert.equal(res.status, 200);
    assert.equal(res.body.id, webinar.id);
    assert.equal(conn.closed, false, 'the server closed a keep-alive connection');

    conn.send('GET', '/healthz', { headers: { Connection: 'close' } });
    res = await conn.readResponse();
    assert.equal(res.status, 200);
    assert.ok(await conn.waitClosed(3000), 'the server keeps the connection open after "Connection: close"');
  } finally { conn.destroy(); }
});

test('pipelining: requests written at once are answered in order', async () => {
  const conn = await RawConn.open(server.url);
  try {
    conn.write(Buffer.concat([
      rawRequest(conn.host, 'GET', '/healthz'),
      rawRequest(conn.host, 'POST', `/api/webinars/${webinar.id}/registrations`, { body: { name: 'Pipe', email: 'pipe@example.com', consent: true } }),
      rawRequest(conn.host, 'GET', '/nope'),
      rawRequest(conn.host, 'GET', `/api/webinars/${webinar.id}`),
      rawRequest(conn.host, 'GET', '/readyz'),
    ]));
    const first = await conn.readResponse();
    assert.equal(first.status, 200);
    assert.equal(first.text.trim(), 'ok');
    const second = await conn.readResponse();
    assert.equal(second.status, 201, second.text);
    assert.equal(second.body.webinar_id, webinar.id);
    assertError(await conn.readResponse(), 404, 'not_found');
    const fourth = await conn.readResponse();
    assert.equal(fourth.status, 200);
    assert.equal(fourth.body.id, webinar.id);
    const fifth = await conn.readResponse();
    assert.equal(fifth.status, 200);
    assert.equal(fifth.text.trim(), 'ready');
  } finally { conn.destroy(); }
});

test('a header block over 16 KiB is refused (431/400 or close) and the server keeps serving', async () => {
  const conn = await RawConn.open(server.url);
  try {
    conn.write(`GET /healthz HTTP/1.1\r\nHost: ${conn.host}\r\nX-Big: ${'b'.repeat(20 * 1024)}\r\n\r\n`);
    let res = null;
    try { res = await conn.readResponse(5000); } catch (e) {
      assert.ok(conn.closed, `neither a response nor a close: ${e.message}`);
    }
    if (res) {
      assert.ok([400, 431].includes(res.status), `status ${res.status} for a 20 KiB header`);
      if ((res.headers.get('content-type') ?? '').includes('json')) assertError(res, res.status);
    }
  } finally { conn.destroy(); }
  // Many medium headers adding up past the limit.
  const conn2 = await RawConn.open(server.url);
  try {
    const many = Array.from({ length: 200 }, (_, i) => `X-H${i}: ${'c'.repeat(100)}\r\n`).join('');
    conn2.write(`GET /healthz HTTP/1.1\r\nHost: ${conn2.host}\r\n${many}\r\n`);
    let res = null;
    try { res = await conn2.readResponse(5000); } catch (e) {
      assert.ok(conn2.closed, `neither a response nor a close: ${e.message}`);
    }
    if (res) assert.ok([400, 431].includes(res.status), `status ${res.status} for 20 KiB of headers`);
  } finally { conn2.destroy(); }
  const health = await api(server, 'GET', '/healthz');
  assert.equal(health.status, 200);
});

test('GET /metrics exposes request, registration and commit-batch metrics after traffic', async () => {
  const before = await api(server, 'GET', '/healthz');
  assert.equal(before.status, 200);
  await api(server, 'GET', '/nope-metrics-probe-93813');
  const res = await api(server, 'GET', '/metrics');
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
  const text = res.body;
  const samples = (name) => text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
  const value = (line) => Number(line.trim().split(/\s+/)[1]);

  const requests = samples('cohort_http_requests_total');
  assert.ok(requests.length > 0, 'no cohort_http_requests_total samples');
  const health = requests.find((l) => l.includes('route="/healthz"') && l.includes('method="GET"') && l.includes('status="200"'));
  assert.ok(health, `no cohort_http_requests_total{route="/healthz",method="GET",status="200"} in\n${requests.join('\n')}`);
  assert.ok(value(health) >= 1);
  assert.ok(requests.some((l) => l.includes('status="404"')), '404s are not counted');

  const regs = samples('cohort_registrations_total');
  const registered = regs.find((l) => l.includes('status="registered"'));
  assert.ok(registered, `no cohort_registrations_total{status="registered"} in\n${regs.join('\n')}`);
  // before(), chunked, 415-with-charset, keep-alive and pipelining tests each registered one person.
  assert.ok(value(registered) >= 5, registered);

  const batchCount = samples('cohort_sqlite_commit_batch_size_count');
  assert.equal(batchCount.length, 1, 'cohort_sqlite_commit_batch_size histogram has no _count');
  assert.ok(value(batchCount[0]) >= 1);
  assert.ok(samples('cohort_sqlite_commit_batch_size_bucket').some((l) => l.includes('le="+Inf"')));
  assert.ok(samples('cohort_http_request_duration_seconds_bucket').length > 0, 'no request duration histogram');
  assert.ok(samples('cohort_sqlite_commit_duration_seconds_bucket').length > 0, 'no commit duration histogram');
});

test('metrics label unknown paths by route, not by the raw path', async () => {
  const res = await api(server, 'GET', '/metrics');
  assert.ok(!res.body.includes('nope-metrics-probe-93813'), 'a raw unknown path became a metrics label (unbounded label set)');
});

test('static pages: / and /w/{id} and /live/{id} serve HTML', async () => {
  for (const p of ['/', `/w/${webinar.id}`, `/live/${webinar.id}`]) {
    const res = await api(server, 'GET', p);
    assert.equal(res.status, 200, `${p}: ${res.status}`);
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/, p);
    assert.match(res.body, /<html|<!doctype html/i, p);
  }
});

test('static assets are served with a content type by extension; a missing asset is a 404 error', async (t) => {
  assertError(await api(server, 'GET', '/assets/definitely-missing-9911.js'), 404, 'not_found');
  const dir = path.join(repoRoot, 'web', 'assets');
  const types = { '.js': /^application\/javascript/, '.css': /^text\/css/, '.svg': /^image\/svg\+xml/, '.png': /^image\/png/, '.ico': /^image\// };
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => types[path.extname(f)]) : [];
  if (files.length === 0) return t.skip('web/assets has no .js/.css/.svg/.png/.ico files yet');
  for (const f of files) {
    const res = await fetch(`${server.url}/assets/${encodeURIComponent(f)}`);
    assert.equal(res.status, 200, f);
    assert.match(res.headers.get('content-type') ?? '', types[path.extname(f)], f);
    const body = Buffer.from(await res.arrayBuffer());
    assert.ok(body.equals(readFileSync(path.join(dir, f))), `${f} served bytes differ from the file`);
  }
});

test('path traversal out of web/assets is 404 or 400, never the file', async () => {
  const cmake = path.join(repoRoot, 'CMakeLists.txt');
  const marker = existsSync(cmake) ? readFileSync(cmake, 'utf8').split('\n').find((l) => l.trim().length > 8)?.trim() : null;
  const attempts = [
    '/assets/../../CMakeLists.txt',
    '/assets/../../../../../../etc/passwd',
    '/assets/%2e%2e/%2e%2e/CMakeLists.txt',
    '/assets/..%2f..%2fCMakeLists.txt',
    '/assets/..%5c..%5cCMakeLists.txt',
    '/assets/%252e%252e/%252e%252e/CMakeLists.txt',
    '/assets//../../CMakeLists.txt',
  ];
  for (const p of attempts) {
    const conn = await RawConn.open(server.url);
    try {
      conn.write(`GET ${p} HTTP/1.1\r\nHost: ${conn.host}\r\nConnection: close\r\n\r\n`);
      const res = await conn.readResponse();
      assert.ok([400, 404].includes(res.status), `${p}: status ${res.status}`);
      assert.ok(!/cmake_minimum_required|root:x:0:0/i.test(res.text), `${p} leaked a file`);
      if (marker) assert.ok(!res.text.includes(marker), `${p} leaked CMakeLists.txt`);
    } finally { conn.destroy(); }
  }
});

test('`cohort routes` lists every served route as METHOD PATH', async () => {
  const r = await runCohort(['routes']);
  assert.equal(r.code, 0, r.stderr);
  const lines = new Set(r.stdout.split('\n').map((l) => l.trim()).filter(Boolean));
  for (const want of [
    'GET /healthz', 'GET /readyz', 'GET /metrics', 'GET /', 'GET /w/{id}', 'GET /live/{id}', 'GET /assets/{file}',
    'GET /api/webinars', 'POST /api/webinars', 'GET /api/webinars/{id}', 'PATCH /api/webinars/{id}', 'DELETE /api/webinars/{id}',
    'POST /api/webinars/{id}/registrations', 'GET /api/webinars/{id}/registrations', 'GET /api/webinars/{id}/registrations.csv',
    'GET /api/me', 'DELETE /api/me',
  ]) assert.ok(lines.has(want), `missing "${want}" in\n${r.stdout}`);
});

test('bad config: --listen nonsense exits 2 naming listen', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'cohort-badcfg-'));
  try {
    const r = await runCohort(['--listen', 'nonsense', '--data-dir', dir, '--admin-token', 'x'.repeat(32)]);
    assert.equal(r.code, 2, `exit ${r.code ?? r.signal}; stderr: ${r.stderr}`);
    assert.match(r.stderr, /listen/);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('bad config: a config file with [server] io_threads = 9999 exits 2 naming server.io_threads', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'cohort-badcfg-'));
  try {
    const file = path.join(dir, 'cohort.toml');
    writeFileSync(file, '[server]\nio_threads = 9999\n');
    const r = await runCohort(['--config', file, '--listen', '127.0.0.1:0', '--data-dir', dir, '--admin-token', 'x'.repeat(32)]);
    assert.equal(r.code, 2, `exit ${r.code ?? r.signal}; stderr: ${r.stderr}`);
    assert.match(r.stderr, /server\.io_threads/);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

// One signup, classified: refused (never connected), dropped (closed before any byte of a response), or a complete
// parsed response. Anything partial or garbled throws from readResponse and is kept as such. With `conn` the request
// is written synchronously, before this function first awaits.
async function classifiedSignup(url, webinarId, email, conn) {
  if (!conn) {
    try { conn = await RawConn.open(url); } catch (e) { return { kind: 'refused', email, detail: e.code }; }
  }
  const before = conn.received;
  try {
    conn.send('POST', `/api/webinars/${webinarId}/registrations`, { body: { name: 'Term', email, consent: true }, headers: { Connection: 'close' } });
    return { kind: 'response', email, res: await conn.readResponse(8000) };
  } catch (e) {
    return { kind: conn.received === before ? 'dropped' : 'garbled', email, detail: e.message };
  } finally { conn.destroy(); }
}

const outcome = (r) => r.kind === 'response' ? `${r.email}: ${r.res.status} ${r.res.text.slice(0, 120)}` : `${r.email}: ${r.kind} ${r.detail ?? ''}`;
const isCreated = (r) => r.kind === 'response' && r.res.status === 201 && typeof r.res.body?.token === 'string';

test('SIGTERM: a request half-sent before the signal is still answered, then exit 0 within 5 s', async () => {
  const s = await startServer();
  try {
    const w = await createWebinar(s);
    const conn = await RawConn.open(s.url);
    const req = rawRequest(conn.host, 'POST', `/api/webinars/${w.id}/registrations`, { body: { name: 'Late', email: 'late@example.com', consent: true } });
    const cut = req.length - 10;
    conn.write(req.subarray(0, cut));
    await sleep(200);
    const t0 = Date.now();
    s.proc.kill('SIGTERM');
    await sleep(300);
    conn.write(req.subarray(cut));
    let res;
    try { res = await conn.readResponse(4000); } finally { conn.destroy(); }
    assert.equal(res.status, 201, res.text);
    const { code, signal } = await Promise.race([s.exited, sleep(6000).then(() => ({ code: 'still running' }))]);
    assert.equal(code, 0, `exit ${code ?? signal}`);
    assert.ok(Date.now() - t0 < 5000, `exit took ${Date.now() - t0} ms`);
  } finally {
    await s.kill();
    s.cleanup();
  }
});

test('SIGTERM during a burst: no truncated or garbled answer, requests already sent are answered, exit 0 within 5 s, 201s kept', async (t) => {
  const s = await startServer();
  let s2;
  try {
    const w = await createWebinar(s);
    // An idle connection and a finished keep-alive connection must not hold up the shutdown.
    const idle = await RawConn.open(s.url);
    const kept = await RawConn.open(s.url);
    kept.send('GET', '/healthz');
    assert.equal((await kept.readResponse()).status, 200);
    // Connections the server has accepted (each answered one request, so none waits in the listen
    // backlog, which a stopping server may reset); their next requests are written just before the signal.
    const ready = await Promise.all(Array.from({ length: 10 }, async () => {
      const conn = await RawConn.open(s.url);
      conn.send('GET', '/healthz');
      assert.equal((await conn.readResponse()).status, 200);
      return conn;
    }));

    const burst = Array.from({ length: 30 }, (_, i) => classifiedSignup(s.url, w.id, `burst${i}@example.com`));
    await sleep(10);
    const sent = ready.map((conn, i) => classifiedSignup(s.url, w.id, `sent${i}@example.com`, conn));
    const t0 = Date.now();
    s.proc.kill('SIGTERM');
    const [burstResults, sentResults] = await Promise.all([Promise.all(burst), Promise.all(sent)]);
    const { code, signal } = await Promise.race([s.exited, sleep(6000).then(() => ({ code: 'still running' }))]);
    const tookMs = Date.now() - t0;
    idle.destroy();
    kept.destroy();

    const counts = {};
    for (const r of burstResults) counts[r.kind] = (counts[r.kind] ?? 0) + 1;
    t.diagnostic(`burst outcome: ${JSON.stringify(counts)}; sent-before-signal answered: ${sentResults.filter(isCreated).length}/10`);
    const garbled = [...burstResults, ...sentResults].filter((r) => r.kind === 'garbled' || (r.kind === 'response' && !isCreated(r)));
    assert.deepEqual(garbled.map(outcome), [], 'truncated, garbled or non-201 answers');
    assert.deepEqual(sentResults.filter((r) => !isCreated(r)).map(outcome), [],
      'requests fully written on accepted connections before SIGTERM were not answered');
    assert.equal(code, 0, `exit ${code ?? signal}`);
    assert.ok(tookMs < 5000, `exit took ${tookMs} ms`);

    // Whatever was acknowledged with 201 is in the database after a restart.
    const acked = [...burstResults, ...sentResults].filter(isCreated);
    s2 = await startServer({ dataDir: s.dataDir, adminToken: s.adminToken });
    const list = await api(s2, 'GET', `/api/webinars/${w.id}/registrations?limit=500`, { token: s2.adminToken });
    assert.equal(list.status, 200);
    const stored = new Map(list.body.registrations.map((r) => [r.id, r.email]));
    for (const r of acked) assert.equal(stored.get(r.res.body.id), r.email, `acknowledged signup ${r.email} (id ${r.res.body.id}) lost`);
  } finally {
    await s.kill();
    if (s2) await s2.stop();
    s.cleanup();
  }
});

test('slowloris: a client sending one header byte per second is disconnected within 15 s', { timeout: 25000 }, async () => {
  const deadline = slowloris.startedAt + 16000;
  const r = await Promise.race([slowloris.result, sleep(Math.max(0, deadline - Date.now())).then(() => null)]);
  assert.ok(r, `the slow client is still connected after ${Date.now() - slowloris.startedAt} ms`);
  assert.ok(r.closedAfterMs <= 15000, `closed after ${r.closedAfterMs} ms`);
  assert.equal((await api(server, 'GET', '/healthz')).status, 200);
});
