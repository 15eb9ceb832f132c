// Fault matrix, the data directory runs out of space: a real build/cohort whose data dir is a small tmpfs this test
// mounts (root, as in CI), filled to the last byte by a filler file while a registrant watches a live publish. Then:
// signups and a drop's file upload answer 507 `storage_full` (the one JSON error shape) and keep nothing; the
// recording stops at what is on disk with a log line while the live stream goes on; a drop falling due is not
// announced (its release cannot commit); /readyz says 503. The filler is deleted and, without a restart, a signup is
// 201 and its confirmation mail is written, the upload works, the drop goes out once, the recording closes at what is
// on disk and plays, and the next publish records. Then the disk is filled again and the server gets SIGTERM: exit 0
// within the documented 5 s, and after a restart every acknowledged signup is there, none of the refused ones, the
// seat count agrees, every recording is closed, `PRAGMA integrity_check` ok.
// Prints one `faults:` line (sent / acknowledged / found, and the statuses seen). About 20 s on a loaded 2-core
// machine; the mount is removed in the finally, whatever failed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, writeFileSync, readdirSync, readFileSync, existsSync, openSync, writeSync, closeSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServer, api } from '../support/server.mjs';
import { sleep, until, assertError } from '../support/http.mjs';
import { connect } from '../support/ws.mjs';

const run = promisify(execFile);
const rfc3339 = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

// Writes a filler file until the file system refuses another byte (ENOSPC); returns its path and size.
function fill(dir) {
  const file = path.join(dir, 'filler');
  const fd = openSync(file, 'a');
  const block = Buffer.alloc(1 << 20, 0x5a);
  let bytes = 0;
  try {
    for (let size = block.length; size >= 256; size >>= 1) {
      for (;;) {
        try { bytes += writeSync(fd, block, 0, size); } catch (err) {
          if (err.code !== 'ENOSPC') throw err;
          break;
        }
      }
    }
  } finally { closeSync(fd); }
  return { file, bytes };
}

function publish(s, key, seconds) {
  const port = Number(/rtmp ingest on rtmp:\/\/127\.0\.0\.1:(\d+)\/live/.exec(s.stdout)[1]);
  const proc = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=30',
    '-f', 'lavfi', '-i', 'sine', '-t', String(seconds), '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-preset', 'veryfast',
    '-tune', 'zerolatency', '-g', '30', '-c:a', 'aac', '-f', 'flv', `rtmp://127.0.0.1:${port}/live/${key}`], { stdio: 'ignore' });
  return {
    proc,
    exited: new Promise((resolve) => proc.on('exit', resolve)),
    kill() { if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL'); },
  };
}

// The segments the recording's VOD playlist lists on disk (recordings/<webinar>/<dir>/index.m3u8, every dir).
function recordedSegments(dataDir, webinarId) {
  const root = path.join(dataDir, 'recordings', String(webinarId));
  if (!existsSync(root)) return 0;
  let n = 0;
  for (const d of readdirSync(root)) {
    const file = path.join(root, d, 'index.m3u8');
    if (existsSync(file)) n += (readFileSync(file, 'utf8').match(/^#EXTINF/gm) ?? []).length;
  }
  return n;
}

// Every file under dir whose name says it is half-written: a temporary (.tmp) or an upload's spool file.
const leftovers = (dir) => readdirSync(dir, { recursive: true }).filter((p) => /\.tmp/.test(p) || p.startsWith('uploads/'));

async function listAll(s, webinarId) {
  const res = await api(s, 'GET', `/api/webinars/${webinarId}/registrations?limit=500`, { token: s.adminToken });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.body.next_after, null);
  return res.body.registrations;
}

const outboxNames = (dataDir) => (existsSync(path.join(dataDir, 'outbox')) ? readdirSync(path.join(dataDir, 'outbox')) : []);
const mailTo = (dataDir, email) => outboxNames(dataDir).filter((n) => n.endsWith('.eml'))
  .some((n) => readFileSync(path.join(dataDir, 'outbox', n), 'utf8').toLowerCase().includes(email.toLowerCase()));

test('the data directory runs out of space: 507 and nothing half-written, everything works again without a restart, SIGTERM while full loses nothing', { timeout: 120_000, skip: process.getuid?.() !== 0 && 'needs root to mount a tmpfs (CI runs as root)' }, async () => {
  const mountDir = mkdtempSync(path.join(tmpdir(), 'cohort-disk-full-'));
  const configDir = mkdtempSync(path.join(tmpdir(), 'cohort-disk-full-config-'));
  const config = path.join(configDir, 'cohort.toml');
  writeFileSync(config, '[email]\nretry_first_seconds = 1\n\n[registration]\nseries_per_minute = 0\n');
  let mounted = false;
  let s, s2, pub, pub2, viewer, filler;
  try {
    // 32 MiB: the server, a few seconds of recording and the outbox fit; the filler takes the rest in well under 1 s.
    await run('mount', ['-t', 'tmpfs', '-o', 'size=32m', 'tmpfs', mountDir]);
    mounted = true;
    const dataDir = path.join(mountDir, 'data');
    s = await startServer({ dataDir, args: ['--config', config] });

    const w = (await api(s, 'POST', '/api/webinars', { token: s.adminToken, body: {
      title: 'Disk full', description: '', capacity: 100, sessions: [{ starts_at: rfc3339(Date.now() - 5 * 60_000), duration_minutes: 60 }] } })).body;
    assert.ok(w.id, 'webinar created');
    const sent = [], acked = [], refused = [], statuses = {};
    const signup = async (email) => {
      sent.push(email);
      const res = await api(s, 'POST', `/api/webinars/${w.id}/registrations`, { body: { name: 'Disk', email, consent: true } });
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      if (res.status === 201) acked.push({ id: res.body.id, email, token: res.body.token });
      else refused.push({ email, res });
      return res;
    };
    for (let i = 0; i < 3; i++) assert.equal((await signup(`before-${i}@example.com`)).status, 201);
    const drop = await api(s, 'POST', `/api/webinars/${w.id}/drops`, { token: s.adminToken, body: { title: 'Slides', release_at: '2036-06-01T18:00:00Z' } });
    assert.equal(drop.status, 201, JSON.stringify(drop.body));
    const putFile = (bytes) => api(s, 'PUT', `/api/webinars/${w.id}/drops/${drop.body.id}/file?filename=slides.pdf`,
      { token: s.adminToken, raw: bytes, headers: { 'content-type': 'application/pdf' } });
    const key = await api(s, 'POST', `/api/webinars/${w.id}/stream-key`, { token: s.adminToken, headers: { 'content-length': '0' } });
    assert.equal(key.status, 201, JSON.stringify(key.body));

    viewer = await connect(s, { token: acked[0].token, label: 'viewer' });
    await viewer.next('hello');
    pub = publish(s, key.body.stream_key, 60);
    await viewer.next((m) => m.type === 'stream.status' && m.live === true, 20_000);
    await until('2 recorded segments', 20_000, () => recordedSegments(dataDir, w.id) >= 2);
    const mailBefore = await until('confirmations of the first signups written', 15_000, () => acked.every((a) => mailTo(dataDir, a.email)));
    assert.ok(mailBefore);

    // A drop falls due while the disk is full: its release cannot commit, so no one may be told of it yet.
    const dueAt = Math.ceil((Date.now() + 4000) / 1000) * 1000;
    const due = await api(s, 'POST', `/api/webinars/${w.id}/drops`, { token: s.adminToken, body: { title: 'Due while full', release_at: rfc3339(dueAt) } });
    assert.equal(due.status, 201, JSON.stringify(due.body));
    const dropEvents = () => viewer.received.filter((m) => m.type === 'drop' && m.drop.id === due.body.id);

    // --- full ---
    filler = fill(mountDir);
    const fillerBytes = filler.bytes;
    assert.ok(Date.now() < dueAt - 500, 'the disk was filled too late for the drop due while full (a loaded machine?)');
    const full = [];
    for (let i = 0; i < 4; i++) full.push(await signup(`full-${i}@example.com`));
    for (const res of full) assertError(res, 507, 'storage_full', undefined, 'signup on a full disk');
    const upload = await putFile(Buffer.alloc(512 * 1024, 0x25));
    assertError(upload, 507, 'storage_full', undefined, 'upload on a full disk');
    statuses[`upload ${upload.status}`] = 1;
    // The spool goes once the answer is written: give it a moment.
    await until('no half-written files on the full disk', 3000, () => leftovers(dataDir).length === 0)
      .catch((err) => { throw new Error(`${err.message}: ${leftovers(dataDir).join(', ')}`); });
    await until('the recording stops with a log line', 15_000, () => /recording of webinar \d+ stopped at what is on disk/.test(s.stderr));
    const segmentsAtStop = recordedSegments(dataDir, w.id);
    const ready = await fetch(`${s.url}/readyz`);
    const readyFull = ready.status;
    await ready.text();
    // The live stream goes on from memory: still live for the viewer, the live playlist answers.
    const live = await fetch(`${s.url}/live/${w.id}/index.m3u8?token=${encodeURIComponent(acked[0].token)}`);
    assert.equal(live.status, 200, 'the live playlist while the disk is full');
    await live.arrayBuffer();
    assert.equal(viewer.received.filter((m) => m.type === 'stream.status').at(-1).live, true, 'the viewer is still told live');
    assert.equal(s.proc.exitCode, null, 'the server is still running');

    while (Date.now() < dueAt + 2000) await sleep(100);
    assert.deepEqual(dropEvents(), [], 'a drop whose release could not be committed was announced');

    // --- space returns, no restart ---
    unlinkSync(filler.file);
    const back = await signup('back@example.com');
    assert.equal(back.status, 201, JSON.stringify(back.body));
    const uploaded = await putFile(Buffer.alloc(512 * 1024, 0x25));
    assert.equal(uploaded.status, 200, JSON.stringify(uploaded.body));
    assert.equal(uploaded.body.file.size, 512 * 1024);
    const readyBack = await until('/readyz 200 again', 5000, async () => { const r = await fetch(`${s.url}/readyz`); await r.text(); return r.status === 200 && r.status; });
    await until('the confirmation of the signup after space returned written', 15_000, () => mailTo(dataDir, 'back@example.com'));
    // The drop goes out now, once, at the time the database says.
    await until('the drop due while full released', 10_000, () => dropEvents().length > 0);
    await sleep(1500);
    const dueRow = (await api(s, 'GET', `/api/webinars/${w.id}/drops`, { token: s.adminToken })).body.drops.find((d) => d.id === due.body.id);
    assert.equal(dueRow.state, 'released');
    assert.deepEqual(dropEvents().map((m) => m.drop.released_at), [dueRow.released_at], 'the drop due while full: one event, at the committed time');
    // The publish ends: the viewer is told, the recording is closed at what is on disk and plays.
    pub.kill();
    await viewer.next((m) => m.type === 'stream.status' && m.live === false, 10_000);
    const recs = await until('the recording closed', 10_000, async () => {
      const r = (await api(s, 'GET', `/api/webinars/${w.id}/recordings`, { token: s.adminToken })).body.recordings;
      return r.length && r.every((x) => x.ended_at !== null) && r;
    });
    assert.equal(recs[0].segments, segmentsAtStop, `the closed recording counts what is on disk: ${JSON.stringify(recs[0])}`);
    const vod = await fetch(`${s.url}${recs[0].playlist}?token=${encodeURIComponent(acked[0].token)}`);
    const vodText = await vod.text();
    assert.equal(vod.status, 200, vodText);
    assert.match(vodText, /#EXT-X-ENDLIST/);
    // The next publish records again.
    pub2 = publish(s, key.body.stream_key, 60);
    await until('the next publish records', 30_000, () => recordedSegments(dataDir, w.id) >= segmentsAtStop + 2);

    // --- full again, then SIGTERM ---
    filler = fill(mountDir);
    const again = await signup('full-again@example.com');
    assertError(again, 507, 'storage_full', undefined, 'signup on a full disk, second time');
    const stopStarted = Date.now();
    const exit = await s.stop();
    const stopMs = Date.now() - stopStarted;
    pub2.kill();
    viewer.terminate();
    assert.deepEqual(exit, { code: 0, signal: null }, `SIGTERM on a full disk: exit status\n${s.stderr.slice(-2000)}`);
    assert.ok(stopMs <= 5000, `SIGTERM on a full disk: exited after ${stopMs} ms, the documented limit is 5 s`);
    unlinkSync(filler.file);
    filler = null;

    // --- restart: nothing acknowledged lost, nothing refused kept ---
    s2 = await startServer({ dataDir, adminToken: s.adminToken, args: ['--config', config] });
    const stored = await listAll(s2, w.id);
    const found = new Map(stored.map((r) => [r.id, r.email]));
    const lost = acked.filter((a) => found.get(a.id) !== a.email).map((a) => a.email);
    assert.deepEqual(lost, [], 'acknowledged signups missing after the restart');
    const kept = stored.filter((r) => refused.some((x) => x.email === r.email)).map((r) => r.email);
    assert.deepEqual(kept, [], 'signups answered 507 are in the list');
    assert.equal(stored.length, acked.length);
    const webinar = (await api(s2, 'GET', `/api/webinars/${w.id}`)).body;
    assert.equal(webinar.seats_left, 100 - acked.length, `seats left: ${JSON.stringify(webinar)}`);
    const recsAfter = await until('every recording closed after the restart', 10_000, async () => {
      const r = (await api(s2, 'GET', `/api/webinars/${w.id}/recordings`, { token: s2.adminToken })).body.recordings;
      return r.every((x) => x.ended_at !== null) && r;
    });
    assert.deepEqual(await s2.stop(), { code: 0, signal: null });
    const { stdout } = await run('sqlite3', [path.join(dataDir, 'cohort.db'), 'PRAGMA integrity_check']);
    assert.equal(stdout.trim(), 'ok');
    assert.deepEqual(leftovers(dataDir), [], 'half-written files after the restart');

    console.log(`faults: data directory full (tmpfs 32 MiB, filler ${(fillerBytes / 2 ** 20).toFixed(1)} MiB): signups sent/acked/found ` +
      `${sent.length}/${acked.length}/${stored.length} (${refused.length} answered 507 storage_full, none kept); statuses ${JSON.stringify(statuses)}; ` +
      `upload 507 then 200; a drop due while full released once after; recording stopped at ${segmentsAtStop} segments, live stream went on, closed and playable, next publish recorded ` +
      `(${recsAfter.length} recording rows, all closed); /readyz ${readyFull} full, ${readyBack} after; mail resumed; ` +
      `SIGTERM while full: exit 0 after ${stopMs} ms; integrity ok`);
  } finally {
    pub?.kill();
    pub2?.kill();
    viewer?.terminate();
    if (s) await s.kill();
    if (s2) await s2.kill();
    if (mounted) await run('umount', [mountDir]).catch(() => run('umount', ['-l', mountDir]));
    rmSync(mountDir, { recursive: true, force: true });
    rmSync(configDir, { recursive: true, force: true });
  }
});
