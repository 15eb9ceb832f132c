// Fault matrix: SIGTERM during the faults the other files cover without one. README Operations: a stop exits 0
// within 5 s. Each test measures the exit (printed), restarts the primary on the same data dir and checks that
// nothing acknowledged before the signal is lost.
// - Redis paused (SIGSTOP) or killed, under chat on a primary and an edge: both nodes get SIGTERM once they noticed
//   (/readyz 503 on both); every echoed chat message is in the primary's transcript.
// - A live publish, with chat; and 200 ms after the server's ffmpeg was killed (inside the 1.5 s the ingest waits
//   for ffmpeg's last PUTs): the room hears live:false, the recording row is closed in the database before the
//   process exits (read with sqlite3, no restart) and plays after the restart; chat as above.
// (kill -9/SIGTERM of the primary under load: primary_crash.test.mjs; a bare SIGTERM mid-publish:
// tests/streaming/recovery.test.mjs.) About 12–15 s each on a loaded 2-core machine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { startServer, api, cohortBin } from '../support/server.mjs';
import { startRedis } from '../support/redis.mjs';
import { configFile, waitReady } from '../support/cluster.mjs';
import { connect } from '../support/ws.mjs';
import { sleep, until } from '../support/http.mjs';
import { parseCsv } from '../support/csv.mjs';
import { publish, liveSetup, ffmpegChildren, waitForLive, waitForRecordedSegments, probeReplay } from '../support/stream.mjs';

const STOP_LIMIT_MS = 5000;  // README, Operations: "exits 0 within 5 s"

// SIGTERM; resolves with { code, signal, ms }.
async function sigterm(s) {
  const t0 = Date.now();
  s.proc.kill('SIGTERM');
  const exit = await s.exited;
  return { ...exit, ms: Date.now() - t0 };
}

// Chatters: each sends one message every 750 ms (inside the flood limit) while connected; acked = the echoes.
function chatLoad(sockets) {
  let stopped = false;
  let sent = 0;
  const loops = sockets.map(async (c, i) => {
    for (let k = 0; !stopped && c.isOpen; k++) {
      try { c.chat(`message ${k} from ${c.label}`, { client_id: `s${i}-${k}` }); sent++; } catch { return; }
      await sleep(750);
    }
  });
  return {
    get sent() { return sent; },
    acked: () => sockets.flatMap((c) => c.received.filter((m) => m.type === 'chat.message' && m.client_id?.startsWith('s'))),
    async stop() { stopped = true; await Promise.all(loops); },
  };
}

async function transcriptOf(s, webinarId) {
  const csv = await fetch(`${s.url}/api/webinars/${webinarId}/chat.csv`, { headers: { authorization: `Bearer ${s.adminToken}` } });
  assert.equal(csv.status, 200);
  return new Map(parseCsv(await csv.text()).slice(1).map((r) => [r[1], r[6]]));
}

for (const fault of ['paused', 'killed']) {
  test(`SIGTERM of a primary and an edge while Redis is ${fault}: exit 0 within 5 s, every echoed chat message kept`, { timeout: 90_000 }, async () => {
    const redis = await startRedis();
    const servers = [];
    const sockets = [];
    const configs = [];
    try {
      const primaryConfig = configFile(`[auth]\ntoken_secret = "${randomBytes(32).toString('hex')}"\n`);
      configs.push(primaryConfig);
      const primary = await startServer({ args: ['--config', primaryConfig, '--redis', redis.url] });
      servers.push(primary);
      const publicKey = execFileSync(cohortBin, ['keys', 'public', '--config', primaryConfig], { encoding: 'utf8' }).trim();
      const edgeConfig = configFile(`[auth]\ntoken_public_key = "${publicKey}"\n`);
      configs.push(edgeConfig);
      await waitReady(primary);
      const edge = await startServer({
        args: ['--config', edgeConfig, '--redis', redis.url, '--role', 'edge', '--primary', primary.url], adminToken: primary.adminToken });
      servers.push(edge);
      await waitReady(edge);

      const w = (await api(primary, 'POST', '/api/webinars', { token: primary.adminToken, body: {
        title: `SIGTERM, Redis ${fault}`, description: '', capacity: null, sessions: [{ starts_at: '2036-06-01T18:00:00Z', duration_minutes: 60 }] } })).body;
      for (let i = 0; i < 4; i++) {
        const node = i % 2 === 0 ? primary : edge;
        const reg = await api(primary, 'POST', `/api/webinars/${w.id}/registrations`,
          { body: { name: `Chatter ${i}`, email: `sigterm-${fault}-${i}-${process.pid}@example.org`, consent: true } });
        assert.equal(reg.status, 201, JSON.stringify(reg.body));
        const c = await connect(node, { token: reg.body.token, label: `${node === edge ? 'edge' : 'primary'} chatter ${i}` });
        sockets.push(c);
        await c.next('hello');
      }
      const load = chatLoad(sockets);
      await until('8 chat messages echoed before the fault', 15_000, () => load.acked().length >= 8);

      if (fault === 'paused') redis.signal('SIGSTOP');
      else await redis.kill9();
      // The signal lands once both nodes noticed (a silent Redis after 3 s without an answer to a 2 s poll):
      // /readyz 503 on both.
      const faultAt = Date.now();
      await until('/readyz 503 on the primary and the edge', 15_000, async () =>
        (await Promise.all([primary, edge].map((n) => api(n, 'GET', '/readyz').then((r) => r.status)))).every((st) => st === 503));
      const noticedMs = Date.now() - faultAt;
      await sleep(Math.max(0, 2000 - noticedMs));  // a dead Redis is noticed at once: let chat meet the outage too
      const [pExit, eExit] = await Promise.all([sigterm(primary), sigterm(edge)]);
      await load.stop();
      for (const c of sockets) await c.closed;
      for (const c of sockets) c.assertHealthy();
      const acked = load.acked();

      assert.deepEqual({ code: pExit.code, signal: pExit.signal }, { code: 0, signal: null }, `primary exit\n${primary.stderr.slice(-1500)}`);
      assert.deepEqual({ code: eExit.code, signal: eExit.signal }, { code: 0, signal: null }, `edge exit\n${edge.stderr.slice(-1500)}`);
      assert.ok(pExit.ms <= STOP_LIMIT_MS, `primary exited ${pExit.ms} ms after SIGTERM (limit ${STOP_LIMIT_MS})`);
      assert.ok(eExit.ms <= STOP_LIMIT_MS, `edge exited ${eExit.ms} ms after SIGTERM (limit ${STOP_LIMIT_MS})`);

      // Redis back, the primary restarted on its data dir: every echoed message is in its transcript.
      if (fault === 'paused') redis.signal('SIGCONT');
      else await redis.start();
      const again = await startServer({ dataDir: primary.dataDir, adminToken: primary.adminToken, args: ['--config', primaryConfig, '--redis', redis.url] });
      servers.push(again);
      const transcript = await transcriptOf(again, w.id);
      const lost = acked.filter((m) => transcript.get(m.id) !== m.text).map((m) => m.id);
      assert.deepEqual(lost, [], `echoed chat messages missing after SIGTERM while Redis was ${fault}`);
      assert.deepEqual(await again.stop(), { code: 0, signal: null });
      console.log(`faults: SIGTERM of a primary and an edge during a Redis ${fault === 'paused' ? 'pause (SIGSTOP)' : 'kill -9'} ` +
        `(once both /readyz said 503, ${noticedMs} ms in): exit 0 after ${pExit.ms} ms (primary) and ${eExit.ms} ms (edge); ` +
        `chat sent/acked/found ${load.sent}/${acked.length}/${acked.length - lost.length}`);
    } finally {
      for (const c of sockets) c.terminate();
      redis.signal('SIGCONT');
      for (const s of servers) await s.kill();
      await redis.stop();
      for (const s of servers) s.cleanup();
      for (const c of configs) rmSync(path.dirname(c), { recursive: true, force: true });
    }
  });
}

for (const when of ['live', 'ffmpeg just died']) {
  test(`SIGTERM ${when === 'live' ? 'during a live publish' : "200 ms after the server's ffmpeg was killed"}, with chat: exit 0 within 5 s, recording closed, chat kept`,
    { timeout: 90_000 }, async () => {
      const s = await startServer();
      let again;
      const sockets = [];
      let pub;
      try {
        const w = await liveSetup(s, `SIGTERM (${when})`);
        const viewer = await connect(s, { token: w.token, label: 'viewer' });
        sockets.push(viewer);
        await viewer.next('hello');
        for (let i = 0; i < 2; i++) {
          const reg = await api(s, 'POST', `/api/webinars/${w.id}/registrations`,
            { body: { name: `Chatter ${i}`, email: `sigterm-live-${i}-${process.pid}@example.org`, consent: true } });
          assert.equal(reg.status, 201, JSON.stringify(reg.body));
          const c = await connect(s, { token: reg.body.token, label: `chatter ${i}` });
          sockets.push(c);
          await c.next('hello');
        }
        pub = publish(s, w.key, 60);
        const load = chatLoad(sockets.slice(1));
        await waitForLive(s, w.id, w.token);
        await viewer.next((m) => m.type === 'stream.status' && m.live === true, 10_000);
        await waitForRecordedSegments(s, w.id, 2);
        await until('4 chat messages echoed while live', 15_000, () => load.acked().length >= 4);

        if (when !== 'live') {
          const [child] = ffmpegChildren(s.proc.pid);
          assert.ok(child, "the server's ffmpeg");
          process.kill(child, 'SIGKILL');
          await sleep(200);
        }
        const exit = await sigterm(s);
        await load.stop();
        await pub.kill();
        for (const c of sockets) await c.closed;
        for (const c of sockets) c.assertHealthy();
        const acked = load.acked();
        assert.deepEqual({ code: exit.code, signal: exit.signal }, { code: 0, signal: null }, `exit status\n${s.stderr.slice(-1500)}`);
        assert.ok(exit.ms <= STOP_LIMIT_MS, `exited ${exit.ms} ms after SIGTERM (limit ${STOP_LIMIT_MS})`);
        // Taken from what arrived before the close (next() looks at the received ones first).
        await viewer.next((m) => m.type === 'stream.status' && m.live === false, 1000);

        // Closed by the stop itself: straight from the database, before a restart would close it anyway.
        const row = execFileSync('sqlite3', [path.join(s.dataDir, 'cohort.db'),
          `SELECT ended_at IS NOT NULL, segments, duration_ms FROM recordings WHERE webinar_id = ${w.id}`]).toString().trim();
        const [closed, segments, durationMs] = row.split('|').map(Number);
        assert.equal(closed, 1, `the recording row is closed before the exit: ${row}`);
        assert.ok(segments > 0 && durationMs > 0, `recording row: ${row}`);

        again = await startServer({ dataDir: s.dataDir, adminToken: s.adminToken });
        const transcript = await transcriptOf(again, w.id);
        const lost = acked.filter((m) => transcript.get(m.id) !== m.text).map((m) => m.id);
        assert.deepEqual(lost, [], `echoed chat messages missing after SIGTERM (${when})`);
        const [rec] = (await api(again, 'GET', `/api/webinars/${w.id}/recordings`, { token: again.adminToken })).body.recordings;
        const replay = await probeReplay(again, rec, w.token);
        assert.equal(replay.segments, segments, 'the replay lists the segments the closed row counts');
        assert.deepEqual(await again.stop(), { code: 0, signal: null });
        console.log(`faults: SIGTERM ${when === 'live' ? 'during a live publish' : "200 ms after the server's ffmpeg was killed"}: ` +
          `exit 0 after ${exit.ms} ms, room told live:false, recording row closed before the exit (${segments} segments, ` +
          `${(durationMs / 1000).toFixed(1)} s; ENDLIST, ffprobe ${replay.seconds.toFixed(1)} s after the restart); chat sent/acked/found ` +
          `${load.sent}/${acked.length}/${acked.length - lost.length}`);
      } finally {
        for (const c of sockets) c.terminate();
        await pub?.kill();
        await s.kill();
        if (again) await again.kill();
        s.cleanup();
      }
    });
}
