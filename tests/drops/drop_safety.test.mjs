// Bonus drops against a real build/cohort, the safety side: a file's uploaded Content-Type is
// served inline only when it is on the safe list (never HTML or SVG), with a sandbox CSP on every
// file answer; waitlisted registrants see no drops until seated; a drop tied to a session that a
// series PATCH removed is flagged (PATCH answer and drop list) instead of silently never releasing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, api } from '../support/server.mjs';
import { assertError, sleep } from '../support/http.mjs';

let server;
let emails = 0;

before(async () => { server = await startServer(); });
after(async () => {
  await server?.stop();
  server?.cleanup();
});

async function newWebinar(extra = {}) {
  const res = await api(server, 'POST', '/api/webinars', {
    token: server.adminToken,
    body: { title: 'Drop safety', description: '', capacity: null, sessions: [
      { starts_at: '2036-06-01T18:00:00Z', duration_minutes: 60 }, { starts_at: '2036-06-08T18:00:00Z', duration_minutes: 60 }], ...extra },
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

async function register(webinarId, name) {
  const res = await api(server, 'POST', `/api/webinars/${webinarId}/registrations`,
    { body: { name, email: `safety${++emails}-${Date.now()}@example.com`, consent: true } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return { id: res.body.id, token: res.body.token, status: res.body.status };
}

async function organizerDrops(webinarId) {
  const res = await api(server, 'GET', `/api/webinars/${webinarId}/drops`, { token: server.adminToken });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.drops;
}

// A drop with this file, released now; resolves once the scheduler released it.
async function releasedFileDrop(webinarId, title, bytes, type, filename) {
  const created = await api(server, 'POST', `/api/webinars/${webinarId}/drops`, { token: server.adminToken, body: { title } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const up = await api(server, 'PUT', `/api/webinars/${webinarId}/drops/${created.body.id}/file?filename=${encodeURIComponent(filename)}`,
    { token: server.adminToken, raw: Buffer.from(bytes), headers: { 'content-type': type } });
  assert.equal(up.status, 200, JSON.stringify(up.body));
  const rel = await api(server, 'PATCH', `/api/webinars/${webinarId}/drops/${created.body.id}`, { token: server.adminToken, body: { release: 'now' } });
  assert.equal(rel.status, 200, JSON.stringify(rel.body));
  const deadline = Date.now() + 5000;
  for (;;) {
    const d = (await organizerDrops(webinarId)).find((x) => x.id === created.body.id);
    if (d.state === 'released') return d;
    assert.ok(Date.now() < deadline, `not released: ${JSON.stringify(d)}`);
    await sleep(20);
  }
}

const download = (dropId, token) => fetch(`${server.url}/api/drops/${dropId}/file?token=${encodeURIComponent(token)}`);

test('drop files: inline only for safe types; HTML, SVG and unknown types download as octet-stream attachments; sandbox CSP on all', async () => {
  const w = await newWebinar();
  const ada = await register(w.id, 'Ada');
  const cases = [
    // [uploaded type, file name, inline?, served Content-Type]
    ['text/html', 'page.html', false, 'application/octet-stream'],
    ['TEXT/HTML; charset=utf-8', 'page2.html', false, 'application/octet-stream'],
    ['image/svg+xml', 'picture.svg', false, 'application/octet-stream'],
    ['application/xhtml+xml', 'page.xhtml', false, 'application/octet-stream'],
    ['application/x-test', 'data.bin', false, 'application/octet-stream'],
    ['application/pdf', 'worksheet.pdf', true, 'application/pdf'],
    ['image/png', 'chart.png', true, 'image/png'],
    ['Image/JPEG', 'photo.jpg', true, 'image/jpeg'],
    ['image/webp', 'photo.webp', true, 'image/webp'],
    ['audio/mpeg', 'talk.mp3', true, 'audio/mpeg'],
    ['video/mp4', 'clip.mp4', true, 'video/mp4'],
    ['text/plain', 'notes.txt', true, 'text/plain; charset=utf-8'],
    ['text/plain; charset=iso-8859-1', 'notes2.txt', true, 'text/plain; charset=utf-8'],
  ];
  for (const [type, name, inline, served] of cases) {
    const d = await releasedFileDrop(w.id, name, `<script>document.title='pwned'</script>${name}`, type, name);
    for (const token of [ada.token, server.adminToken]) {
      const res = await download(d.id, token);
      assert.equal(res.status, 200, `${type}: ${res.status}`);
      assert.equal(res.headers.get('content-type'), served, `${type}: served type`);
      const disposition = res.headers.get('content-disposition') ?? '';
      assert.ok(disposition.startsWith(inline ? 'inline;' : 'attachment;'), `${type}: ${disposition}`);
      assert.ok(disposition.includes(`filename="${name}"`), `${type}: keeps the name: ${disposition}`);
      assert.equal(res.headers.get('content-security-policy'), "sandbox; default-src 'none'", `${type}: sandbox CSP`);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff', `${type}: nosniff`);
      assert.ok((await res.text()).endsWith(name), 'the bytes are the upload');
    }
  }
  // The organizer's view still says what was uploaded.
  const listed = await organizerDrops(w.id);
  assert.equal(listed.find((d) => d.title === 'picture.svg').file.content_type, 'image/svg+xml');
});

test('waitlisted registrants see no drops and cannot download until seated', async () => {
  const w = await newWebinar({ capacity: 1 });
  const seated = await register(w.id, 'Seated');
  const waiting = await register(w.id, 'Waiting');
  assert.equal(seated.status, 'registered');
  assert.equal(waiting.status, 'waitlisted');
  const d = await releasedFileDrop(w.id, 'Worksheet', 'hello', 'application/pdf', 'worksheet.pdf');

  const mine = await api(server, 'GET', `/api/webinars/${w.id}/drops`, { token: seated.token });
  assert.deepEqual(mine.body.drops.map((x) => x.id), [d.id]);
  const theirs = await api(server, 'GET', `/api/webinars/${w.id}/drops`, { token: waiting.token });
  assert.equal(theirs.status, 200, JSON.stringify(theirs.body));
  assert.deepEqual(theirs.body.drops, [], 'the waitlist sees no drops');
  const res = await download(d.id, waiting.token);
  const body = await res.json();
  assertError({ status: res.status, headers: res.headers, body }, 403, 'waitlisted', undefined, 'waitlisted download');
  assertError(await api(server, 'POST', `/api/drops/${d.id}/opened`, { token: waiting.token }), 403, 'waitlisted');
  assert.equal((await download(d.id, seated.token)).status, 200);

  // The seat frees up: the waitlisted registrant moves in and sees the drop.
  assert.equal((await api(server, 'DELETE', '/api/me', { token: seated.token })).status, 200);
  const now = await api(server, 'GET', `/api/webinars/${w.id}/drops`, { token: waiting.token });
  assert.deepEqual(now.body.drops.map((x) => x.id), [d.id], 'seated: the drop shows');
  assert.equal((await download(d.id, waiting.token)).status, 200);
});

test('a series PATCH that removes a drop\'s session warns in its answer and in the drop list', async () => {
  const w = await newWebinar();
  const make = async (body) => {
    const res = await api(server, 'POST', `/api/webinars/${w.id}/drops`, { token: server.adminToken, body });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.warning, null, 'no warning while the session exists');
    return res.body;
  };
  const tied = await make({ title: 'After session 2', release: { session: 2, offset_minutes: 30 } });
  const first = await make({ title: 'After session 1', release: { session: 1, offset_minutes: 30 } });
  const fixed = await make({ title: 'Fixed time', release_at: '2036-07-01T10:00:00Z' });

  const patched = await api(server, 'PATCH', `/api/webinars/${w.id}`, {
    token: server.adminToken, body: { sessions: [{ starts_at: '2036-06-01T18:00:00Z', duration_minutes: 60 }] },
  });
  assert.equal(patched.status, 200, JSON.stringify(patched.body));
  assert.equal(patched.body.sessions.length, 1);
  assert.deepEqual(patched.body.warnings?.map((x) => [x.code, x.drop_id, x.session]), [['session_removed', tied.id, 2]],
    JSON.stringify(patched.body.warnings));
  assert.match(patched.body.warnings[0].message, /session 2/);

  const drops = await organizerDrops(w.id);
  const byId = new Map(drops.map((d) => [d.id, d]));
  assert.equal(byId.get(tied.id).warning, 'session_removed');
  assert.equal(byId.get(tied.id).release_at, null);
  assert.equal(byId.get(first.id).warning, null);
  assert.equal(byId.get(fixed.id).warning, null);

  // Moving the drop to a session that exists clears the warning; a PATCH with nothing to warn about has no warnings.
  const moved = await api(server, 'PATCH', `/api/webinars/${w.id}/drops/${tied.id}`,
    { token: server.adminToken, body: { release: { session: 1, offset_minutes: 60 } } });
  assert.equal(moved.status, 200, JSON.stringify(moved.body));
  assert.equal(moved.body.warning, null);
  const calm = await api(server, 'PATCH', `/api/webinars/${w.id}`, { token: server.adminToken, body: { title: 'Renamed' } });
  assert.equal(calm.status, 200);
  assert.equal(calm.body.warnings, undefined);
});
