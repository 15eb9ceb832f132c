// Fault matrix, streaming: ffmpeg killed mid-stream, against a real build/cohort, a real ffmpeg publisher and a
// viewer in the live room. Two different ffmpegs can die, and the code notices each differently:
// - the server's own ffmpeg (the one the relay feeds, found as the server's child through /proc): its stderr pipe
//   closes (child_process.cpp), the ingest ends the stream 1.5 s later (its last PUTs may still be in flight), and
//   the relay drops the publisher;
// - the publisher's ffmpeg (the OBS side): the relay sees its connection end, shuts down ffmpeg's input, ffmpeg
//   finishes its last segment and exits, and the stream ends the same way.
// Either way: the room hears stream.status live:false within 3 s (measured from the kill to the message's arrival
// at the viewer, printed), the recording is closed and playable through the HTTP API (#EXT-X-ENDLIST; ffprobe reads
// it, segments signed), and the next publish with the same key is live again with new segments served. Each test
// prints a `faults:` line. About 20 s each on a loaded 2-core machine.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startServer, api } from '../support/server.mjs';
import { connect } from '../support/ws.mjs';
import { sleep } from '../support/http.mjs';
import {
  publish, liveSetup, ffmpegChildren, waitForLive, waitForRecordedSegments, recordedSegments, closedRecordings,
  probeReplay, fetchLiveSegment,
} from '../support/stream.mjs';

const cleanups = [];
after(async () => { for (const c of cleanups.reverse()) await c(); });

const isStatus = (live) => Object.assign((m) => m.type === 'stream.status' && m.live === live, { label: `stream.status live:${live}` });

async function killMidStream(victim) {
  const s = await startServer();
  cleanups.push(async () => { await s.kill(); s.cleanup(); });
  const w = await liveSetup(s, `ffmpeg killed (${victim})`);
  const viewer = await connect(s, { token: w.token, label: 'viewer' });
  cleanups.push(() => viewer.terminate());
  await viewer.next('hello');

  const pub = publish(s, w.key, 60);
  cleanups.push(() => pub.kill());
  await waitForLive(s, w.id, w.token);
  await viewer.next(isStatus(true), 10_000);
  const firstSegment = await fetchLiveSegment(s, w.id, w.token);
  await waitForRecordedSegments(s, w.id, 2);
  const children = ffmpegChildren(s.proc.pid);
  assert.equal(children.length, 1, `one ffmpeg child of the server while live: ${children}`);
  const recordingFile = path.join(s.dataDir, 'recordings', String(w.id), '1', 'index.m3u8');

  // --- the kill ---
  const onDiskAtKill = recordedSegments(recordingFile);
  const killedAt = Date.now();
  if (victim === 'server') process.kill(children[0], 'SIGKILL');
  else pub.proc.kill('SIGKILL');
  // The other side follows (watched from the kill on): the publisher is dropped (it would reconnect), or the
  // server's ffmpeg exits.
  const otherSide = victim === 'server'
    ? Promise.race([pub.exited.then(() => Date.now() - killedAt), new Promise((r) => setTimeout(r, 10_000, null).unref())])
    : (async () => {
      for (const deadline = Date.now() + 10_000; Date.now() < deadline; await sleep(20)) {
        if (ffmpegChildren(s.proc.pid).length === 0) return Date.now() - killedAt;
      }
      return null;
    })();
  const ended = await viewer.next(isStatus(false), 10_000);
  const endedMs = viewer.arrivals[viewer.received.indexOf(ended)] - killedAt;
  const otherSideMs = await otherSide;
  assert.ok(otherSideMs !== null, victim === 'server' ? 'the publisher is disconnected within 10 s of its ffmpeg on the server dying'
    : "the server's ffmpeg exits within 10 s of the publisher dying");
  assert.ok(endedMs <= 3000, `the room heard "ended" ${endedMs} ms after the kill (limit 3000 ms)`);

  const st = await api(s, 'GET', `/api/webinars/${w.id}/stream`);
  assert.equal(st.body.live, false, JSON.stringify(st.body));
  const gone = await fetch(`${s.url}/live/${w.id}/index.m3u8?token=${encodeURIComponent(w.token)}`);
  await gone.arrayBuffer();
  assert.equal(gone.status, 404, 'no live playlist once ended');

  // --- the recording is closed and plays ---
  const [rec] = await closedRecordings(s, w.id);
  const replay = await probeReplay(s, rec, w.token);
  assert.ok(rec.segments >= onDiskAtKill && replay.segments === rec.segments,
    `recording ${JSON.stringify(rec)}, ${onDiskAtKill} segments on disk at the kill, ${replay.segments} in the replay playlist`);
  assert.ok(Math.abs(replay.seconds - rec.duration_ms / 1000) <= 1.5, `ffprobe ${replay.seconds} s vs duration_ms ${rec.duration_ms}`);

  // --- the next publish works ---
  const again = publish(s, w.key, 60);
  cleanups.push(() => again.kill());
  const relivedAt = Date.now();
  await viewer.next(isStatus(true), 20_000);
  const relivedMs = Date.now() - relivedAt;
  const nextSegment = await fetchLiveSegment(s, w.id, w.token);
  // Segment names start with the publish's ingest id: a new publish, new files.
  const ingestOf = (p) => path.basename(p).split('-')[0];
  assert.notEqual(ingestOf(nextSegment), ingestOf(firstSegment), `the new publish serves segments of its own: ${nextSegment} after ${firstSegment}`);
  const childrenAgain = ffmpegChildren(s.proc.pid);
  assert.equal(childrenAgain.length, 1, `one ffmpeg child for the new publish: ${childrenAgain}`);

  await again.kill();
  await viewer.next(isStatus(false), 10_000);
  await viewer.close();
  assert.deepEqual(await s.stop(), { code: 0, signal: null });

  console.log(`faults: kill -9 of the ${victim === 'server' ? "server's ffmpeg" : "publisher's ffmpeg (OBS side)"} mid-stream: ` +
    `viewer saw "ended" after ${endedMs} ms (limit 3000), ${victim === 'server' ? 'publisher dropped' : "server's ffmpeg exited"} after ${otherSideMs} ms; ` +
    `recording closed: ${rec.segments} segments (${onDiskAtKill} on disk at the kill), ${(rec.duration_ms / 1000).toFixed(1)} s, ENDLIST, ffprobe ${replay.seconds.toFixed(1)} s; ` +
    `next publish live again after ${relivedMs} ms with new segments served`);
}

test("kill -9 of the server's ffmpeg mid-stream: ended within 3 s, recording closed and playable, next publish works", { timeout: 90_000 }, async () => {
  await killMidStream('server');
});

test("kill -9 of the publisher's ffmpeg mid-stream: ended within 3 s, recording closed and playable, next publish works", { timeout: 90_000 }, async () => {
  await killMidStream('publisher');
});
