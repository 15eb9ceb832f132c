// Fault matrix, primary: kill -9 DURING a live publish, with signups and chat at the same time (the live-publish
// part of the issue's mixed-load scenario; tests/faults/primary_crash.test.mjs has the rest of the load, and
// tests/streaming/recovery.test.mjs the bare kill -9 mid-publish: recording closed at its segments on disk,
// DELETE 204, no stale live:true through Redis). What this adds: the load around the publish, the replay played
// through the HTTP API after the restart (ffprobe) up to about the crash, and a new publish that works.
// Prints a `faults:` line. About 25 s on a loaded 2-core machine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServer, api } from '../support/server.mjs';
import { connect } from '../support/ws.mjs';
import { sleep, until } from '../support/http.mjs';
import { parseCsv } from '../support/csv.mjs';
import { publish, liveSetup, ffmpegChildren, waitForLive, waitForRecordedSegments, closedRecordings, probeReplay, fetchLiveSegment } from '../support/stream.mjs';

const run = promisify(execFile);

// Seconds of media the recording playlist on disk lists (what a crash leaves behind).
// A process that still runs (and is still an ffmpeg: pids are reused).
const alive = (pid) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.includes('(ffmpeg)') && stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch { return false; }
};

const listedSeconds = (file) => {
  try { return [...readFileSync(file, 'utf8').matchAll(/^#EXTINF:([\d.]+)/gm)].reduce((a, m) => a + Number(m[1]), 0); } catch { return 0; }
};

test('kill -9 of the primary during a live publish, signups and chat: nothing acknowledged lost, the recording plays up to the crash and is closed, a new publish works',
  { timeout: 120_000 }, async () => {
    const configDir = mkdtempSync(path.join(tmpdir(), 'cohort-faults-'));
    const config = path.join(configDir, 'cohort.toml');
    writeFileSync(config, '[registration]\nseries_per_minute = 0\n');
    const s = await startServer({ args: ['--config', config] });
    let s2;
    const sockets = [];
    const pubs = [];
    let orphans = [];  // the server's ffmpeg, which outlives a kill -9 of its parent (nothing kills it)
    try {
      const w = await liveSetup(s, 'Crash while live');
      const signupsAcked = [];
      let signupsSent = 0;
      const signup = async (name, email) => {
        signupsSent++;
        const res = await api(s, 'POST', `/api/webinars/${w.id}/registrations`, { body: { name, email, consent: true } });
        if (res.status !== 201) throw new Error(`signup ${email} answered ${res.status} ${JSON.stringify(res.body)}`);
        signupsAcked.push({ id: res.body.id, email });
        return res.body;
      };
      for (let i = 0; i < 3; i++) {
        const p = await signup(`Chatter ${i}`, `live-chatter${i}@example.com`);
        const c = await connect(s, { token: p.token, label: `chatter ${i}` });
        sockets.push(c);
        await c.next('hello');
      }

      const pub = publish(s, w.key, 60);
      pubs.push(pub);
      const publishedAt = Date.now();
      await waitForLive(s, w.id, w.token);
      await sockets[0].next((m) => m.type === 'stream.status' && m.live === true, 10_000);

      // The load, while live: 4 signup loops and each chatter one message every 750 ms, until the kill.
      let stop = false;
      const loadErrors = [];
      let n = 0;
      const signupLoop = async (c) => {
        while (!stop) {
          try { await signup(`Load ${c}`, `live-load-${c}-${n++}@example.com`); } catch (err) {
            if (!/fetch failed/i.test(String(err))) loadErrors.push(String(err));
            return;
          }
        }
      };
      let chatSent = 0;
      const chatLoop = async (c, i) => {
        for (let k = 0; !stop && c.isOpen; k++) {
          try { c.chat(`live message ${k} from ${i}`, { client_id: `l${i}-${k}` }); chatSent++; } catch { return; }
          await sleep(750);
        }
      };
      const loops = [...Array.from({ length: 4 }, (_, c) => signupLoop(c)), ...sockets.map((c, i) => chatLoop(c, i))];
      const chatAcked = () => sockets.flatMap((c) => c.received.filter((m) => m.type === 'chat.message' && m.client_id));
      const recordingFile = path.join(s.dataDir, 'recordings', String(w.id), '1', 'index.m3u8');
      await waitForRecordedSegments(s, w.id, 4);
      await until('20 signups and 9 chat messages acknowledged while live', 20_000,
        () => loadErrors.length || (signupsAcked.length >= 23 && chatAcked().length >= 9));
      assert.deepEqual(loadErrors, [], 'signups while live answered something other than 201');

      // --- kill -9 ---
      const onDiskSeconds = listedSeconds(recordingFile);
      orphans = ffmpegChildren(s.proc.pid);
      assert.equal(orphans.length, 1, `one ffmpeg child while live: ${orphans}`);
      const killedAt = Date.now();
      await s.kill();
      const liveSeconds = (killedAt - publishedAt) / 1000;
      stop = true;
      await Promise.all(loops);
      await pub.kill();
      for (const c of sockets) await c.closed;
      for (const c of sockets) c.assertHealthy();
      const acked = chatAcked();
      // Its input (the relay) and its output (the ingest server) died with the server: it ends on its own.
      const orphanGone = await until('the orphaned ffmpeg exits', 15_000, () => !alive(orphans[0]) && Date.now());
      const orphanMs = orphanGone - killedAt;

      // --- restart on the same data dir ---
      s2 = await startServer({ dataDir: s.dataDir, adminToken: s.adminToken, args: ['--config', config] });
      const stored = [];
      for (let after = null; ;) {
        const res = await api(s2, 'GET', `/api/webinars/${w.id}/registrations?limit=500${after ? `&after=${after}` : ''}`, { token: s2.adminToken });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        stored.push(...res.body.registrations);
        if (res.body.next_after === null) break;
        after = res.body.next_after;
      }
      const byId = new Map(stored.map((r) => [r.id, r.email]));
      const lostSignups = signupsAcked.filter((a) => byId.get(a.id) !== a.email);
      assert.deepEqual(lostSignups, [], 'acknowledged signups missing after kill -9 while live');
      const csv = await fetch(`${s2.url}/api/webinars/${w.id}/chat.csv`, { headers: { authorization: `Bearer ${s2.adminToken}` } });
      assert.equal(csv.status, 200);
      const transcript = new Map(parseCsv(await csv.text()).slice(1).map((r) => [r[1], r[6]]));
      const lostChat = acked.filter((m) => transcript.get(m.id) !== m.text).map((m) => m.id);
      assert.deepEqual(lostChat, [], 'echoed chat messages missing from the transcript after kill -9 while live');

      // The recording: closed at start-up, plays up to about the crash.
      const [rec] = await closedRecordings(s2, w.id);
      const replay = await probeReplay(s2, rec, w.token);
      assert.ok(replay.seconds >= onDiskSeconds - 0.5, `the replay (${replay.seconds} s) has what was on disk at the kill (${onDiskSeconds} s)`);
      assert.ok(replay.seconds <= liveSeconds + 1, `the replay (${replay.seconds} s) is no longer than the publish before the crash (${liveSeconds} s)`);
      const st = await api(s2, 'GET', `/api/webinars/${w.id}/stream`);
      assert.equal(st.body.live, false, JSON.stringify(st.body));

      // A new publish works after the restart.
      const viewer = await connect(s2, { token: w.token, label: 'viewer after restart' });
      sockets.push(viewer);
      await viewer.next('hello');
      const again = publish(s2, w.key, 60);
      pubs.push(again);
      await viewer.next((m) => m.type === 'stream.status' && m.live === true, 20_000);
      await fetchLiveSegment(s2, w.id, w.token);
      await again.kill();
      await viewer.next((m) => m.type === 'stream.status' && m.live === false, 10_000);
      await viewer.close();

      assert.deepEqual(await s2.stop(), { code: 0, signal: null });
      const { stdout } = await run('sqlite3', [path.join(s.dataDir, 'cohort.db'), 'PRAGMA integrity_check']);
      assert.equal(stdout.trim(), 'ok');
      console.log(`faults: kill -9 of the primary during a live publish + signups + chat: signups sent/acked/found ` +
        `${signupsSent}/${signupsAcked.length}/${signupsAcked.length - lostSignups.length}, chat ${chatSent}/${acked.length}/${acked.length - lostChat.length}; ` +
        `recording closed at start-up: ${rec.segments} segments, ffprobe ${replay.seconds.toFixed(1)} s of ${liveSeconds.toFixed(1)} s published before the kill ` +
        `(${onDiskSeconds.toFixed(1)} s on disk at the kill), ENDLIST; the orphaned ffmpeg exited ${orphanMs} ms after the kill; new publish live and served; integrity ok`);
    } finally {
      for (const c of sockets) c.terminate();
      for (const p of pubs) await p.kill();
      await s.kill();
      if (s2) await s2.kill();
      for (const pid of orphans) if (alive(pid)) process.kill(pid, 'SIGKILL');
      s.cleanup();
      rmSync(configDir, { recursive: true, force: true });
    }
  });
