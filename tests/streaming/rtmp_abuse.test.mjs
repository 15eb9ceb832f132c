// The RTMP port under abuse, against a real build/cohort and a real ffmpeg publisher: no ffmpeg exists before a publish
// with a valid key (a bad key, silent sockets and a 1,000-connection churn start none), the per-address cap
// (127.0.0.2 vs 127.0.0.3 as source addresses), the total cap closing the oldest waiting connection, the handshake
// deadline, the 64 KiB kept before a publish, and the organizer's publish going live while 100 hostile connections
// are held open. The ffmpeg children of the server are counted from /proc/<pid>/task/*/children all along.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServer, api } from '../support/server.mjs';
import { sleep } from '../support/http.mjs';
import { rtmpPort, ffmpegChildren } from '../support/stream.mjs';

const servers = [];
const sockets = new Set();
const publishers = new Set();

after(async () => {
  for (const s of sockets) s.destroy();
  for (const p of publishers) p.kill('SIGKILL');
  for (const s of servers) { await s.kill(); s.cleanup(); }
});

async function server(toml) {
  const args = [];
  if (toml) {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'cohort-rtmp-')), 'cohort.toml');
    writeFileSync(file, toml);
    args.push('--config', file);
  }
  const s = await startServer({ args });
  servers.push(s);
  return s;
}

// Polls the children every 20 ms: every distinct ffmpeg pid seen, and the most at once.
function watchChildren(s) {
  const seen = new Set();
  let most = 0;
  const timer = setInterval(() => {
    const kids = ffmpegChildren(s.proc.pid);
    for (const k of kids) seen.add(k);
    most = Math.max(most, kids.length);
  }, 20);
  return {
    get seen() { return [...seen]; },
    stop() { clearInterval(timer); return { seen: [...seen], most }; },
  };
}

async function liveWebinarWithKey(s) {
  const res = await api(s, 'POST', '/api/webinars', {
    token: s.adminToken,
    body: { title: 'RTMP abuse', description: '', capacity: null,
      sessions: [{ starts_at: new Date(Date.now() - 5 * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z'), duration_minutes: 60 }] },
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  const key = await api(s, 'POST', `/api/webinars/${res.body.id}/stream-key`, { token: s.adminToken, headers: { 'content-length': '0' } });
  assert.equal(key.status, 201, JSON.stringify(key.body));
  return { id: res.body.id, key: key.body.stream_key };
}

function publish(s, key, seconds) {
  const proc = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=30',
    '-f', 'lavfi', '-i', 'sine', '-t', String(seconds), '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-preset', 'ultrafast',
    '-tune', 'zerolatency', '-g', '30', '-c:a', 'aac', '-f', 'flv', `rtmp://127.0.0.1:${rtmpPort(s)}/live/${key}`],
  { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  publishers.add(proc);
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => { publishers.delete(proc); resolve({ code, signal }); }));
  return { proc, exited, stderr: () => stderr };
}

// A TCP connection to the RTMP port from `from` (a 127.x address): resolves once connected, with
// .closed (a promise of the time the server closed it) and .received (bytes so far).
function open(port, from, bytes) {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: '127.0.0.1', port, localAddress: from });
    sockets.add(sock);
    let received = 0;
    const closed = new Promise((done) => sock.on('close', () => { sockets.delete(sock); done(Date.now()); }));
    sock.on('data', (d) => { received += d.length; });
    sock.on('error', () => {});
    sock.once('connect', () => {
      if (bytes) sock.write(bytes);
      resolve({ sock, closed, get received() { return received; }, openedAt: Date.now() });
    });
    sock.once('error', reject);
  });
}

// The promise's value, or `otherwise` after ms (the timer does not outlive the race).
function within(promise, ms, otherwise) {
  let timer;
  const late = new Promise((resolve) => { timer = setTimeout(() => resolve(otherwise), ms); });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}
const isClosed = (c, ms) => within(c.closed.then(() => true), ms, false);

// C0 and C1 (1537 bytes): a server answers S0 S1 S2 (3073 bytes).
const c0c1 = Buffer.concat([Buffer.from([3]), Buffer.alloc(1536, 0x42)]);

async function waitFor(what, fn, ms) {
  const end = Date.now() + ms;
  for (;;) {
    if (await fn()) return;
    assert.ok(Date.now() < end, `${what} within ${ms} ms`);
    await sleep(50);
  }
}

const metric = async (s, name) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec((await api(s, 'GET', '/metrics')).body)?.[1]);

test('per-address cap: the 5th silent socket from 127.0.0.2 is refused, 127.0.0.3 still gets in; a bad key starts no ffmpeg', async () => {
  const s = await server();
  const port = rtmpPort(s);
  const watch = watchChildren(s);

  const held = [];
  for (let i = 0; i < 4; i++) held.push(await open(port, '127.0.0.2'));
  const fifth = await open(port, '127.0.0.2');
  assert.equal(await isClosed(fifth, 5000), true, 'the 5th connection from 127.0.0.2 is closed by the server');
  assert.equal(fifth.received, 0, 'and gets no answer');
  const other = await open(port, '127.0.0.3', c0c1);
  await waitFor('S0 S1 S2 for 127.0.0.3', () => other.received >= 3073, 5000);
  held[0].sock.write(c0c1);
  await waitFor('S0 S1 S2 for a held connection of 127.0.0.2', () => held[0].received >= 3073, 5000);
  for (const h of held) assert.equal(await isClosed(h, 0), false, 'the first four from 127.0.0.2 stay open');
  assert.ok(await metric(s, 'cohort_rtmp_limited_total') >= 1, 'the refusal is counted in /metrics');

  // One of the four leaves: 127.0.0.2 may connect again.
  held[1].sock.destroy();
  await held[1].closed;
  await waitFor('a new connection from 127.0.0.2 is admitted', async () => {
    const again = await open(port, '127.0.0.2', c0c1);
    const ok = !(await isClosed(again, 300)) && again.received > 0;
    again.sock.destroy();
    return ok;
  }, 5000);

  const pub = publish(s, `live_${'0'.repeat(32)}`, 10);
  const ex = await within(pub.exited, 10_000, null);
  assert.ok(ex, 'a publisher with an unknown key is refused');
  assert.notEqual(ex.code, 0, `it exits non-zero (stderr: ${pub.stderr()})`);
  assert.match(pub.stderr(), /Server error: Stream key refused/, 'ffmpeg is told why');
  await sleep(200);
  const { seen } = watch.stop();
  assert.deepEqual(seen, [], 'no ffmpeg was started for silent sockets, handshakes or a bad key');
  for (const h of held) h.sock.destroy();
  other.sock.destroy();
});

test('the organizer publishes while 100 hostile connections are held and 1,000 more churn: one ffmpeg, live', async () => {
  const s = await server();
  const port = rtmpPort(s);
  const { id, key } = await liveWebinarWithKey(s);
  const watch = watchChildren(s);
  let holding = true;
  const held = new Set();
  // On a failed assertion too: stop re-opening, close what is held, stop polling — else the
  // file's event loop never drains and the run waits for ever.
  const release = () => {
    holding = false;
    for (const c of held) c.sock.destroy();
    return watch.stop();
  };
  try {
    // 100 held connections from 25 addresses (4 each, the per-address cap): half silent, half stuck half-way
    // through C1. One the server closes (its handshake deadline) is opened again a moment later.
    const hold = async (i) => {
      const from = `127.0.0.${10 + Math.floor(i / 4)}`;
      const c = await open(port, from, i % 2 ? c0c1.subarray(0, 700) : undefined);
      held.add(c);
      c.closed.then(async () => { held.delete(c); if (holding) { await sleep(200); if (holding) hold(i).catch(() => {}); } });
    };
    await Promise.all(Array.from({ length: 100 }, (_, i) => hold(i)));
    assert.equal(held.size, 100, '100 hostile connections held');

    // 1,000 connect / partial handshake / close, 50 at a time: half from 200 other addresses, half from the holding
    // ones (over their cap: refused at once, each one counted, not each one logged).
    let churned = 0;
    const limitedBefore = await metric(s, 'cohort_rtmp_limited_total');
    const churn = async (worker) => {
      for (let n = worker; n < 1000; n += 50) {
        const from = n % 2 ? `127.0.0.${10 + (n % 25)}` : `127.0.1.${1 + (n % 200)}`;
        const c = await open(port, from, n % 3 ? c0c1.subarray(0, n % 1537) : undefined).catch(() => null);
        if (c) { c.sock.destroy(); await c.closed; }
        churned++;
      }
    };
    const churning = Promise.all(Array.from({ length: 50 }, (_, w) => churn(w)));

    const pub = publish(s, key, 30);
    await churning;
    assert.equal(churned, 1000);
    assert.ok(watch.seen.length <= 1, `at most the real publish's ffmpeg during the hold and the churn (saw ${watch.seen.length})`);
    // The server may still be accepting the last of the churn (a slow build's backlog): wait for the count.
    let limited = 0;
    await waitFor('the churn from the holding addresses refused by their cap (400 of its 500)', async () => {
      limited = (await metric(s, 'cohort_rtmp_limited_total')) - limitedBefore;
      return limited >= 400;
    }, 15_000).catch((e) => assert.fail(`${e.message}: ${limited} refused`));
    await waitFor('GET /stream says live', async () => (await api(s, 'GET', `/api/webinars/${id}/stream`)).body.live === true, 25_000);
    assert.ok(held.size >= 90, `hostile connections still held while live: ${held.size}`);
    await waitFor('the live playlist', async () => (await api(s, 'GET', `/live/${id}/index.m3u8?token=${encodeURIComponent(s.adminToken)}`)).status === 200, 10_000);

    pub.proc.kill('SIGKILL');
    await pub.exited;
    await sleep(300);
    const { seen, most } = release();
    assert.equal(seen.length, 1, `exactly one ffmpeg for the one real publish (saw ${seen.length}: ${seen})`);
    assert.equal(most, 1);
    const lines = s.stderr.split('\n').filter((l) => /cohort: rtmp: closed/.test(l)).length;
    assert.ok(lines < 20, `${limited} refusals are not logged one line each (${lines} lines)`);
    assert.ok(s.proc.exitCode === null, 'the server is still running');
  } finally {
    release();
  }
});

test('the handshake deadline closes a silent connection, 64 KiB before publish is the most kept, at the total cap a newcomer closes the oldest', async () => {
  const quick = await server('[streaming]\nrtmp_handshake_seconds = 1\n');
  const silent = await open(rtmpPort(quick), '127.0.0.4');
  const shaken = await open(rtmpPort(quick), '127.0.0.4', c0c1);
  for (const c of [silent, shaken]) {
    assert.equal(await isClosed(c, 10_000), true, 'closed by the deadline');
    const ms = (await c.closed) - c.openedAt;
    assert.ok(ms >= 900, `not before the deadline (${ms} ms)`);
  }
  assert.equal(shaken.received, 3073, 'the handshake was answered, nothing more');
  assert.ok(await metric(quick, 'cohort_rtmp_refused_total') >= 2);

  const small = await server('[streaming]\nrtmp_connections_max = 3\nrtmp_handshake_seconds = 60\n');
  const port = rtmpPort(small);
  // Before a publish at most 64 KiB of a client are kept: a 200 KB message of a type Cohort skips ends the connection
  // (long before this server's 60 s deadline).
  const big = Buffer.concat([c0c1, Buffer.alloc(1536, 0x11), Buffer.from([3, 0, 0, 0, 0x03, 0x0d, 0x40, 16, 0, 0, 0, 0])]);
  const hog = await open(port, '127.0.0.9', big);
  for (let i = 0; i < 100 && !(await isClosed(hog, 0)); i++) hog.sock.write(Buffer.alloc(1024));
  assert.equal(await isClosed(hog, 5000), true, 'closed after 64 KiB');
  await waitFor('the refusal in the log', () => /closed a connection from 127\.0\.0\.9: more than 65536 bytes before publishing/.test(small.stderr), 5000);

  const oldest = await open(port, '127.0.0.5');
  await sleep(100);
  const rest = [await open(port, '127.0.0.6'), await open(port, '127.0.0.7')];
  const newest = await open(port, '127.0.0.8', c0c1);
  assert.equal(await isClosed(oldest, 5000), true, 'the oldest waiting connection is closed for the newcomer');
  await waitFor('the newcomer is answered', () => newest.received >= 3073, 5000);
  for (const c of rest) assert.equal(await isClosed(c, 0), false, 'the others stay');
  assert.ok(await metric(small, 'cohort_rtmp_limited_total') >= 1);
  for (const c of [...rest, newest]) c.sock.destroy();
});
