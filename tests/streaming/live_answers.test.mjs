// A live publish without audio against a real build/cohort with a real ffmpeg publisher: it goes live
// (stream.status, /stream, the playlist) and plays (ffprobe: H.264, no audio). Its segments, served with
// their prebuilt headers in one gather write, answer like any other response: HEAD (the length, no body),
// several requests on one keep-alive connection (pipelined, read late so the socket fills), Connection:
// close honoured.
// (How soon a publish is live is measured in tests/bench/hls.sh; ffmpeg_command_test checks the probe option.)
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import net from 'node:net';
import { promisify } from 'node:util';
import { startServer, api } from '../support/server.mjs';
import { sleep } from '../support/http.mjs';
import { connect } from '../support/ws.mjs';

const run = promisify(execFile);
const rfc3339 = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

let server;
let publisher;
const clients = new Set();

before(async () => {
  server = await startServer();
});
after(async () => {
  if (publisher && publisher.exitCode === null) publisher.kill('SIGKILL');
  if (server) {
    await server.stop();
    server.cleanup();
  }
});
afterEach(async () => {
  const open = [...clients];
  clients.clear();
  await Promise.allSettled(open.map((c) => c.close()));
});

function rtmpPort() {
  const m = /rtmp ingest on rtmp:\/\/127\.0\.0\.1:(\d+)\/live/.exec(server.stdout);
  assert.ok(m, `no rtmp ingest line on stdout:\n${server.stdout}`);
  return Number(m[1]);
}

async function get(url, init = {}) {
  const res = await fetch(url, init);
  const bytes = Buffer.from(await res.arrayBuffer());
  return { status: res.status, headers: res.headers, bytes, text: bytes.toString('utf8') };
}

// Sends `raw` on one connection and reads until the server closes it (bounded in time). The reader
// starts after `pauseMs`, so the server finds the socket full and has to wait to go on.
function exchange(port, raw, pauseMs = 0, timeoutMs = 15_000) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.write(raw);
      if (pauseMs > 0) {
        socket.pause();
        setTimeout(() => socket.resume(), pauseMs);
      }
    });
    const timer = setTimeout(() => { socket.destroy(); reject(new Error(`no close within ${timeoutMs} ms`)); }, timeoutMs);
    socket.on('data', (d) => chunks.push(d));
    socket.on('error', (e) => { clearTimeout(timer); reject(e); });
    socket.on('close', () => { clearTimeout(timer); resolve(Buffer.concat(chunks)); });
  });
}

// Splits a byte stream of HTTP/1.1 responses (each with Content-Length; HEAD answers have no body).
function responses(buf, heads = []) {
  const out = [];
  let at = 0;
  while (at < buf.length) {
    const end = buf.indexOf('\r\n\r\n', at);
    assert.ok(end > 0, `an incomplete header at byte ${at}`);
    const lines = buf.subarray(at, end).toString('latin1').split('\r\n');
    const headers = {};
    for (const l of lines.slice(1)) {
      const colon = l.indexOf(':');
      headers[l.slice(0, colon).toLowerCase()] = l.slice(colon + 1).trim();
    }
    const length = heads[out.length] ? 0 : Number(headers['content-length'] ?? 0);
    out.push({ status: Number(lines[0].split(' ')[1]), statusLine: lines[0], headers, body: buf.subarray(end + 4, end + 4 + length) });
    at = end + 4 + length;
  }
  return out;
}

test('a publish without audio goes live and plays; its segments answer HEAD, keep-alive, pipelining and close', async () => {
  const w = await api(server, 'POST', '/api/webinars', {
    token: server.adminToken,
    body: { title: 'No audio', description: '', capacity: null, sessions: [{ starts_at: rfc3339(Date.now() - 5 * 60_000), duration_minutes: 60 }] },
  });
  assert.equal(w.status, 201, JSON.stringify(w.body));
  const person = await api(server, 'POST', `/api/webinars/${w.body.id}/registrations`,
    { body: { name: 'Ada', email: `noaudio-${Date.now()}@example.com`, consent: true } });
  assert.equal(person.status, 201, JSON.stringify(person.body));
  const key = await api(server, 'POST', `/api/webinars/${w.body.id}/stream-key`, { token: server.adminToken, headers: { 'content-length': '0' } });
  assert.equal(key.status, 201, JSON.stringify(key.body));
  const watcher = await connect(server, { token: person.body.token, label: 'watcher' });
  clients.add(watcher);
  await watcher.next('hello');

  // Video only: no audio input, and -an so the FLV carries none.
  publisher = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=30',
    '-t', '20', '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-g', '30', '-an',
    '-f', 'flv', `rtmp://127.0.0.1:${rtmpPort()}/live/${key.body.stream_key}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let pubErr = '';
  publisher.stderr.on('data', (d) => { pubErr += d; });

  const playlistUrl = `${server.url}/live/${w.body.id}/index.m3u8?token=${encodeURIComponent(person.body.token)}`;
  const deadline = Date.now() + 15_000;
  let pl;
  for (;;) {
    pl = await get(playlistUrl);
    if (pl.status === 200) break;
    assert.ok(Date.now() < deadline, `not live within 15 s: ${pl.status} ${pl.text}\npublisher: ${pubErr}\nserver:\n${server.stderr.slice(-2000)}`);
    await sleep(200);
  }
  assert.equal(publisher.exitCode, null, `the publisher is still running: ${pubErr}`);
  await watcher.next(Object.assign((m) => m.type === 'stream.status' && m.live === true, { label: 'stream.status live:true' }));
  const st = await api(server, 'GET', `/api/webinars/${w.body.id}/stream`);
  assert.equal(st.body.live, true, JSON.stringify(st.body));

  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name,codec_type', '-of', 'json', playlistUrl], { timeout: 20_000 });
  const streams = JSON.parse(stdout).streams;
  assert.ok(streams.some((s) => s.codec_name === 'h264'), `an h264 stream: ${stdout}`);
  assert.ok(!streams.some((s) => s.codec_type === 'audio'), `no audio stream: ${stdout}`);

  // A segment: GET for reference, then HEAD, two pipelined GETs and a GET with Connection: close on one connection.
  const uri = pl.text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#')).pop();
  const seg = new URL(uri, playlistUrl);
  const whole = await get(seg.href);
  assert.equal(whole.status, 200);
  assert.equal(Number(whole.headers.get('content-length')), whole.bytes.length);
  const head = await get(seg.href, { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.bytes.length, 0, 'HEAD has no body');
  assert.equal(head.headers.get('content-length'), String(whole.bytes.length), 'HEAD names the length');
  assert.equal(head.headers.get('etag'), whole.headers.get('etag'));

  const path = seg.pathname + seg.search;
  const req = (extra = '', method = 'GET') => `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${extra}\r\n`;
  const gets = 200;  // ~10 MB: more than the socket buffers hold
  const raw = await exchange(Number(new URL(server.url).port), req('', 'HEAD') + req().repeat(gets - 1) + req('Connection: close\r\n'), 1000);
  const answers = responses(raw, [true]);
  assert.equal(answers.length, gets + 1, `HEAD and ${gets} GETs answered on one connection, then close: ${answers.map((a) => a.statusLine).join(' | ')}`);
  for (const [i, a] of answers.entries()) {
    assert.equal(a.statusLine, 'HTTP/1.1 200 OK', `answer ${i}`);
    assert.equal(a.headers['content-type'], 'video/mp4');
    assert.equal(a.headers['cache-control'], 'public, max-age=3600, immutable');
    assert.equal(a.headers['x-content-type-options'], 'nosniff');
    assert.equal(a.headers.etag, whole.headers.get('etag'));
    assert.equal(a.headers['content-length'], String(whole.bytes.length));
    if (i > 0) assert.ok(a.body.equals(whole.bytes), `answer ${i}: the segment's bytes`);
    assert.equal(a.headers.connection, i === gets ? 'close' : undefined, `answer ${i}: Connection header`);
  }
});
