// Replay viewing measured on the server (recorded CE credit), against a real build/cohort and a real ffmpeg
// publisher: a registrant's replay playlist signs its segment URLs for that registration (r=), each segment they
// fetch is written to replay_views once (repeats and Range requests add nothing), another registrant's r under
// that signature is refused, and the organizer's playlist (no r) records nothing. Live segment URLs stay shared.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import path from 'node:path';
import { startServer, api } from '../support/server.mjs';
import { assertError, sleep } from '../support/http.mjs';

const rfc3339 = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

let server;
let publisher;

before(async () => { server = await startServer(); });
after(async () => {
  if (publisher && publisher.exitCode === null) publisher.kill('SIGKILL');
  if (server) { await server.stop(); server.cleanup(); }
});

function rtmpPort() {
  const m = /rtmp ingest on rtmp:\/\/127\.0\.0\.1:(\d+)\/live/.exec(server.stdout);
  assert.ok(m, `no rtmp ingest line on stdout:\n${server.stdout}`);
  return Number(m[1]);
}

// ffmpeg publishes a test pattern for `seconds`; resolves with its exit code.
function publish(key, seconds) {
  publisher = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=30',
    '-f', 'lavfi', '-i', 'sine', '-t', String(seconds), '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-preset', 'veryfast',
    '-tune', 'zerolatency', '-g', '30', '-c:a', 'aac', '-f', 'flv', `rtmp://127.0.0.1:${rtmpPort()}/live/${key}`],
  { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  publisher.stderr.on('data', (d) => { stderr += d; });
  return new Promise((resolve) => publisher.on('exit', (code) => resolve({ code, stderr })));
}

async function get(url, headers = {}) {
  const res = await fetch(url, { headers });
  const bytes = Buffer.from(await res.arrayBuffer());
  return { status: res.status, headers: res.headers, bytes, text: bytes.toString('utf8'),
    body: (res.headers.get('content-type') || '').includes('application/json') ? JSON.parse(bytes.toString('utf8')) : null };
}

function playlistUris(text, base) {
  return text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#')).map((l) => new URL(l, base));
}

const sql = (query) => execFileSync('sqlite3', [path.join(server.dataDir, 'cohort.db'), query]).toString().trim();

// Polls replay_views until `pred(rows)` holds: the writer commits the views after the fetches were answered.
async function viewsUntil(pred, what) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const rows = sql('SELECT registration_id, segment, recording_id, webinar_id FROM replay_views ORDER BY registration_id, segment')
      .split('\n').filter(Boolean).map((l) => l.split('|').map(Number));
    if (pred(rows)) return rows;
    assert.ok(Date.now() < deadline, `replay_views: no ${what} within 10 s: ${JSON.stringify(rows)}`);
    await sleep(100);
  }
}

test('replay segments fetched with a registrant\'s signed URL are counted once each; the organizer\'s are not', async () => {
  const created = await api(server, 'POST', '/api/webinars', { token: server.adminToken, body: {
    title: 'Replay credit', description: '', capacity: null,
    sessions: [{ starts_at: rfc3339(Date.now() - 5 * 60_000), duration_minutes: 60 }] } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const w = created.body;
  const signup = async (n) => {
    const res = await api(server, 'POST', `/api/webinars/${w.id}/registrations`,
      { body: { name: `Viewer ${n}`, email: `viewer${n}-${Date.now()}@example.org`, consent: true } });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body;
  };
  const ada = await signup(1);
  const bob = await signup(2);
  const key = await api(server, 'POST', `/api/webinars/${w.id}/stream-key`, { token: server.adminToken, headers: { 'content-length': '0' } });
  assert.equal(key.status, 201, JSON.stringify(key.body));

  // While live, the live playlist's segment URLs stay shared (no r) even for a registrant.
  const done = publish(key.body.stream_key, 6);
  const liveUrl = `${server.url}/live/${w.id}/index.m3u8?token=${encodeURIComponent(ada.token)}`;
  const liveDeadline = Date.now() + 15_000;
  let live;
  for (;;) {
    live = await get(liveUrl);
    if (live.status === 200 && playlistUris(live.text, liveUrl).length > 0) break;
    assert.ok(Date.now() < liveDeadline, `live playlist: ${live.status} ${live.text}`);
    await sleep(200);
  }
  for (const u of playlistUris(live.text, liveUrl)) assert.equal(u.searchParams.get('r'), null, `live segment URL ${u.search}`);
  const ex = await done;
  assert.equal(ex.code, 0, ex.stderr);

  // The recording, once ended.
  let rec;
  const recDeadline = Date.now() + 10_000;
  for (;;) {
    const list = await api(server, 'GET', `/api/webinars/${w.id}/recordings`, { token: server.adminToken });
    rec = list.body.recordings?.[0];
    if (rec && rec.ended_at) break;
    assert.ok(Date.now() < recDeadline, `no ended recording: ${JSON.stringify(list.body)}`);
    await sleep(200);
  }
  assert.ok(rec.segments >= 4, `segments ${rec.segments}`);

  // The organizer watches the whole replay: shared URLs, nothing recorded.
  const orgUrl = `${server.url}${rec.playlist}?token=${encodeURIComponent(server.adminToken)}`;
  const orgPl = await get(orgUrl);
  assert.equal(orgPl.status, 200, orgPl.text);
  const orgSegs = playlistUris(orgPl.text, orgUrl).filter((u) => /\.m4s$/.test(u.pathname));
  assert.equal(orgSegs.length, rec.segments);
  for (const u of orgSegs) {
    assert.equal(u.searchParams.get('r'), null, "the organizer's URLs name nobody");
    const res = await get(u.href);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'public, max-age=86400');
  }

  // Ada's playlist: every segment URL is signed for her.
  const adaUrl = `${server.url}${rec.playlist}?token=${encodeURIComponent(ada.token)}`;
  const adaPl = await get(adaUrl);
  assert.equal(adaPl.status, 200, adaPl.text);
  const segs = playlistUris(adaPl.text, adaUrl).filter((u) => /\.m4s$/.test(u.pathname));
  assert.equal(segs.length, rec.segments);
  for (const u of segs) assert.equal(u.searchParams.get('r'), String(ada.id), u.search);
  assert.match(adaPl.text, /#EXT-X-MAP:URI="init\.mp4\?exp=\d+&r=\d+&sig=[0-9a-f]+"/);

  // k = 3 of n segments: 0 (whole, then a Range), 1 (a Range only), 3 (whole twice), and the init segment.
  const fetchOk = async (u, headers = {}) => {
    const res = await get(u.href, headers);
    assert.ok(res.status === 200 || res.status === 206, `${u.pathname}: ${res.status} ${res.text.slice(0, 200)}`);
    return res;
  };
  const whole = await fetchOk(segs[0]);
  assert.equal(whole.headers.get('cache-control'), 'private, max-age=86400', "a registrant's segment is not for shared caches");
  assert.equal((await fetchOk(segs[0], { range: 'bytes=0-99' })).status, 206);
  assert.equal((await fetchOk(segs[1], { range: 'bytes=10-50' })).status, 206);
  await fetchOk(segs[3]);
  await fetchOk(segs[3]);
  await fetchOk(new URL('init.mp4' + segs[0].search, segs[0]));

  // Bob's id under Ada's signature, and a tampered signature: refused, and not counted.
  const forged = new URL(segs[2].href);
  forged.searchParams.set('r', String(bob.id));
  assertError(await get(forged.href), 403, 'forbidden', undefined, "another registrant's r under this signature");
  const tampered = new URL(segs[2].href);
  const sig = tampered.searchParams.get('sig');
  tampered.searchParams.set('sig', (sig[0] === 'a' ? 'b' : 'a') + sig.slice(1));
  assertError(await get(tampered.href), 403, 'forbidden', undefined, 'a tampered sig');
  const stripped = new URL(segs[2].href);
  stripped.searchParams.delete('r');
  assertError(await get(stripped.href), 403, 'forbidden', undefined, 'r removed from a signed URL');

  const rows = await viewsUntil((r) => r.length >= 3, '3 views');
  assert.deepEqual(rows.map(([reg, seg]) => [reg, seg]), [[ada.id, 0], [ada.id, 1], [ada.id, 3]]);
  for (const [, , recording, webinar] of rows) {
    assert.equal(recording, rec.id);
    assert.equal(webinar, w.id);
  }

  // A Bob view then proves the writer has drained everything before it: still exactly Ada's three, and his one.
  const bobUrl = `${server.url}${rec.playlist}?token=${encodeURIComponent(bob.token)}`;
  const bobSegs = playlistUris((await get(bobUrl)).text, bobUrl).filter((u) => /\.m4s$/.test(u.pathname));
  await fetchOk(bobSegs[2]);
  const all = await viewsUntil((r) => r.some(([reg]) => reg === bob.id), "Bob's view");
  assert.deepEqual(all.map(([reg, seg]) => [reg, seg]), [[ada.id, 0], [ada.id, 1], [ada.id, 3], [bob.id, 2]]);
});
