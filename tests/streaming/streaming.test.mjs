// Live streaming against a real build/cohort (single primary node), with a real ffmpeg publisher over RTMP:
// stream keys (create / get / rotate, auth) and refused publishes (unknown or rotated key, a second publisher),
// the signed live HLS playlist and segments (ffprobe reads them), GET /stream, stream.status over /ws, the
// recording on disk (VOD playlist, Range, resume after a second publish in the same session, DELETE), ad-hoc
// recordings outside every session's window, per-input video handling (4:2:0 H.264 passes through, 4:4:4 is
// transcoded), segment ETags and 304s, viewers as playlist fetchers united with live-room presence, the
// streaming.extra_360p master playlist, and a clean SIGTERM while a publish runs (no ffmpeg left behind).
// Every server WebSocket message is checked against proto/ws/*.schema.json by tests/support/ws.mjs.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { startServer, api } from '../support/server.mjs';
import { assertError, sleep } from '../support/http.mjs';
import { connect } from '../support/ws.mjs';

const run = promisify(execFile);
const UTC_SECONDS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const FUTURE = [{ starts_at: '2036-06-01T18:00:00Z', duration_minutes: 60 }];
const rfc3339 = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

let server;
let emails = 0;
const clients = new Set();
const publishers = new Set();
const extraServers = [];

before(async () => {
  server = await startServer();
});
after(async () => {
  for (const p of publishers) p.kill();
  for (const s of extraServers) { await s.kill(); s.cleanup(); }
  if (server) {
    await server.stop();
    server.cleanup();
  }
});
afterEach(async () => {
  const open = [...clients];
  clients.clear();
  const results = await Promise.allSettled(open.map((c) => c.close()));
  const failures = results.filter((r) => r.status === 'rejected').map((r) => r.reason.message);
  const { exitCode, signalCode } = server.proc;
  assert.ok(exitCode === null && signalCode === null,
    `the server died during this test (exit ${exitCode ?? signalCode}); stderr tail:\n${server.stderr.slice(-2000)}`);
  assert.deepEqual(failures, [], 'protocol violations seen by clients of this test');
});

// The RTMP port the server printed: "cohort: rtmp ingest on rtmp://127.0.0.1:PORT/live".
function rtmpPort(s = server) {
  const m = /rtmp ingest on rtmp:\/\/127\.0\.0\.1:(\d+)\/live/.exec(s.stdout);
  assert.ok(m, `no rtmp ingest line on stdout:\n${s.stdout}`);
  return Number(m[1]);
}

async function newWebinar(sessions = FUTURE, s = server) {
  const res = await api(s, 'POST', '/api/webinars', {
    token: s.adminToken, body: { title: 'Streaming test', description: '', capacity: null, sessions },
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

// A webinar whose session 1 started 5 minutes ago (60 min long): a publish now belongs to session 1.
const liveNowWebinar = (s = server) => newWebinar([{ starts_at: rfc3339(Date.now() - 5 * 60_000), duration_minutes: 60 },
  { starts_at: '2036-06-01T18:00:00Z', duration_minutes: 60 }], s);

async function register(webinarId, s = server) {
  const res = await api(s, 'POST', `/api/webinars/${webinarId}/registrations`,
    { body: { name: 'Grace Hopper', email: `stream${++emails}-${Date.now()}@example.com`, consent: true } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return { id: res.body.id, token: res.body.token };
}

const keyRequest = (method, webinarId, token, s = server) =>
  api(s, method, `/api/webinars/${webinarId}/stream-key`, { token, ...(method === 'POST' ? { headers: { 'content-length': '0' } } : {}) });

async function newKey(webinarId, s = server) {
  const res = await keyRequest('POST', webinarId, s.adminToken, s);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.stream_key;
}

// Spawns an ffmpeg publisher (test pattern + sine, H.264/AAC in FLV) for `seconds`; pixFmt yuv444p makes
// libx264 send High 4:4:4 (profile 244), which browsers do not play.
// Returns { proc, exited: Promise<{code, signal, ms}>, stderr(), running, kill() }.
function publish(key, seconds, s = server, { pixFmt = 'yuv420p', size = '640x360' } = {}) {
  const url = `rtmp://127.0.0.1:${rtmpPort(s)}/live/${key}`;
  const proc = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=30`,
    '-f', 'lavfi', '-i', 'sine', '-t', String(seconds), '-pix_fmt', pixFmt, '-c:v', 'libx264', '-preset', 'veryfast',
    '-tune', 'zerolatency', '-g', '30', '-c:a', 'aac', '-f', 'flv', url], { stdio: ['ignore', 'ignore', 'pipe'] });
  const t0 = Date.now();
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  const p = {
    proc,
    exited: new Promise((resolve) => proc.on('exit', (code, signal) => { publishers.delete(p); resolve({ code, signal, ms: Date.now() - t0 }); })),
    stderr: () => stderr,
    get running() { return proc.exitCode === null && proc.signalCode === null; },
    kill() { if (p.running) proc.kill('SIGKILL'); },
  };
  publishers.add(p);
  return p;
}

async function join(token, label, s = server) {
  const c = await connect(s, { token, label });
  clients.add(c);
  await c.next('hello');
  return c;
}

// GET a URL: { status, headers, bytes, text, body (parsed JSON when JSON) }.
async function get(url, headers = {}) {
  const res = await fetch(url, { headers });
  const bytes = Buffer.from(await res.arrayBuffer());
  const text = bytes.toString('utf8');
  let body = text;
  if ((res.headers.get('content-type') || '').includes('application/json')) body = JSON.parse(text);
  return { status: res.status, headers: res.headers, bytes, text, body };
}

const playlistUrl = (webinarId, token, s = server) => `${s.url}/live/${webinarId}/index.m3u8${token ? `?token=${encodeURIComponent(token)}` : ''}`;

// Polls the live playlist until it is 200 (returns that response) or timeoutMs passes (throws).
async function waitForPlaylist(webinarId, token, timeoutMs = 10_000, s = server) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await get(playlistUrl(webinarId, token, s));
    if (last.status === 200) return last;
    assert.ok(Date.now() < deadline, `live playlist not 200 within ${timeoutMs} ms; last: ${last.status} ${last.text}\nserver stderr:\n${s.stderr.slice(-2000)}`);
    await sleep(200);
  }
}

async function streamStatus(webinarId, s = server) {
  const res = await api(s, 'GET', `/api/webinars/${webinarId}/stream`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.deepEqual(Object.keys(res.body).sort(), ['live', 'session', 'started_at', 'viewers'], JSON.stringify(res.body));
  return res.body;
}

async function recordings(webinarId, token = server.adminToken, s = server) {
  const res = await api(s, 'GET', `/api/webinars/${webinarId}/recordings?token=${encodeURIComponent(token)}`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  for (const r of res.body.recordings) {
    assert.deepEqual(Object.keys(r).sort(), ['duration_ms', 'ended_at', 'id', 'playlist', 'segments', 'session', 'started_at'], JSON.stringify(r));
    assert.match(r.started_at, UTC_SECONDS);
    if (r.ended_at !== null) assert.match(r.ended_at, UTC_SECONDS);
  }
  return res.body.recordings;
}

// Polls the recordings list until `pred(list)` holds (returns the list) or timeoutMs passes.
async function waitForRecordings(webinarId, pred, what, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const list = await recordings(webinarId);
    if (pred(list)) return list;
    assert.ok(Date.now() < deadline, `recordings: no ${what} within ${timeoutMs} ms: ${JSON.stringify(list)}`);
    await sleep(200);
  }
}

// URIs a playlist names (segments and the EXT-X-MAP init), resolved against the playlist URL.
function playlistUris(text, base) {
  const uris = [];
  for (const line of text.split('\n').map((l) => l.trim())) {
    if (!line) continue;
    if (line.startsWith('#EXT-X-MAP:')) uris.push(new URL(/URI="([^"]+)"/.exec(line)[1], base));
    else if (!line.startsWith('#')) uris.push(new URL(line, base));
  }
  return uris;
}

async function ffprobe(url, entries) {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', entries, '-of', 'json', url], { timeout: 20_000 });
  return JSON.parse(stdout);
}

// Every process (pid, ppid, stat, args) from ps.
function processes() {
  return execFileSync('ps', ['-e', '-o', 'pid=,ppid=,stat=,args=']).toString().split('\n').filter(Boolean).map((l) => {
    const m = /^\s*(\d+)\s+(\d+)\s+(\S+)\s+(.*)$/.exec(l);
    return { pid: Number(m[1]), ppid: Number(m[2]), stat: m[3], args: m[4] };
  });
}

// Alive = exists and is not a zombie.
function alive(pid) {
  if (!existsSync(`/proc/${pid}/stat`)) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch { return false; }
}

const isStatus = (live) => Object.assign((m) => m.type === 'stream.status' && m.live === live, { label: `stream.status live:${live}` });


test('the waitlist holds no seat: a waitlisted registrant gets 403 waitlisted for the live playlist and the recordings', async () => {
  const res = await api(server, 'POST', '/api/webinars', {
    token: server.adminToken, body: { title: 'Full stream', description: '', capacity: 1, sessions: FUTURE },
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  const seated = await register(res.body.id);
  const waiting = await register(res.body.id);
  assert.equal((await api(server, 'GET', '/api/me', { token: waiting.token })).body.status, 'waitlisted');
  assertError(await get(playlistUrl(res.body.id, waiting.token)), 403, 'waitlisted', undefined, 'live playlist, waitlisted');
  assertError(await api(server, 'GET', `/api/webinars/${res.body.id}/recordings?token=${waiting.token}`), 403, 'waitlisted', undefined,
    'recordings, waitlisted');
  assert.equal((await api(server, 'GET', `/api/webinars/${res.body.id}/recordings?token=${seated.token}`)).status, 200);
});

test('stream key: create, get, rotate, auth; a publish with an unknown or rotated key is refused', async () => {
  const w = await newWebinar();
  const other = await newWebinar();
  const person = await register(w.id);
  const port = rtmpPort();

  assertError(await keyRequest('GET', w.id, server.adminToken), 404, 'not_found', undefined, 'GET stream-key before one exists');
  assertError(await keyRequest('POST', w.id, undefined), 401, 'unauthorized', undefined, 'POST stream-key without a token');
  assertError(await keyRequest('POST', w.id, 'not-a-token'), 401, 'unauthorized', undefined, 'POST stream-key with an unknown token');
  assertError(await keyRequest('POST', w.id, person.token), 403, 'forbidden', undefined, 'POST stream-key with a registrant token');
  assertError(await keyRequest('POST', 999999, server.adminToken), 404, 'not_found', undefined, 'POST stream-key for an unknown webinar');

  const created = await keyRequest('POST', w.id, server.adminToken);
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.match(created.headers.get('content-type') ?? '', /^application\/json\b/);
  assert.deepEqual(Object.keys(created.body).sort(), ['rtmp_url', 'stream_key']);
  assert.equal(created.body.rtmp_url, `rtmp://127.0.0.1:${port}/live`);
  assert.match(created.body.stream_key, /^live_[0-9a-f]{16,}$/);

  const got = await keyRequest('GET', w.id, server.adminToken);
  assert.equal(got.status, 200, JSON.stringify(got.body));
  assert.deepEqual(got.body, created.body);
  assertError(await keyRequest('GET', w.id, undefined), 401, 'unauthorized', undefined, 'GET stream-key without a token');
  assertError(await keyRequest('GET', w.id, person.token), 403, 'forbidden', undefined, 'GET stream-key with a registrant token');

  const rotated = await keyRequest('POST', w.id, server.adminToken);
  assert.equal(rotated.status, 201, JSON.stringify(rotated.body));
  assert.notEqual(rotated.body.stream_key, created.body.stream_key, 'rotating gives a new key');
  assert.deepEqual((await keyRequest('GET', w.id, server.adminToken)).body, rotated.body, 'GET returns the rotated key');
  assert.notEqual(await newKey(other.id), rotated.body.stream_key, 'each webinar has its own key');

  // The rotated-out key and a made-up one: refused, ffmpeg fails fast, nothing goes live.
  for (const key of [created.body.stream_key, `live_${'0'.repeat(32)}`]) {
    const before = (server.stdout + server.stderr).split('refused a publish with an unknown stream key').length;
    const p = publish(key, 10);
    const ex = await Promise.race([p.exited, sleep(6000).then(() => null)]);
    assert.ok(ex, `publisher with key ${key} still running after 6 s (expected the server to refuse it)`);
    assert.notEqual(ex.code, 0, `publisher with a refused key exits non-zero (got ${JSON.stringify(ex)}; stderr ${p.stderr()})`);
    const after = (server.stdout + server.stderr).split('refused a publish with an unknown stream key').length;
    assert.ok(after > before, `server logs the refusal; stderr tail:\n${server.stderr.slice(-1000)}`);
  }
  const st = await streamStatus(w.id);
  assert.equal(st.live, false, JSON.stringify(st));
  assert.equal(st.started_at, null);
  assert.equal(st.session, null);
  assertError(await get(playlistUrl(w.id, person.token)), 404, 'not_found', undefined, 'live playlist after refused publishes');
});

// Shared by the live and the after-the-stream tests (they run in order).
const live = {};

test('live: playlist appears, ffprobe plays it, signed segments, auth, /stream, stream.status, second publisher refused', async () => {
  const w = await liveNowWebinar();
  const person = await register(w.id);
  const stranger = await register((await newWebinar()).id);
  const cancelled = await register(w.id);
  const cancel = await api(server, 'DELETE', '/api/me', { token: cancelled.token });
  assert.equal(cancel.status, 200, JSON.stringify(cancel.body));
  const roomOnly = await register(w.id);      // has the live room open, never fetches the playlist
  const playlistOnly = await register(w.id);  // fetches the playlist, no room open
  const key = await newKey(w.id);
  Object.assign(live, { w, person, stranger, key, seconds: 10 });

  await join(roomOnly.token, 'room only');
  const watcher = await join(person.token, 'watcher');
  live.watcher = watcher;
  clients.delete(watcher);  // kept open for the next test, which closes it

  const t0 = Date.now();
  live.pub = publish(key, live.seconds);
  const pl = await waitForPlaylist(w.id, person.token, 10_000);
  const upAfter = Date.now() - t0;
  assert.ok(live.pub.running, `publisher still running once live; stderr ${live.pub.stderr()}`);
  assert.match(pl.headers.get('content-type') ?? '', /^application\/vnd\.apple\.mpegurl\b/i);
  assert.equal(pl.headers.get('cache-control'), 'no-cache');
  assert.match(pl.text, /^#EXTM3U\n/);
  assert.doesNotMatch(pl.text, /#EXT-X-ENDLIST/, 'a live playlist has no ENDLIST');

  // A second publisher with the same key while live (started now, checked below): refused; the first goes on.
  const second = publish(key, 10);
  const secondDone = Promise.race([second.exited, sleep(6000).then(() => null)])
    .then((ex) => ({ ex, firstRunning: live.pub.running }));

  // The WebSocket client in the room learns the stream started; one connecting now gets it right after hello.
  const started = await watcher.next(isStatus(true), 5000);
  assert.equal(started.session, 1, JSON.stringify(started));
  assert.match(started.started_at, UTC_SECONDS);
  assert.ok(Math.abs(Date.parse(started.started_at) - t0) < upAfter + 2000, `started_at ${started.started_at} is about now`);
  const late = await connect(server, { token: person.token, label: 'late joiner' });
  clients.add(late);
  await late.next('hello');
  const afterHello = await late.next(undefined, 2000);
  assert.deepEqual(afterHello, started, 'the message right after hello is the current stream.status');

  // Signed URIs: exp 10-20 min ahead, the same for every viewer (organizer's playlist signs the same way).
  const uris = playlistUris(pl.text, playlistUrl(w.id, person.token));
  assert.ok(uris.length >= 2, `init + at least one segment in:\n${pl.text}`);
  for (const u of uris) {
    assert.match(u.searchParams.get('exp') ?? '', /^\d+$/, u.href);
    assert.match(u.searchParams.get('sig') ?? '', /^[0-9A-Za-z_-]+$/, u.href);
    const ahead = Number(u.searchParams.get('exp')) - Date.now() / 1000;
    assert.ok(ahead >= 590 && ahead <= 1210, `exp is 10-20 min ahead (${ahead.toFixed(0)} s): ${u.href}`);
  }
  const orgPl = await get(playlistUrl(w.id, server.adminToken));
  assert.equal(orgPl.status, 200, 'the organizer token reads the playlist');
  const sigOf = (text) => new Set(playlistUris(text, 'http://x/').map((u) => `${u.searchParams.get('exp')}:${u.searchParams.get('sig')}`));
  assert.deepEqual(sigOf(orgPl.text), sigOf(pl.text), 'same signature for every viewer');

  // Auth on the playlist.
  assertError(await get(playlistUrl(w.id)), 401, 'unauthorized', undefined, 'live playlist without a token');
  assertError(await get(playlistUrl(w.id, 'bogus')), 401, 'unauthorized', undefined, 'live playlist with an unknown token');
  assertError(await get(playlistUrl(w.id, stranger.token)), 403, 'forbidden', undefined, "live playlist with another webinar's registrant token");
  assertError(await get(playlistUrl(w.id, cancelled.token)), 401, 'unauthorized', undefined, 'live playlist with a cancelled registration token');
  const bearer = await get(playlistUrl(w.id), { authorization: `Bearer ${person.token}` });
  assert.equal(bearer.status, 200, 'Authorization: Bearer works for the playlist too');

  // A segment: without sig 401, tampered sig 403, as-is 200 video/mp4 immutable. The init too.
  const seg = uris.find((u) => /\.m4s$/.test(u.pathname));
  const init = uris.find((u) => /init\.mp4$/.test(u.pathname));
  assert.ok(seg && init, `a segment and the init in:\n${pl.text}`);
  const bare = new URL(seg.pathname, seg);
  assertError(await get(bare.href), 401, undefined, undefined, `GET ${bare.pathname} without exp/sig`);
  const noSig = new URL(seg.href);
  noSig.searchParams.delete('sig');
  assertError(await get(noSig.href), 401, undefined, undefined, `GET ${noSig.pathname}?exp only`);
  const tampered = new URL(seg.href);
  const sig = tampered.searchParams.get('sig');
  tampered.searchParams.set('sig', (sig[0] === 'a' ? 'b' : 'a') + sig.slice(1));
  assertError(await get(tampered.href), 403, undefined, undefined, `GET ${tampered.pathname} with a tampered sig`);
  const laterExp = new URL(seg.href);
  laterExp.searchParams.set('exp', String(Number(seg.searchParams.get('exp')) + 3600));
  assertError(await get(laterExp.href), 403, undefined, undefined, `GET ${laterExp.pathname} with exp moved, sig kept`);
  for (const u of [seg, init]) {
    const r = await get(u.href);
    assert.equal(r.status, 200, `GET ${u.pathname}${u.search} -> ${r.status} ${r.text.slice(0, 200)}`);
    assert.match(r.headers.get('content-type') ?? '', /^video\/mp4\b/);
    assert.equal(r.headers.get('cache-control'), 'public, max-age=3600, immutable');
    assert.ok(r.bytes.length > 100, `${u.pathname}: ${r.bytes.length} bytes`);
    const etag = r.headers.get('etag') ?? '';
    assert.match(etag, /^"[0-9a-f]{16}-[0-9a-f]+"$/, `${u.pathname}: ETag`);
    assert.equal((await get(u.href)).headers.get('etag'), etag, 'the same ETag on every answer');
    const again = await get(u.href, { 'if-none-match': etag });
    assert.equal(again.status, 304, `${u.pathname} with If-None-Match: its ETag`);
    assert.equal(again.bytes.length, 0);
    assert.equal(again.headers.get('etag'), etag);
  }

  // ffprobe plays the live playlist through the signed URIs.
  const probe = await ffprobe(playlistUrl(w.id, person.token), 'stream=codec_name,pix_fmt,width,height');
  const video = probe.streams.find((x) => x.codec_name === 'h264');
  assert.ok(video, `an h264 stream: ${JSON.stringify(probe)}`);
  assert.deepEqual({ pix_fmt: video.pix_fmt, width: video.width, height: video.height }, { pix_fmt: 'yuv420p', width: 640, height: 360 });
  assert.ok(probe.streams.some((x) => x.codec_name === 'aac'), `an aac stream: ${JSON.stringify(probe)}`);

  // Public status.
  const st = await streamStatus(w.id);
  assert.equal(st.live, true, JSON.stringify(st));
  assert.equal(st.session, 1);
  assert.equal(st.started_at, started.started_at);
  // Viewers: playlist fetchers of the last 30 s united with live-room presence, each person once. The
  // watcher (person) did both, roomOnly only joined, playlistOnly only fetches, and the organizer's token fetched.
  assert.equal((await get(playlistUrl(w.id, playlistOnly.token))).status, 200);
  assert.ok(Number.isInteger(st.viewers), JSON.stringify(st));
  const viewers = (await streamStatus(w.id)).viewers;
  assert.equal(viewers, 4, `viewers: person (room + playlist), room only, playlist only, organizer; got ${viewers}`);

  // The second publisher.
  const { ex, firstRunning } = await secondDone;
  assert.ok(ex, 'second publisher still running 6 s after it started (expected it to be refused)');
  assert.notEqual(ex.code, 0, `second publisher exits non-zero: ${JSON.stringify(ex)}`);
  assert.ok(firstRunning, 'the first publisher keeps going');
  assert.match(server.stderr, /refused a second publisher for webinar/, 'the server logs the refused second publisher');
  assert.equal((await get(playlistUrl(w.id, person.token))).status, 200, 'still live after the refused second publisher');
  assert.equal((await streamStatus(w.id)).live, true);
  live.startedAt = started.started_at;
});

// The recording keeps the last segment of a publish: ffmpeg gets to finish after the publisher hung up, and its last
// PUTs land before the stream ends. (Subtests, run at the end of a test because the afterEach hook runs after
// subtests too and closes the test's clients.)
const keepsLastSegment = (t, rec, seconds, what) => t.test(`${what} keeps its last segment (duration_ms ${rec.duration_ms} >= ${seconds * 1000 - 100})`,
  () => {
    assert.ok(rec.duration_ms >= seconds * 1000 - 100, `${what}: ${JSON.stringify(rec)}`);
  });

test('after the stream: stream.status false, playlist 404, recording (VOD, Range, resume with discontinuity, DELETE)', async (t) => {
  const { w, person, stranger, key, watcher, pub, seconds } = live;
  assert.ok(pub, 'the live test started a publisher');
  clients.add(watcher);
  const ex = await pub.exited;
  assert.equal(ex.code, 0, `the publisher finished cleanly: ${JSON.stringify(ex)} ${pub.stderr()}`);

  const ended = await watcher.next(isStatus(false), 5000);
  assert.equal(ended.session, 1, JSON.stringify(ended));
  assert.equal(ended.started_at, live.startedAt, 'started_at of the stream that ended');
  assertError(await get(playlistUrl(w.id, person.token)), 404, 'not_found', undefined, 'live playlist after the stream');
  const st = await streamStatus(w.id);
  assert.equal(st.live, false, JSON.stringify(st));

  // Auth on the list.
  assertError(await api(server, 'GET', `/api/webinars/${w.id}/recordings`), 401, 'unauthorized', undefined, 'recordings without a token');
  assertError(await api(server, 'GET', `/api/webinars/${w.id}/recordings?token=${stranger.token}`), 403, 'forbidden', undefined,
    "recordings with another webinar's registrant token");

  const list = await waitForRecordings(w.id, (l) => l.length === 1 && l[0].ended_at !== null, 'ended recording');
  const rec = list[0];
  assert.deepEqual(await recordings(w.id, person.token), list, 'the registrant sees the same list');
  assert.equal(rec.session, 1);
  assert.equal(rec.started_at, live.startedAt);
  assert.ok(Date.parse(rec.ended_at) >= Date.parse(rec.started_at), JSON.stringify(rec));
  assert.ok(Math.abs(rec.duration_ms - seconds * 1000) <= 1000, `duration_ms ${rec.duration_ms} ≈ ${seconds * 1000} ± 1000: ${JSON.stringify(rec)}`);
  assert.ok(rec.segments >= seconds - 1, `segments ${rec.segments}`);
  assert.match(rec.playlist, new RegExp(`^/replay/${w.id}/[^/]+/index\\.m3u8$`));
  const strict = [[rec, seconds, `the ${seconds} s publish`]];

  // The VOD playlist and its files.
  const vodUrl = `${server.url}${rec.playlist}?token=${encodeURIComponent(person.token)}`;
  assertError(await get(`${server.url}${rec.playlist}`), 401, 'unauthorized', undefined, 'VOD playlist without a token');
  assertError(await get(`${server.url}${rec.playlist}?token=${stranger.token}`), 403, 'forbidden', undefined,
    "VOD playlist with another webinar's registrant token");
  const vod = await get(vodUrl);
  assert.equal(vod.status, 200, vod.text);
  assert.match(vod.headers.get('content-type') ?? '', /^application\/vnd\.apple\.mpegurl\b/i);
  assert.match(vod.text, /#EXT-X-PLAYLIST-TYPE:VOD/);
  assert.match(vod.text, /#EXT-X-ENDLIST\s*$/);
  assert.doesNotMatch(vod.text, /#EXT-X-DISCONTINUITY/, 'one publish: no discontinuity yet');
  const vodUris = playlistUris(vod.text, vodUrl);
  assert.equal(vodUris.filter((u) => /\.m4s$/.test(u.pathname)).length, rec.segments, `segments in the list vs the playlist:\n${vod.text}`);
  const probe = await ffprobe(vodUrl, 'format=duration');
  assert.ok(Math.abs(Number(probe.format.duration) - seconds) <= 1, `ffprobe VOD duration ${probe.format.duration} ≈ ${seconds} ± 1`);

  // Signed like live segments, Range → 206.
  const seg = vodUris.find((u) => /\.m4s$/.test(u.pathname));
  assertError(await get(new URL(seg.pathname, seg).href), 401, undefined, undefined, 'replay segment without exp/sig');
  const tampered = new URL(seg.href);
  const sig = tampered.searchParams.get('sig');
  tampered.searchParams.set('sig', (sig[0] === 'a' ? 'b' : 'a') + sig.slice(1));
  assertError(await get(tampered.href), 403, undefined, undefined, 'replay segment with a tampered sig');
  const full = await get(seg.href);
  assert.equal(full.status, 200, full.text.slice(0, 200));
  const size = full.bytes.length;
  assert.ok(size > 300, `segment size ${size}`);
  const part = await get(seg.href, { range: 'bytes=100-299' });
  assert.equal(part.status, 206, `Range bytes=100-299 -> ${part.status}`);
  assert.equal(part.headers.get('content-range'), `bytes 100-299/${size}`);
  assert.equal(part.bytes.length, 200);
  assert.ok(part.bytes.equals(full.bytes.subarray(100, 300)), 'the range is the right bytes');
  const tail = await get(seg.href, { range: 'bytes=-50' });
  assert.equal(tail.status, 206);
  assert.equal(tail.headers.get('content-range'), `bytes ${size - 50}-${size - 1}/${size}`);

  // Publishing again in the same session continues the same recording; DELETE while live → 409.
  const again = publish(key, 4);
  await waitForPlaylist(w.id, person.token, 10_000);
  const restarted = await watcher.next(isStatus(true), 5000);
  assert.equal(restarted.session, 1);
  assertError(await api(server, 'DELETE', `/api/webinars/${w.id}/recordings/${rec.id}`, { token: server.adminToken }), 409, 'conflict',
    undefined, 'DELETE the recording while it is live');
  const whileLive = await recordings(w.id);
  assert.equal(whileLive.length, 1, `still one recording while resumed: ${JSON.stringify(whileLive)}`);
  assert.equal(whileLive[0].ended_at, null, 'ended_at null while live');
  const ex2 = await again.exited;
  assert.equal(ex2.code, 0, `second publish finished cleanly: ${JSON.stringify(ex2)} ${again.stderr()}`);
  await watcher.next(isStatus(false), 5000);

  const list2 = await waitForRecordings(w.id, (l) => l.length === 1 && l[0].ended_at !== null, 'ended recording after resume');
  const rec2 = list2[0];
  assert.equal(rec2.id, rec.id, 'the same recording continues');
  assert.equal(rec2.session, 1);
  assert.equal(rec2.started_at, rec.started_at);
  const added = rec2.duration_ms - rec.duration_ms;
  assert.ok(Math.abs(added - 4000) <= 1000, `the 4 s resumed publish added ${added} ms ≈ 4000 ± 1000: ${JSON.stringify(rec)} -> ${JSON.stringify(rec2)}`);
  strict.push([{ ...rec2, duration_ms: added }, 4, 'the resumed 4 s publish']);
  assert.ok(rec2.segments > rec.segments, `more segments: ${rec.segments} -> ${rec2.segments}`);
  const vod2 = await get(vodUrl);
  assert.equal(vod2.status, 200);
  assert.equal((vod2.text.match(/#EXT-X-DISCONTINUITY\n/g) ?? []).length, 1, `one discontinuity before the resumed part:\n${vod2.text}`);
  assert.match(vod2.text, /#EXT-X-ENDLIST\s*$/);
  const probe2 = await ffprobe(vodUrl, 'format=duration');
  assert.ok(Math.abs(Number(probe2.format.duration) - rec2.duration_ms / 1000) <= 1,
    `ffprobe resumed VOD duration ${probe2.format.duration} ≈ ${rec2.duration_ms / 1000} ± 1`);
  assert.ok(Number(probe2.format.duration) > Number(probe.format.duration) + 2, 'the resumed VOD plays longer');

  // DELETE: organizer only; then the playlist and files are gone.
  assertError(await api(server, 'DELETE', `/api/webinars/${w.id}/recordings/${rec.id}`, { token: person.token }), 403, 'forbidden',
    undefined, 'DELETE a recording with a registrant token');
  const del = await api(server, 'DELETE', `/api/webinars/${w.id}/recordings/${rec.id}`, { token: server.adminToken });
  assert.equal(del.status, 204, JSON.stringify(del.body));
  assertError(await get(vodUrl), 404, 'not_found', undefined, 'VOD playlist after DELETE');
  assert.equal((await get(seg.href)).status, 404, 'a replay segment after DELETE');
  assert.deepEqual(await recordings(w.id), []);
  assertError(await api(server, 'DELETE', `/api/webinars/${w.id}/recordings/${rec.id}`, { token: server.adminToken }), 404, 'not_found',
    undefined, 'DELETE it again');
  for (const [r, secs, what] of strict) await keepsLastSegment(t, r, secs, what);
});

test('ad hoc: publishes outside every session window record with session null (three webinars at once); per input, '
  + '4:2:0 H.264 passes through and 4:4:4 H.264 is transcoded to yuv420p', async (t) => {
  const SECONDS = 4;
  const setups = await Promise.all([0, 1, 2].map(async () => {
    const w = await newWebinar();  // sessions in 2036
    const person = await register(w.id);
    return { w, person, key: await newKey(w.id) };
  }));
  const [first] = setups;
  const watcher = await join(first.person.token, 'ad-hoc watcher');
  const [, , fourFourFour] = setups;
  for (const x of setups) x.pub = publish(x.key, SECONDS, server, { pixFmt: x === fourFourFour ? 'yuv444p' : 'yuv420p' });
  await Promise.all(setups.map((x) => waitForPlaylist(x.w.id, x.person.token, 10_000)));
  // streaming.video = "auto" (the default): the relay reads each publish's first video message.
  for (const x of setups) {
    const line = x === fourFourFour ? 'sends H.264 profile 244: transcoding to H.264 yuv420p' : 'sends H.264 profile 100: passing it through';
    assert.ok(server.stderr.includes(`rtmp: webinar ${x.w.id} ${line}`), `"webinar ${x.w.id} ${line}" in the log:\n${server.stderr.slice(-3000)}`);
  }

  const started = await watcher.next(isStatus(true), 5000);
  assert.equal(started.session, null, JSON.stringify(started));
  for (const x of setups) {
    const st = await streamStatus(x.w.id);
    assert.equal(st.live, true, JSON.stringify(st));
    assert.equal(st.session, null, JSON.stringify(st));
  }
  for (const x of setups) {
    const ex = await x.pub.exited;
    assert.equal(ex.code, 0, `publisher finished cleanly: ${JSON.stringify(ex)} ${x.pub.stderr()}`);
  }
  const ended = await watcher.next(isStatus(false), 5000);
  assert.equal(ended.session, null);
  assert.equal(ended.started_at, started.started_at);

  const recs = [];
  for (const x of setups) {
    const [rec, ...more] = await waitForRecordings(x.w.id, (l) => l.length >= 1 && l[0].ended_at !== null, 'ended ad-hoc recording');
    assert.deepEqual(more, [], 'one recording');
    assert.equal(rec.session, null, JSON.stringify(rec));
    assert.match(rec.playlist, new RegExp(`^/replay/${x.w.id}/adhoc-\\d+/index\\.m3u8$`));
    assert.ok(Math.abs(rec.duration_ms - SECONDS * 1000) <= 1000, `duration_ms ${rec.duration_ms} ≈ ${SECONDS * 1000} ± 1000`);
    const vod = await get(`${server.url}${rec.playlist}?token=${encodeURIComponent(x.person.token)}`);
    assert.equal(vod.status, 200, vod.text);
    assert.match(vod.text, /#EXT-X-PLAYLIST-TYPE:VOD/);
    assert.match(vod.text, /#EXT-X-ENDLIST\s*$/);
    recs.push(rec);
    if (x === fourFourFour) {
      const probe = await ffprobe(`${server.url}${rec.playlist}?token=${encodeURIComponent(x.person.token)}`, 'stream=codec_name,pix_fmt,width,height');
      const video = probe.streams.find((v) => v.codec_name === 'h264');
      assert.deepEqual(video && { pix_fmt: video.pix_fmt, width: video.width, height: video.height },
        { pix_fmt: 'yuv420p', width: 640, height: 360 }, `4:4:4 input, transcoded: ${JSON.stringify(probe)}`);
      assert.ok(probe.streams.some((v) => v.codec_name === 'aac'), `an aac stream: ${JSON.stringify(probe)}`);
    }
  }
  await t.test(`each of the three ${SECONDS} s publishes keeps its last segment`, () => {
    assert.deepEqual(recs.map((r) => r.duration_ms >= SECONDS * 1000 - 100), [true, true, true],
      `duration_ms: ${recs.map((r) => r.duration_ms).join(', ')}`);
  });
});

test('streaming.extra_360p: index.m3u8 is a master playlist of the main rendition and a 640x360 transcode, both playable', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'cohort-360p-'));
  const cfg = path.join(dir, 'cohort.toml');
  writeFileSync(cfg, '[streaming]\nextra_360p = true\n');
  const s = await startServer({ args: ['--config', cfg] });
  extraServers.push(s);
  const w = await liveNowWebinar(s);
  const person = await register(w.id, s);
  const key = await newKey(w.id, s);
  const pub = publish(key, 8, s, { size: '854x480' });

  // The 360p rendition may be listed a moment after the main one.
  const deadline = Date.now() + 15_000;
  let master;
  for (;;) {
    master = await get(playlistUrl(w.id, person.token, s));
    if (master.status === 200 && master.text.includes('360p.m3u8')) break;
    assert.ok(Date.now() < deadline, `no master playlist with both renditions: ${master.status} ${master.text}\n${s.stderr.slice(-2000)}`);
    await sleep(200);
  }
  assert.equal(master.headers.get('cache-control'), 'no-cache');
  const variants = [...master.text.matchAll(/#EXT-X-STREAM-INF:([^\n]*)\n([^\n]+)/g)].map((m) => ({ attrs: m[1], uri: m[2] }));
  assert.deepEqual(variants.map((v) => v.uri.split('?')[0]), ['main.m3u8', '360p.m3u8'], master.text);
  for (const v of variants) assert.match(v.attrs, /^BANDWIDTH=[1-9]\d*\b/, master.text);
  assert.match(variants[1].attrs, /RESOLUTION=640x360/);

  // Each rendition's playlist needs the token, like index.m3u8; its segments are signed and served from memory.
  for (const v of variants) {
    const url = new URL(v.uri, playlistUrl(w.id, person.token, s));
    assertError(await get(new URL(url.pathname, url).href), 401, 'unauthorized', undefined, `${url.pathname} without a token`);
    const media = await get(url.href);
    assert.equal(media.status, 200, `${url.pathname}: ${media.text}`);
    assert.match(media.text, /#EXT-X-MAP:URI="[0-9a-f]+-init_[01]\.mp4\?exp=/);
    const seg = playlistUris(media.text, url.href).find((u) => /\.m4s$/.test(u.pathname));
    const r = await get(seg.href);
    assert.equal(r.status, 200, `${seg.pathname}: ${r.text.slice(0, 200)}`);
    assert.match(r.headers.get('content-type') ?? '', /^video\/mp4\b/);
  }

  // ffprobe reads the master: both variants, H.264 yuv420p, the main at the input's size.
  const probe = await ffprobe(playlistUrl(w.id, person.token, s), 'stream=codec_name,pix_fmt,width,height');
  const videos = probe.streams.filter((x) => x.codec_name === 'h264').map((x) => `${x.width}x${x.height} ${x.pix_fmt}`).sort();
  assert.deepEqual(videos, ['640x360 yuv420p', '854x480 yuv420p'], JSON.stringify(probe));
  assert.equal((await streamStatus(w.id, s)).viewers, 1, 'one person, however many playlists it fetched');

  const ex = await pub.exited;
  assert.equal(ex.code, 0, `publisher finished cleanly: ${JSON.stringify(ex)} ${pub.stderr()}`);
  await s.stop();
  s.cleanup();
  extraServers.splice(extraServers.indexOf(s), 1);
  rmSync(dir, { recursive: true, force: true });
});

test('deleting a series while it is live stops the stream and leaves none of its recordings on disk', async () => {
  const w = await newWebinar();
  const key = await newKey(w.id);
  const pub = publish(key, 20);
  await waitForPlaylist(w.id, server.adminToken);
  const folder = path.join(server.dataDir, 'recordings', String(w.id));
  assert.ok(existsSync(folder), `the live recording is written to ${folder}`);
  const res = await api(server, 'DELETE', `/api/webinars/${w.id}`, { token: server.adminToken });
  assert.equal(res.status, 204, JSON.stringify(res.body));
  // ffmpeg is stopped at once: the publisher's connection ends long before its 20 s.
  const { ms } = await Promise.race([pub.exited, sleep(8000).then(() => ({ ms: null }))]);
  assert.ok(ms !== null && ms < 15000, `the publisher was cut off (ran ${ms} ms)`);
  for (const end = Date.now() + 5000; existsSync(folder) && Date.now() < end;) await sleep(100);
  assert.equal(existsSync(folder), false, `${folder} removed`);
  assert.equal((await get(playlistUrl(w.id, server.adminToken))).status, 404);
});

test('SIGTERM while a publish runs: the server exits 0 within 5 s and leaves no ffmpeg behind', async () => {
  const s = await startServer();
  extraServers.push(s);
  const w = await liveNowWebinar(s);
  const person = await register(w.id, s);
  const key = await newKey(w.id, s);
  const pub = publish(key, 30, s);
  await waitForPlaylist(w.id, person.token, 10_000, s);

  const kids = processes().filter((p) => p.ppid === s.proc.pid && /ffmpeg/.test(p.args));
  assert.ok(kids.length >= 1, `the server runs an ffmpeg child while live: ${JSON.stringify(processes().filter((p) => p.ppid === s.proc.pid))}`);
  const ports = kids.map((k) => /rtmp:\/\/127\.0\.0\.1:(\d+)\//.exec(k.args)?.[1]).filter(Boolean);
  assert.ok(ports.length >= 1, `the ffmpeg child listens on a private rtmp port: ${JSON.stringify(kids)}`);

  const t0 = Date.now();
  s.proc.kill('SIGTERM');
  const res = await Promise.race([s.exited, sleep(5000).then(() => null)]);
  assert.ok(res, `server still running 5 s after SIGTERM; stderr tail:\n${s.stderr.slice(-1500)}`);
  assert.deepEqual(res, { code: 0, signal: null }, `exit status after SIGTERM (${Date.now() - t0} ms)`);

  await sleep(300);
  const left = kids.filter((k) => alive(k.pid));
  assert.deepEqual(left.map((k) => k.args), [], 'no ffmpeg child of the server is left running');
  for (const port of ports) {
    const stray = processes().filter((p) => p.args.includes(`rtmp://127.0.0.1:${port}`) && p.stat[0] !== 'Z' && p.pid !== pub.proc.pid);
    assert.deepEqual(stray.map((p) => `${p.pid} ${p.args}`), [], `no process still on the private port ${port}`);
  }
  const pex = await Promise.race([pub.exited, sleep(5000).then(() => null)]);
  assert.ok(pex, 'the publisher notices the server is gone');
  s.cleanup();
  extraServers.splice(extraServers.indexOf(s), 1);
});
