// Live streaming for fault tests: a series with a session on now and a stream key, a real ffmpeg publisher
// (testsrc2 + sine over RTMP, the OBS side), the server's own ffmpeg children found by parent pid through /proc
// (never by name alone: other tests run ffmpeg too), and waits on the live playlist and the recording.
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { promisify } from 'node:util';
import path from 'node:path';
import { api } from './server.mjs';
import { sleep } from './http.mjs';

const run = promisify(execFile);
export const rfc3339 = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export function rtmpPort(s) {
  const m = /rtmp ingest on rtmp:\/\/127\.0\.0\.1:(\d+)\/live/.exec(s.stdout);
  assert.ok(m, `no rtmp ingest line on stdout:\n${s.stdout}`);
  return Number(m[1]);
}

// The publisher: `seconds` of 320x240 H.264 + AAC at real time. exited resolves with { code, signal }.
export function publish(s, key, seconds = 60) {
  const proc = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=30',
    '-f', 'lavfi', '-i', 'sine', '-t', String(seconds), '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-preset', 'veryfast',
    '-tune', 'zerolatency', '-g', '30', '-c:a', 'aac', '-f', 'flv', `rtmp://127.0.0.1:${rtmpPort(s)}/live/${key}`], { stdio: 'ignore' });
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  return {
    proc, exited,
    kill() { if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL'); return exited; },
  };
}

// A series whose session 1 is on now, a registrant, a stream key.
export async function liveSetup(s, title = 'Fault matrix, streaming') {
  const w = await api(s, 'POST', '/api/webinars', {
    token: s.adminToken,
    body: { title, description: '', capacity: null, sessions: [{ starts_at: rfc3339(Date.now() - 5 * 60_000), duration_minutes: 60 }] },
  });
  assert.equal(w.status, 201, JSON.stringify(w.body));
  const reg = await api(s, 'POST', `/api/webinars/${w.body.id}/registrations`,
    { body: { name: 'Viewer', email: `viewer-${process.pid}-${Date.now()}@example.com`, consent: true } });
  assert.equal(reg.status, 201, JSON.stringify(reg.body));
  const key = await api(s, 'POST', `/api/webinars/${w.body.id}/stream-key`, { token: s.adminToken, headers: { 'content-length': '0' } });
  assert.equal(key.status, 201, JSON.stringify(key.body));
  return { id: w.body.id, token: reg.body.token, key: key.body.stream_key };
}

// The server's live ffmpeg children (zombies not counted), from the kernel's list of each thread's children.
export function ffmpegChildren(pid) {
  const out = [];
  let tasks = [];
  try { tasks = readdirSync(`/proc/${pid}/task`); } catch { return out; }
  for (const t of tasks) {
    let kids = '';
    try { kids = readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8'); } catch { continue; }
    for (const kid of kids.split(' ').filter(Boolean)) {
      try {
        const stat = readFileSync(`/proc/${kid}/stat`, 'utf8');
        const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        const state = stat.slice(stat.lastIndexOf(')') + 2)[0];
        if (name === 'ffmpeg' && state !== 'Z') out.push(Number(kid));
      } catch { /* already gone */ }
    }
  }
  return out;
}

// The live playlist answers 200 to the registrant; returns its text.
export async function waitForLive(s, webinarId, token, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(`${s.url}/live/${webinarId}/index.m3u8?token=${encodeURIComponent(token)}`);
    const text = await res.text();
    if (res.status === 200) return text;
    assert.ok(Date.now() < deadline, `not live within ${timeoutMs} ms; stderr:\n${s.stderr.slice(-1500)}`);
    await sleep(200);
  }
}

// The recording on disk of session 1 lists at least `n` segments; returns the count.
export async function waitForRecordedSegments(s, webinarId, n, timeoutMs = 20_000) {
  const file = path.join(s.dataDir, 'recordings', String(webinarId), '1', 'index.m3u8');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const count = recordedSegments(file);
    if (count >= n) return count;
    assert.ok(Date.now() < deadline, `fewer than ${n} recorded segments within ${timeoutMs} ms; stderr:\n${s.stderr.slice(-1500)}`);
    await sleep(200);
  }
}

export function recordedSegments(file) {
  try { return existsSync(file) ? (readFileSync(file, 'utf8').match(/^#EXTINF/gm) ?? []).length : 0; } catch { return 0; }
}

// The webinar's recordings once every one is closed (ended_at set: the close goes through the write queue).
export async function closedRecordings(s, webinarId, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await api(s, 'GET', `/api/webinars/${webinarId}/recordings`, { token: s.adminToken });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const list = res.body.recordings;
    if (list.length > 0 && list.every((r) => r.ended_at !== null)) return list;
    assert.ok(Date.now() < deadline, `no closed recording within ${timeoutMs} ms: ${JSON.stringify(list)}; stderr:\n${s.stderr.slice(-1500)}`);
    await sleep(100);
  }
}

// The replay through the HTTP API: the playlist ends with #EXT-X-ENDLIST and ffprobe reads it (signed segment
// URIs included). Returns { playlist, segments, seconds } (seconds: ffprobe's duration).
export async function probeReplay(s, rec, token) {
  const url = `${s.url}${rec.playlist}?token=${encodeURIComponent(token)}`;
  const res = await fetch(url);
  const playlist = await res.text();
  assert.equal(res.status, 200, playlist);
  assert.match(playlist, /#EXT-X-ENDLIST\s*$/, 'the replay playlist is closed');
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'json', url], { timeout: 30_000 });
  const seconds = Number(JSON.parse(stdout).format.duration);
  assert.ok(seconds > 0, `ffprobe duration ${stdout}`);
  return { playlist, segments: (playlist.match(/^#EXTINF/gm) ?? []).length, seconds };
}

// A live segment of the current publish is served (its URI from the live playlist, signed); returns its URL.
export async function fetchLiveSegment(s, webinarId, token) {
  const base = `${s.url}/live/${webinarId}/index.m3u8?token=${encodeURIComponent(token)}`;
  const text = await waitForLive(s, webinarId, token);
  const uri = text.split('\n').find((l) => l && !l.startsWith('#'));
  assert.ok(uri, `a segment in the live playlist:\n${text}`);
  const seg = new URL(uri, base);
  const res = await fetch(seg);
  const bytes = Buffer.from(await res.arrayBuffer());
  assert.equal(res.status, 200, `live segment ${seg.pathname}: ${res.status}`);
  assert.ok(bytes.length > 0, 'a non-empty segment');
  return seg.pathname;
}
