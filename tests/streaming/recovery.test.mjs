// A stream that ends without its publisher leaving (issue 12, item 9), against a real build/cohort and a real ffmpeg
// publisher: after kill -9 mid-publish and a restart the recording is closed at the segments on disk (it plays, and
// DELETE answers 204, not 409 for ever); a SIGTERM mid-publish closes the recording and tells the room the stream
// ended; with Redis, a restart after kill -9 does not leave the room saying live.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { startServer, api } from '../support/server.mjs';
import { startRedis } from '../support/redis.mjs';
import { sleep } from '../support/http.mjs';
import { connect } from '../support/ws.mjs';

const rfc3339 = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const cleanups = [];
after(async () => { for (const c of cleanups.reverse()) await c(); });

function publish(s, key, seconds) {
  const port = Number(/rtmp ingest on rtmp:\/\/127\.0\.0\.1:(\d+)\/live/.exec(s.stdout)[1]);
  const proc = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=30',
    '-f', 'lavfi', '-i', 'sine', '-t', String(seconds), '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-preset', 'veryfast',
    '-tune', 'zerolatency', '-g', '30', '-c:a', 'aac', '-f', 'flv', `rtmp://127.0.0.1:${port}/live/${key}`], { stdio: 'ignore' });
  const kill = () => { if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL'); };
  cleanups.push(kill);
  return { proc, kill };
}

// A series whose session 1 is on now, a registrant, a stream key.
async function liveSetup(s) {
  const w = await api(s, 'POST', '/api/webinars', {
    token: s.adminToken,
    body: { title: 'Recovery', description: '', capacity: null, sessions: [{ starts_at: rfc3339(Date.now() - 5 * 60_000), duration_minutes: 60 }] },
  });
  assert.equal(w.status, 201, JSON.stringify(w.body));
  const reg = await api(s, 'POST', `/api/webinars/${w.body.id}/registrations`,
    { body: { name: 'Ada', email: `recovery-${Date.now()}-${Math.random()}@example.com`, consent: true } });
  assert.equal(reg.status, 201, JSON.stringify(reg.body));
  const key = await api(s, 'POST', `/api/webinars/${w.body.id}/stream-key`, { token: s.adminToken, headers: { 'content-length': '0' } });
  assert.equal(key.status, 201, JSON.stringify(key.body));
  return { id: w.body.id, token: reg.body.token, key: key.body.stream_key };
}

// Waits until the recording on disk lists at least `n` segments (what a crash leaves behind).
async function waitForRecordedSegments(s, webinarId, n, timeoutMs = 20_000) {
  const file = path.join(s.dataDir, 'recordings', String(webinarId), '1', 'index.m3u8');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const count = existsSync(file) ? (readFileSync(file, 'utf8').match(/^#EXTINF/gm) ?? []).length : 0;
    if (count >= n) return count;
    assert.ok(Date.now() < deadline, `fewer than ${n} recorded segments within ${timeoutMs} ms; stderr:\n${s.stderr.slice(-1500)}`);
    await sleep(200);
  }
}

async function waitForLive(s, webinarId, token, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(`${s.url}/live/${webinarId}/index.m3u8?token=${encodeURIComponent(token)}`);
    await res.arrayBuffer();
    if (res.status === 200) return;
    assert.ok(Date.now() < deadline, `not live within ${timeoutMs} ms; stderr:\n${s.stderr.slice(-1500)}`);
    await sleep(200);
  }
}

const recordingsOf = async (s, webinarId) => {
  const res = await api(s, 'GET', `/api/webinars/${webinarId}/recordings`, { token: s.adminToken });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.recordings;
};

test('kill -9 mid-publish, restart: the recording is closed at its segments on disk, plays, and DELETE answers 204', async () => {
  const s = await startServer();
  cleanups.push(async () => { await s.kill(); });
  const w = await liveSetup(s);
  const pub = publish(s, w.key, 30);
  await waitForLive(s, w.id, w.token);
  const onDisk = await waitForRecordedSegments(s, w.id, 2);
  await s.kill();
  pub.kill();

  const again = await startServer({ dataDir: s.dataDir, adminToken: s.adminToken });
  cleanups.push(async () => { await again.kill(); again.cleanup(); });
  // Closed at start-up, through the write queue: give it a moment.
  const deadline = Date.now() + 5000;
  let rec;
  for (;;) {
    [rec] = await recordingsOf(again, w.id);
    assert.ok(rec, 'the recording is listed');
    if (rec.ended_at !== null || Date.now() > deadline) break;
    await sleep(100);
  }
  assert.notEqual(rec.ended_at, null, `the recording is closed: ${JSON.stringify(rec)}; stderr:\n${again.stderr.slice(-1500)}`);
  assert.ok(rec.segments >= onDisk, `segments counted from disk (${onDisk} there): ${JSON.stringify(rec)}`);
  assert.ok(rec.duration_ms > 0, JSON.stringify(rec));
  assert.ok(Date.parse(rec.ended_at) >= Date.parse(rec.started_at), JSON.stringify(rec));

  const playlist = await fetch(`${again.url}${rec.playlist}?token=${encodeURIComponent(w.token)}`);
  const text = await playlist.text();
  assert.equal(playlist.status, 200, text);
  assert.match(text, /#EXT-X-ENDLIST/);
  const live = await api(again, 'GET', `/api/webinars/${w.id}/stream`);
  assert.equal(live.body.live, false);

  const del = await api(again, 'DELETE', `/api/webinars/${w.id}/recordings/${rec.id}`, { token: again.adminToken });
  assert.equal(del.status, 204, JSON.stringify(del.body));
  assert.deepEqual(await recordingsOf(again, w.id), []);
});

test('SIGTERM mid-publish: the room hears the stream ended and the recording is closed before the server exits', async () => {
  const s = await startServer();
  cleanups.push(async () => { await s.kill(); s.cleanup(); });
  const w = await liveSetup(s);
  const viewer = await connect(s, { token: w.token, label: 'viewer' });
  await viewer.next('hello');
  const pub = publish(s, w.key, 30);
  await waitForLive(s, w.id, w.token);
  await waitForRecordedSegments(s, w.id, 2);
  await viewer.next((m) => m.type === 'stream.status' && m.live === true, 5000);

  const status = await s.stop();
  pub.kill();
  assert.deepEqual(status, { code: 0, signal: null });
  // Taken from what arrived before the close (next() looks at the received ones first).
  await viewer.next((m) => m.type === 'stream.status' && m.live === false, 3000);
  viewer.ws.close();

  // Straight from the database, with no restart (which would close it anyway).
  const row = execFileSync('sqlite3', [path.join(s.dataDir, 'cohort.db'),
    `SELECT ended_at IS NOT NULL, segments, duration_ms FROM recordings WHERE webinar_id = ${w.id}`]).toString().trim();
  const [closed, segments, durationMs] = row.split('|').map(Number);
  assert.equal(closed, 1, `recording row: ${row}`);
  assert.ok(segments > 0 && durationMs > 0, `recording row: ${row}`);
});

test('with Redis: kill -9 mid-publish and a restart leave no room saying live', async () => {
  const redis = await startRedis();
  cleanups.push(() => redis.stop());
  const args = ['--redis', redis.url];
  const s = await startServer({ args });
  cleanups.push(async () => { await s.kill(); });
  const w = await liveSetup(s);
  const pub = publish(s, w.key, 30);
  await waitForLive(s, w.id, w.token);
  const before = await connect(s, { token: w.token, label: 'before' });
  await before.next('hello');
  await before.next((m) => m.type === 'stream.status' && m.live === true, 5000);
  await s.kill();
  pub.kill();
  before.ws.close();

  const again = await startServer({ args, dataDir: s.dataDir, adminToken: s.adminToken });
  cleanups.push(async () => { await again.kill(); again.cleanup(); });
  // The bus connects and re-publishes after start: give it a moment, then a newcomer must not be told live.
  const deadline = Date.now() + 10_000;
  while (!(await fetch(`${again.url}/readyz`).then((r) => r.ok, () => false)) && Date.now() < deadline) await sleep(100);
  await sleep(1000);
  const viewer = await connect(again, { token: w.token, label: 'after restart' });
  await viewer.next('hello');
  await sleep(1500);
  const statuses = viewer.received.filter((m) => m.type === 'stream.status');
  assert.ok(statuses.length === 0 || statuses.at(-1).live === false,
    `after the restart the room does not say live: ${JSON.stringify(statuses)}`);
  await viewer.close();
});
