// Bonus drops against a real build/cohort (single primary node): the organizer API and its validation, scheduled
// release pushed live over /ws on time and never early, hello.drops and the registrant list with `seen`, the
// draft → file → release flow, downloads (ETag, Range, access), the upload limit, `opened`, attended/missed
// audiences from live-room attendance, and release exactly once across kill -9 and restarts.
// Every server WebSocket message is checked against proto/ws/*.schema.json by tests/support/ws.mjs.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServer, api } from '../support/server.mjs';
import { assertError, sleep } from '../support/http.mjs';
import { connect } from '../support/ws.mjs';

const UTC_SECONDS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const MiB = 1024 * 1024;
const ORGANIZER_KEYS = ['audience', 'audience_session', 'body', 'created_at', 'file', 'id', 'opened', 'release', 'release_at',
  'released_at', 'state', 'title', 'url', 'warning', 'webinar_id'];
const REGISTRANT_KEYS = ['body', 'file', 'id', 'released_at', 'seen', 'title', 'url'];

// RFC 3339 at whole seconds (the API's precision).
const rfc3339 = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const sha256 = (buf) => createHash('sha256').update(buf).digest('hex');

let server;
let emails = 0;
const clients = new Set();
const extraServers = [];

// A config file in a temp dir: returns its path.
function configFile(text) {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'cohort-drops-')), 'cohort.toml');
  writeFileSync(file, text);
  return file;
}

before(async () => {
  // One connect during a session counts as attended (the contract's test setting).
  server = await startServer({ args: ['--config', configFile('[attendance]\nmin_minutes = 1\n')] });
});
after(async () => {
  for (const s of extraServers) { await s.kill(); s.cleanup(); }
  if (server) {
    await server.stop();
    server.cleanup();
  }
});
afterEach(async () => {
  const open = [...clients];
  clients.clear();
  const results = await Promise.allSettled(open.map((c) => c.close()));
  const failures = results.filter((r) => r.status === 'rejected').map((r) => r.reason.message);
  const { exitCode, signalCode } = server.proc;
  assert.ok(exitCode === null && signalCode === null,
    `the server died during this test (exit ${exitCode ?? signalCode}); stderr tail:\n${server.stderr.slice(-2000)}`);
  assert.deepEqual(failures, [], 'protocol violations seen by clients of this test');
});

async function newWebinar(s = server, sessions = [{ starts_at: '2036-06-01T18:00:00Z', duration_minutes: 60 },
  { starts_at: '2036-06-08T18:00:00Z', duration_minutes: 60 }]) {
  const res = await api(s, 'POST', '/api/webinars', {
    token: s.adminToken, body: { title: 'Drops test', description: '', capacity: null, sessions },
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

async function register(webinarId, name = 'Ada Lovelace', s = server) {
  const res = await api(s, 'POST', `/api/webinars/${webinarId}/registrations`,
    { body: { name, email: `drops${++emails}-${Date.now()}@example.com`, consent: true } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  assert.equal(res.body.status, 'registered');
  return { id: res.body.id, token: res.body.token, name };
}

async function join(opts, s = server) {
  const c = await connect(s, opts);
  clients.add(c);
  await c.next('hello');
  return c;
}
const joinAs = (person, s = server) => join({ token: person.token, label: person.name }, s);

async function createDrop(webinarId, body, s = server) {
  const res = await api(s, 'POST', `/api/webinars/${webinarId}/drops`, { token: s.adminToken, body });
  assert.equal(res.status, 201, `POST drop ${JSON.stringify(body)} -> ${res.status} ${JSON.stringify(res.body)}`);
  assertOrganizerDrop(res.body);
  return res.body;
}

async function organizerList(webinarId, s = server) {
  const res = await api(s, 'GET', `/api/webinars/${webinarId}/drops`, { token: s.adminToken });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  for (const d of res.body.drops) assertOrganizerDrop(d);
  return res.body.drops;
}

async function registrantList(webinarId, person, s = server) {
  const res = await api(s, 'GET', `/api/webinars/${webinarId}/drops`, { token: person.token });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.deepEqual(Object.keys(res.body), ['drops']);
  for (const d of res.body.drops) assertRegistrantDrop(d);
  return res.body.drops;
}

function assertOrganizerDrop(d) {
  assert.deepEqual(Object.keys(d).sort(), ORGANIZER_KEYS, `organizer drop keys: ${JSON.stringify(d)}`);
  assert.ok(['draft', 'scheduled', 'released'].includes(d.state), JSON.stringify(d));
  assert.match(d.created_at, UTC_SECONDS);
  if (d.release_at !== null) assert.match(d.release_at, UTC_SECONDS);
  if (d.released_at !== null) assert.match(d.released_at, UTC_SECONDS);
  assert.equal(d.state === 'draft', d.release === null, `a draft has no release: ${JSON.stringify(d)}`);
  assert.equal(d.state === 'released', d.released_at !== null, `released_at iff released: ${JSON.stringify(d)}`);
  if (d.file !== null) {
    assert.deepEqual(Object.keys(d.file).sort(), ['content_type', 'download', 'name', 'sha256', 'size']);
    assert.equal(d.file.download, `/api/drops/${d.id}/file`);
    assert.match(d.file.sha256, /^[0-9a-f]{64}$/);
  }
}

function assertRegistrantDrop(d) {
  assert.deepEqual(Object.keys(d).sort(), REGISTRANT_KEYS, `registrant drop keys: ${JSON.stringify(d)}`);
  assert.match(d.released_at, UTC_SECONDS);
  if (d.file !== null) assert.deepEqual(Object.keys(d.file).sort(), ['content_type', 'download', 'name', 'size']);
}

const dropIs = (id) => Object.assign((m) => m.type === 'drop' && m.drop.id === id, { label: `drop ${id}` });

// PUT a file's bytes to a drop.
function putFile(webinarId, dropId, bytes, { filename = 'worksheet.bin', type = 'application/octet-stream', token, s = server } = {}) {
  const q = filename === null ? '' : `?filename=${encodeURIComponent(filename)}`;
  return api(s, 'PUT', `/api/webinars/${webinarId}/drops/${dropId}/file${q}`,
    { token: token === undefined ? s.adminToken : token, raw: bytes, headers: type ? { 'content-type': type } : {} });
}

// GET a drop's file: { status, headers, bytes, body (parsed error JSON when JSON) }.
async function download(dropId, { token, headers = {}, bearer = false, s = server } = {}) {
  const h = { ...headers };
  let q = '';
  if (token && bearer) h.authorization = `Bearer ${token}`;
  else if (token) q = `?token=${encodeURIComponent(token)}`;
  const res = await fetch(`${s.url}/api/drops/${dropId}/file${q}`, { headers: h });
  const bytes = Buffer.from(await res.arrayBuffer());
  let body = bytes;
  if ((res.headers.get('content-type') || '').includes('application/json')) body = JSON.parse(bytes.toString('utf8'));
  return { status: res.status, headers: res.headers, bytes, body };
}

// "release": "now" answers with the drop as stored (scheduled for now); the scheduler releases it right after.
// Resolves with the organizer view once released (within 2 s).
async function released(webinarId, dropId, s = server) {
  const deadline = Date.now() + 2000;
  for (;;) {
    const d = (await organizerList(webinarId, s)).find((x) => x.id === dropId);
    assert.ok(d, `drop ${dropId} is not in the list`);
    if (d.state === 'released') return d;
    assert.ok(Date.now() < deadline, `drop ${dropId} not released within 2 s: ${JSON.stringify(d)}`);
    await sleep(20);
  }
}

async function releaseNow(webinarId, body, s = server) {
  const d = await createDrop(webinarId, { ...body, release: 'now' }, s);
  assert.ok(['scheduled', 'released'].includes(d.state), JSON.stringify(d));
  assert.ok(Math.abs(Date.parse(d.release_at) - Date.now()) < 3000, `release now: release_at ${d.release_at}`);
  return released(webinarId, d.id, s);
}

async function openedCount(webinarId, dropId, want, timeoutMs = 3000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const d = (await organizerList(webinarId)).find((x) => x.id === dropId);
    if (d.opened === want || Date.now() > deadline) return d.opened;
    await sleep(50);
  }
}

test('CRUD: drafts, scheduled and session-relative drops, organizer list ordered by release_at, PATCH and DELETE', async () => {
  const w = await newWebinar();
  const t0 = Date.now();
  const draft = await createDrop(w.id, { title: 'Worksheet week 2', body: '**Print** this' });
  assert.equal(draft.webinar_id, w.id);
  assert.equal(draft.title, 'Worksheet week 2');
  assert.equal(draft.body, '**Print** this');
  assert.equal(draft.url, null);
  assert.equal(draft.file, null);
  assert.equal(draft.release, null, 'no release given: a draft');
  assert.equal(draft.release_at, null);
  assert.equal(draft.state, 'draft');
  assert.equal(draft.released_at, null);
  assert.equal(draft.audience, 'all', 'audience defaults to all');
  assert.equal(draft.audience_session, null);
  assert.equal(draft.opened, 0);
  assert.ok(Math.abs(Date.parse(draft.created_at) - t0) < 5000, `created_at ${draft.created_at} is now`);

  const nullRelease = await createDrop(w.id, { title: 'Explicit null', release: null });
  assert.equal(nullRelease.state, 'draft', '"release": null is a draft too');
  assert.equal((await createDrop(w.id, { title: 'No body' })).body, '', 'body defaults to ""');

  const at = await createDrop(w.id, { title: 'At a time', url: 'https://example.org/x', release_at: '2036-06-01T19:30:00+02:00' });
  assert.deepEqual(at.release, { at: '2036-06-01T17:30:00Z' }, 'any offset in, UTC out');
  assert.equal(at.release_at, '2036-06-01T17:30:00Z');
  assert.equal(at.state, 'scheduled');
  assert.equal(at.url, 'https://example.org/x');

  const rel = await createDrop(w.id, { title: 'Before session 2', release: { session: 2, offset_minutes: -120 } });
  assert.deepEqual(rel.release, { session: 2, offset_minutes: -120 });
  assert.equal(rel.release_at, '2036-06-08T16:00:00Z', 'effective time = session 2 start − 120 min');
  assert.equal(rel.state, 'scheduled');

  const attended = await createDrop(w.id, { title: 'For attendees', release: { session: 1, offset_minutes: 90 }, audience: 'attended' });
  assert.equal(attended.audience, 'attended');
  assert.equal(attended.audience_session, 1, 'audience_session defaults to the release session');
  assert.equal(attended.release_at, '2036-06-01T19:30:00Z');
  const missed = await createDrop(w.id, { title: 'For who missed', release_at: '2036-06-09T10:00:00Z', audience: 'missed', audience_session: 2 });
  assert.equal(missed.audience, 'missed');
  assert.equal(missed.audience_session, 2);

  // Organizer list: every drop, ordered by release_at (drafts have none; they are all there).
  const list = await organizerList(w.id);
  assert.equal(list.length, 7);
  assert.deepEqual(new Set(list.map((d) => d.id)), new Set([draft.id, nullRelease.id, list.find((d) => d.title === 'No body').id, at.id, rel.id, attended.id, missed.id]));
  const timed = list.filter((d) => d.release_at !== null).map((d) => d.release_at);
  assert.deepEqual(timed, [...timed].sort(), 'ordered by release_at');
  assert.deepEqual(list.find((d) => d.id === rel.id), rel);

  // PATCH: any subset; a draft gets a schedule; a scheduled drop goes back to draft with release null.
  const p1 = await api(server, 'PATCH', `/api/webinars/${w.id}/drops/${draft.id}`, { token: server.adminToken, body: { title: 'Worksheet week 2 (v2)' } });
  assert.equal(p1.status, 200, JSON.stringify(p1.body));
  assertOrganizerDrop(p1.body);
  assert.equal(p1.body.title, 'Worksheet week 2 (v2)');
  assert.equal(p1.body.body, '**Print** this', 'fields not given keep their values');
  assert.equal(p1.body.state, 'draft');
  const p2 = await api(server, 'PATCH', `/api/webinars/${w.id}/drops/${draft.id}`, { token: server.adminToken, body: { release_at: '2036-06-02T08:00:00Z', url: 'http://example.org/v2' } });
  assert.equal(p2.status, 200, JSON.stringify(p2.body));
  assert.equal(p2.body.state, 'scheduled');
  assert.equal(p2.body.release_at, '2036-06-02T08:00:00Z');
  assert.equal(p2.body.url, 'http://example.org/v2');
  const p3 = await api(server, 'PATCH', `/api/webinars/${w.id}/drops/${draft.id}`, { token: server.adminToken, body: { release: null, url: null } });
  assert.equal(p3.status, 200, JSON.stringify(p3.body));
  assert.equal(p3.body.state, 'draft', 'release: null turns it back into a draft');
  assert.equal(p3.body.release_at, null);
  assert.equal(p3.body.url, null);

  // A moved session moves the drops relative to it.
  const moved = await api(server, 'PATCH', `/api/webinars/${w.id}`, { token: server.adminToken,
    body: { sessions: [{ starts_at: '2036-06-01T18:00:00Z', duration_minutes: 60 }, { starts_at: '2036-06-10T18:00:00Z', duration_minutes: 60 }] } });
  assert.equal(moved.status, 200, JSON.stringify(moved.body));
  assert.equal((await organizerList(w.id)).find((d) => d.id === rel.id).release_at, '2036-06-10T16:00:00Z');

  // DELETE: 204, gone from the list, then 404.
  const del = await api(server, 'DELETE', `/api/webinars/${w.id}/drops/${nullRelease.id}`, { token: server.adminToken });
  assert.equal(del.status, 204);
  assert.ok(!(await organizerList(w.id)).some((d) => d.id === nullRelease.id));
  assertError(await api(server, 'DELETE', `/api/webinars/${w.id}/drops/${nullRelease.id}`, { token: server.adminToken }), 404, 'not_found', undefined, 'DELETE twice');
});

test('validation: 422 validation_failed with error.field; nothing is stored', async () => {
  const w = await newWebinar();
  const cases = [
    [{}, 'title', 'no title'],
    [{ title: '' }, 'title', 'empty title'],
    [{ title: '   ' }, 'title', 'blank title'],
    [{ title: 'x'.repeat(201) }, 'title', 'title of 201 chars'],
    [{ title: 42 }, 'title', 'title not a string'],
    [{ title: 'ok', body: 'b'.repeat(5001) }, 'body', 'body of 5001 chars'],
    [{ title: 'ok', url: 'ftp://example.org/x' }, 'url', 'ftp url'],
    [{ title: 'ok', url: 'javascript:alert(1)' }, 'url', 'javascript url'],
    [{ title: 'ok', url: 'not a url' }, 'url', 'not a url'],
    [{ title: 'ok', url: `https://example.org/${'a'.repeat(2000)}` }, 'url', 'url over 2000'],
    [{ title: 'ok', release_at: '2036-06-02T08:00:00Z', release: 'now' }, 'release', 'release_at and release'],
    [{ title: 'ok', release_at: '2036-06-02T08:00:00Z', release: { session: 1, offset_minutes: 0 } }, 'release', 'release_at and a relative release'],
    [{ title: 'ok', release: 'later' }, 'release', 'release "later"'],
    [{ title: 'ok', release: 5 }, 'release', 'release a number'],
    [{ title: 'ok', release: { session: 3, offset_minutes: 0 } }, 'release', 'release relative to a session that does not exist'],
    [{ title: 'ok', audience: 'vip' }, 'audience', 'unknown audience'],
    [{ title: 'ok', audience: 'attended', release_at: '2036-06-02T08:00:00Z' }, 'audience_session', 'attended without a session'],
    [{ title: 'ok', audience: 'missed', audience_session: 3, release_at: '2036-06-02T08:00:00Z' }, 'audience_session', 'missed for a session that does not exist'],
    [{ title: 'ok', audience: 'attended', audience_session: 2, release_at: '2036-06-02T08:00:00Z' }, 'audience_session', 'released before the session it is about'],
    [{ title: 'ok', audience: 'missed', release: { session: 1, offset_minutes: -10 } }, 'audience_session', 'released 10 min before its session starts'],
  ];
  for (const [body, field, what] of cases) {
    assertError(await api(server, 'POST', `/api/webinars/${w.id}/drops`, { token: server.adminToken, body }), 422, 'validation_failed', field, what);
  }
  // Fields the contract names without a field name: the error names the release.
  for (const [body, what] of [
    [{ title: 'ok', release_at: 'tomorrow' }, 'release_at not RFC 3339'],
    [{ title: 'ok', release: { session: 1, offset_minutes: 10081 } }, 'offset_minutes 10081'],
    [{ title: 'ok', release: { session: 1, offset_minutes: -10081 } }, 'offset_minutes -10081'],
  ]) {
    const res = await api(server, 'POST', `/api/webinars/${w.id}/drops`, { token: server.adminToken, body });
    assertError(res, 422, 'validation_failed', undefined, what);
    assert.match(res.body.error.field ?? '', /^release/, `${what}: field ${res.body.error.field}`);
  }
  // Bounds that are fine.
  await createDrop(w.id, { title: 'x'.repeat(200), body: 'b'.repeat(5000), url: `https://example.org/${'a'.repeat(1980)}` });
  await createDrop(w.id, { title: 'ok', release: { session: 2, offset_minutes: -10080 } });
  await createDrop(w.id, { title: 'ok', audience: 'missed', release: { session: 1, offset_minutes: 0 } });
  assert.equal((await organizerList(w.id)).length, 3, 'rejected requests stored nothing');

  // PATCH validates the same way.
  const d = (await organizerList(w.id))[0];
  for (const [body, field] of [[{ title: '' }, 'title'], [{ url: 'ftp://x' }, 'url'], [{ audience: 'everyone' }, 'audience'],
    [{ release: 'now', release_at: '2036-06-02T08:00:00Z' }, 'release']]) {
    assertError(await api(server, 'PATCH', `/api/webinars/${w.id}/drops/${d.id}`, { token: server.adminToken, body }), 422, 'validation_failed', field, `PATCH ${JSON.stringify(body)}`);
  }
  assert.deepEqual((await organizerList(w.id)).find((x) => x.id === d.id), d, 'a rejected PATCH changed nothing');
});

test('404 for unknown webinars and drops; 401/403 for the wrong callers; 409 once released', async () => {
  const w = await newWebinar();
  const other = await newWebinar();
  const ada = await register(w.id, 'Ada');
  const stranger = await register(other.id, 'Stranger');
  const org = server.adminToken;
  const draft = await createDrop(w.id, { title: 'Draft' });
  const otherDrop = await createDrop(other.id, { title: 'Other' });

  assertError(await api(server, 'POST', '/api/webinars/999999/drops', { token: org, body: { title: 'x' } }), 404, 'not_found', undefined, 'POST unknown webinar');
  assertError(await api(server, 'GET', '/api/webinars/999999/drops', { token: org }), 404, 'not_found', undefined, 'GET list unknown webinar');
  assertError(await api(server, 'PATCH', `/api/webinars/${w.id}/drops/999999`, { token: org, body: { title: 'x' } }), 404, 'not_found', undefined, 'PATCH unknown drop');
  assertError(await api(server, 'DELETE', `/api/webinars/${w.id}/drops/999999`, { token: org }), 404, 'not_found', undefined, 'DELETE unknown drop');
  assertError(await api(server, 'PATCH', `/api/webinars/${w.id}/drops/${otherDrop.id}`, { token: org, body: { title: 'x' } }), 404, 'not_found', undefined, 'PATCH a drop of another webinar');
  assertError(await api(server, 'DELETE', `/api/webinars/${w.id}/drops/${otherDrop.id}`, { token: org }), 404, 'not_found', undefined, 'DELETE a drop of another webinar');
  assertError(await putFile(w.id, 999999, Buffer.from('x')), 404, 'not_found', undefined, 'PUT file unknown drop');
  assertError(await api(server, 'POST', '/api/drops/999999/opened', { token: ada.token }), 404, 'not_found', undefined, 'opened unknown drop');

  // Organizer routes: no token 401, a registrant 403.
  assertError(await api(server, 'POST', `/api/webinars/${w.id}/drops`, { body: { title: 'x' } }), 401, 'unauthorized', undefined, 'POST without token');
  assertError(await api(server, 'POST', `/api/webinars/${w.id}/drops`, { token: ada.token, body: { title: 'x' } }), 403, 'forbidden', undefined, 'POST as registrant');
  assertError(await api(server, 'PATCH', `/api/webinars/${w.id}/drops/${draft.id}`, { token: ada.token, body: { title: 'x' } }), 403, 'forbidden', undefined, 'PATCH as registrant');
  assertError(await api(server, 'DELETE', `/api/webinars/${w.id}/drops/${draft.id}`, { token: ada.token }), 403, 'forbidden', undefined, 'DELETE as registrant');
  assertError(await api(server, 'DELETE', `/api/webinars/${w.id}/drops/${draft.id}`), 401, 'unauthorized', undefined, 'DELETE without token');
  assertError(await putFile(w.id, draft.id, Buffer.from('x'), { token: ada.token }), 403, 'forbidden', undefined, 'PUT file as registrant');
  assertError(await putFile(w.id, draft.id, Buffer.from('x'), { token: null }), 401, 'unauthorized', undefined, 'PUT file without token');
  // The list: no token 401, another webinar's registrant 403, a bad token 401.
  assertError(await api(server, 'GET', `/api/webinars/${w.id}/drops`), 401, 'unauthorized', undefined, 'GET list without token');
  assertError(await api(server, 'GET', `/api/webinars/${w.id}/drops`, { token: stranger.token }), 403, 'forbidden', undefined, 'GET list, another webinar');
  assertError(await api(server, 'GET', `/api/webinars/${w.id}/drops`, { token: 'nonsense' }), 401, 'unauthorized', undefined, 'GET list bad token');
  // Registrant routes: organizer 403, no token 401, another webinar 403.
  assertError(await api(server, 'POST', `/api/webinars/${w.id}/drops/seen`), 401, 'unauthorized', undefined, 'seen without token');
  assertError(await api(server, 'POST', `/api/webinars/${w.id}/drops/seen`, { token: org }), 403, 'forbidden', undefined, 'seen as organizer');
  assertError(await api(server, 'POST', `/api/webinars/${w.id}/drops/seen`, { token: stranger.token }), 403, 'forbidden', undefined, 'seen, another webinar');
  // PUT file: missing filename 400.
  assertError(await putFile(w.id, draft.id, Buffer.from('x'), { filename: null }), 400, undefined, undefined, 'PUT file without filename');

  // Released: PATCH / DELETE / PUT file → 409, and nothing changes.
  const up = await putFile(w.id, draft.id, Buffer.from('hello'), { filename: 'a.txt', type: 'text/plain' });
  assert.equal(up.status, 200, JSON.stringify(up.body));
  const rel = await api(server, 'PATCH', `/api/webinars/${w.id}/drops/${draft.id}`, { token: org, body: { release: 'now' } });
  assert.equal(rel.status, 200, JSON.stringify(rel.body));
  await released(w.id, draft.id);
  assertError(await api(server, 'PATCH', `/api/webinars/${w.id}/drops/${draft.id}`, { token: org, body: { title: 'changed' } }), 409, 'conflict', undefined, 'PATCH released');
  assertError(await api(server, 'PATCH', `/api/webinars/${w.id}/drops/${draft.id}`, { token: org, body: { release: null } }), 409, 'conflict', undefined, 'un-release');
  assertError(await api(server, 'DELETE', `/api/webinars/${w.id}/drops/${draft.id}`, { token: org }), 409, 'conflict', undefined, 'DELETE released');
  assertError(await putFile(w.id, draft.id, Buffer.from('other')), 409, 'conflict', undefined, 'PUT file on a released drop');
  const after = (await organizerList(w.id)).find((d) => d.id === draft.id);
  assert.equal(after.title, 'Draft');
  assert.equal(after.file.sha256, sha256(Buffer.from('hello')));
  // Opened: a registrant of another webinar is refused.
  assertError(await api(server, 'POST', `/api/drops/${draft.id}/opened`, { token: stranger.token }), 403, 'forbidden', undefined, 'opened, another webinar');
  assertError(await api(server, 'POST', `/api/drops/${draft.id}/opened`), 401, 'unauthorized', undefined, 'opened without token');
});

test('a drop scheduled 2 s ahead reaches connected clients within 1 s of release_at, not before; later clients get it in hello', async () => {
  const w = await newWebinar();
  const other = await newWebinar();
  const [ada, bob] = [await register(w.id, 'Ada'), await register(w.id, 'Bob')];
  const stranger = await register(other.id, 'Stranger');
  const a = await joinAs(ada);
  const b = await joinAs(bob);
  const s = await joinAs(stranger);
  const org = await join({ token: server.adminToken, webinar: w.id, label: 'organizer' });
  assert.deepEqual(a.hello.drops, []);

  const releaseAt = Math.ceil((Date.now() + 2000) / 1000) * 1000;
  const d = await createDrop(w.id, { title: 'On time', body: 'Read *this*', url: 'https://example.org/on-time', release_at: rfc3339(releaseAt) });
  assert.equal(d.state, 'scheduled');
  assert.equal(d.release_at, rfc3339(releaseAt));
  assert.deepEqual(await registrantList(w.id, ada), [], 'not in the registrant list before release');

  const [ma, mb, mo] = await Promise.all([a.next(dropIs(d.id), 6000), b.next(dropIs(d.id), 6000), org.next(dropIs(d.id), 6000)]);
  for (const [c, m] of [[a, ma], [b, mb], [org, mo]]) {
    const arrived = c.arrivals[c.received.indexOf(m)];
    const late = arrived - releaseAt;
    assert.ok(late >= 0, `${c.label}: the drop arrived ${-late} ms before release_at`);
    assert.ok(late < 1000, `${c.label}: the drop arrived ${late} ms after release_at`);
  }
  assert.deepEqual(ma.drop, {
    id: d.id, title: 'On time', body: 'Read *this*', url: 'https://example.org/on-time', file: null, released_at: ma.drop.released_at, seen: false,
  });
  assert.ok(Date.parse(ma.drop.released_at) >= releaseAt && Date.parse(ma.drop.released_at) < releaseAt + 2000, `released_at ${ma.drop.released_at}`);
  assert.deepEqual(mb.drop, ma.drop);
  assert.deepEqual(mo.drop, ma.drop, 'the organizer gets the same drop event');
  await s.expectNone('drop', 300);
  for (const c of [a, b, org]) assert.equal(c.received.filter((m) => m.type === 'drop').length, 1, `${c.label}: exactly one drop event`);

  const late = await joinAs(ada);
  assert.deepEqual(late.hello.drops, [ma.drop], 'hello.drops of a client connecting afterwards');
  const orgLate = await join({ token: server.adminToken, webinar: w.id, label: 'organizer late' });
  assert.deepEqual(orgLate.hello.drops, [{ ...ma.drop, seen: true }], 'the organizer sees every released drop, seen true');
  const sLate = await joinAs(stranger);
  assert.deepEqual(sLate.hello.drops, [], 'another webinar has none');
  const listed = (await organizerList(w.id)).find((x) => x.id === d.id);
  assert.equal(listed.state, 'released');
  assert.equal(listed.released_at, ma.drop.released_at);
});

test('registrant list newest first with seen; POST drops/seen marks them seen in the list and in a new hello', async () => {
  const w = await newWebinar();
  const [ada, bob] = [await register(w.id, 'Ada'), await register(w.id, 'Bob')];
  const d1 = await releaseNow(w.id, { title: 'First' });
  assert.ok(Math.abs(Date.parse(d1.released_at) - Date.now()) < 3000);
  await sleep(1100);
  const d2 = await releaseNow(w.id, { title: 'Second' });
  await createDrop(w.id, { title: 'Scheduled later', release_at: '2036-06-02T08:00:00Z' });
  await createDrop(w.id, { title: 'Draft' });

  const list = await registrantList(w.id, ada);
  assert.deepEqual(list.map((d) => [d.id, d.seen]), [[d2.id, false], [d1.id, false]], 'only released ones, newest first, unseen');
  assert.deepEqual(list[0], { id: d2.id, title: 'Second', body: '', url: null, file: null, released_at: d2.released_at, seen: false });

  const seen = await api(server, 'POST', `/api/webinars/${w.id}/drops/seen`, { token: ada.token });
  assert.equal(seen.status, 204, JSON.stringify(seen.body));
  assert.deepEqual((await registrantList(w.id, ada)).map((d) => [d.id, d.seen]), [[d2.id, true], [d1.id, true]]);
  assert.deepEqual((await registrantList(w.id, bob)).map((d) => [d.id, d.seen]), [[d2.id, false], [d1.id, false]], 'seen is per registrant');
  const a = await joinAs(ada);
  assert.deepEqual(a.hello.drops.map((d) => [d.id, d.seen]), [[d2.id, true], [d1.id, true]], 'hello after seen');
  const b = await joinAs(bob);
  assert.deepEqual(b.hello.drops.map((d) => [d.id, d.seen]), [[d2.id, false], [d1.id, false]]);

  // Released after the marker: unseen again, on top; live as seen:false.
  await sleep(1100);
  const d3 = await releaseNow(w.id, { title: 'Third' });
  const live = await a.next(dropIs(d3.id));
  assert.equal(live.drop.seen, false);
  assert.deepEqual((await registrantList(w.id, ada)).map((d) => [d.id, d.seen]), [[d3.id, false], [d2.id, true], [d1.id, true]]);
  const a2 = await joinAs(ada);
  assert.deepEqual(a2.hello.drops.map((d) => [d.id, d.seen]), [[d3.id, false], [d2.id, true], [d1.id, true]]);
  assert.equal((await api(server, 'POST', `/api/webinars/${w.id}/drops/seen`, { token: ada.token })).status, 204, 'idempotent');
  assert.ok((await registrantList(w.id, ada)).every((d) => d.seen));

  // opened: 204, idempotent, counted once per registrant.
  for (let i = 0; i < 2; i++) assert.equal((await api(server, 'POST', `/api/drops/${d1.id}/opened`, { token: ada.token })).status, 204);
  assert.equal((await api(server, 'POST', `/api/drops/${d1.id}/opened`, { token: bob.token })).status, 204);
  assert.equal(await openedCount(w.id, d1.id, 2), 2);
  assert.equal((await organizerList(w.id)).find((d) => d.id === d2.id).opened, 0);
});

test('draft → PUT file → PATCH release now: the file is in the live drop, the list and hello', async () => {
  const w = await newWebinar();
  const ada = await register(w.id, 'Ada');
  const a = await joinAs(ada);
  const draft = await createDrop(w.id, { title: 'Slides', body: 'The deck' });
  const bytes = randomBytes(4096);
  const up = await putFile(w.id, draft.id, bytes, { filename: 'slides.pdf', type: 'application/pdf' });
  assert.equal(up.status, 200, JSON.stringify(up.body));
  assertOrganizerDrop(up.body);
  assert.deepEqual(up.body.file, { name: 'slides.pdf', size: 4096, content_type: 'application/pdf', sha256: sha256(bytes), download: `/api/drops/${draft.id}/file` });
  assert.equal(up.body.state, 'draft', 'a file does not release it');
  await a.expectNone('drop', 300);
  // A new file replaces the old one while it is a draft.
  const bytes2 = randomBytes(5000);
  const up2 = await putFile(w.id, draft.id, bytes2, { filename: 'dir/slides v2.pdf', type: 'application/pdf' });
  assert.equal(up2.status, 200, JSON.stringify(up2.body));
  assert.equal(up2.body.file.size, 5000);
  assert.equal(up2.body.file.sha256, sha256(bytes2));
  assert.equal(up2.body.file.name, 'slides v2.pdf', 'no path in the stored name');

  const rel = await api(server, 'PATCH', `/api/webinars/${w.id}/drops/${draft.id}`, { token: server.adminToken, body: { release: 'now' } });
  assert.equal(rel.status, 200, JSON.stringify(rel.body));
  assertOrganizerDrop(rel.body);
  assert.notEqual(rel.body.state, 'draft');
  const m = await a.next(dropIs(draft.id));
  await released(w.id, draft.id);
  assert.deepEqual(m.drop.file, { name: 'slides v2.pdf', size: 5000, content_type: 'application/pdf', download: `/api/drops/${draft.id}/file` });
  assert.deepEqual((await registrantList(w.id, ada))[0], m.drop);
  assert.deepEqual((await joinAs(ada)).hello.drops, [m.drop]);
  const got = await download(draft.id, { token: ada.token });
  assert.equal(got.status, 200);
  assert.equal(sha256(got.bytes), sha256(bytes2));
});

test('downloads: a 3 MB file byte for byte, ETag and 304, ranges, 416, and access rules; opened once per registrant', { timeout: 60_000 }, async () => {
  const w = await newWebinar();
  const other = await newWebinar();
  const [ada, bob, cy] = [await register(w.id, 'Ada'), await register(w.id, 'Bob'), await register(w.id, 'Cy')];
  const stranger = await register(other.id, 'Stranger');
  const bytes = randomBytes(3 * MiB + 123);
  const hash = sha256(bytes);
  const d = await createDrop(w.id, { title: 'Big file' });
  const up = await putFile(w.id, d.id, bytes, { filename: 'Arbeitsblatt ü.bin', type: 'application/x-test' });
  assert.equal(up.status, 200, JSON.stringify(up.body));
  assert.equal(up.body.file.size, bytes.length);
  assert.equal(up.body.file.sha256, hash);

  // Not released yet: a registrant gets 403, the organizer may download.
  assertError(await download(d.id, { token: ada.token }), 403, 'forbidden', undefined, 'download before release');
  const early = await download(d.id, { token: server.adminToken, bearer: true });
  assert.equal(early.status, 200);
  assert.equal(sha256(early.bytes), hash);

  const rel = await api(server, 'PATCH', `/api/webinars/${w.id}/drops/${d.id}`, { token: server.adminToken, body: { release: 'now' } });
  assert.equal(rel.status, 200, JSON.stringify(rel.body));
  await released(w.id, d.id);
  assert.equal(await openedCount(w.id, d.id, 0, 0), 0, 'the organizer downloading counts nothing');

  const full = await download(d.id, { token: ada.token });
  assert.equal(full.status, 200);
  assert.equal(full.bytes.length, bytes.length);
  assert.equal(sha256(full.bytes), hash, 'identical bytes');
  assert.equal(full.headers.get('etag'), `"${hash}"`);
  assert.equal(full.headers.get('accept-ranges'), 'bytes');
  // Not on the safe list: opaque bytes, downloaded rather than shown (drop_safety.test.mjs has the list).
  assert.equal(full.headers.get('content-type'), 'application/octet-stream');
  assert.equal(full.headers.get('content-length'), String(bytes.length));
  assert.match(full.headers.get('cache-control') ?? '', /^private\b/);
  assert.match(full.headers.get('content-disposition') ?? '', /^attachment; filename="Arbeitsblatt [ -~]*\.bin"; filename\*=UTF-8''Arbeitsblatt%20%C3%BC\.bin$/);

  const bearer = await download(d.id, { token: bob.token, bearer: true });
  assert.equal(bearer.status, 200, 'Authorization: Bearer works too');
  assert.equal(sha256(bearer.bytes), hash);

  const notModified = await download(d.id, { token: ada.token, headers: { 'if-none-match': `"${hash}"` } });
  assert.equal(notModified.status, 304);
  assert.equal(notModified.bytes.length, 0);
  assert.equal(notModified.headers.get('etag'), `"${hash}"`);
  const stale = await download(d.id, { token: ada.token, headers: { 'if-none-match': '"0000"' } });
  assert.equal(stale.status, 200, 'another ETag: the whole file');
  assert.equal(stale.bytes.length, bytes.length);

  const mid = await download(d.id, { token: ada.token, headers: { range: 'bytes=100-199' } });
  assert.equal(mid.status, 206);
  assert.equal(mid.headers.get('content-range'), `bytes 100-199/${bytes.length}`);
  assert.equal(mid.headers.get('content-length'), '100');
  assert.ok(mid.bytes.equals(bytes.subarray(100, 200)), 'exactly bytes 100..199');
  const tail = await download(d.id, { token: ada.token, headers: { range: 'bytes=-10' } });
  assert.equal(tail.status, 206);
  assert.equal(tail.headers.get('content-range'), `bytes ${bytes.length - 10}-${bytes.length - 1}/${bytes.length}`);
  assert.ok(tail.bytes.equals(bytes.subarray(bytes.length - 10)), 'the last 10 bytes');
  const from = await download(d.id, { token: ada.token, headers: { range: `bytes=${bytes.length - 5}-` } });
  assert.equal(from.status, 206);
  assert.equal(from.headers.get('content-range'), `bytes ${bytes.length - 5}-${bytes.length - 1}/${bytes.length}`);
  assert.ok(from.bytes.equals(bytes.subarray(bytes.length - 5)));
  const beyond = await download(d.id, { token: ada.token, headers: { range: `bytes=${bytes.length}-${bytes.length + 10}` } });
  assertError(beyond, 416, undefined, undefined, 'unsatisfiable range');
  assert.equal(beyond.headers.get('content-range'), `bytes */${bytes.length}`);

  assertError(await download(d.id, { token: stranger.token }), 403, 'forbidden', undefined, 'another webinar\'s registrant');
  assertError(await download(d.id), 401, 'unauthorized', undefined, 'no token');
  assertError(await download(d.id, { token: 'nonsense' }), 401, 'unauthorized', undefined, 'bad token');
  assertError(await download(999999, { token: ada.token }), 404, 'not_found', undefined, 'unknown drop');
  const noFile = await releaseNow(w.id, { title: 'No file' });
  assertError(await download(noFile.id, { token: ada.token }), 404, 'not_found', undefined, 'drop without a file');

  // Ada downloaded many times (and ranges), Bob once, Cy never: opened 2.
  assert.equal(await openedCount(w.id, d.id, 2), 2, 'opened counts each registrant once');
  await sleep(300);
  assert.equal(await openedCount(w.id, d.id, 2, 0), 2);
  assert.ok(cy);
});

test('an upload over drops.file_max_bytes gets 413 and the server keeps answering', { timeout: 30_000 }, async () => {
  const s = await startServer({ args: ['--config', configFile('[drops]\nfile_max_bytes = 1048576\n')] });
  extraServers.push(s);
  const w = await newWebinar(s);
  const d = await createDrop(w.id, { title: 'Limited' }, s);
  const big = randomBytes(2 * MiB);
  let res;
  try {
    res = await putFile(w.id, d.id, big, { s });
  } catch (err) {
    assert.fail(`the server did not answer an oversized upload with a response: ${err.message} ${err.cause?.message ?? ''}`);
  }
  assertError(res, 413, 'payload_too_large', undefined, 'PUT 2 MB with a 1 MiB limit');
  assert.equal((await organizerList(w.id, s)).find((x) => x.id === d.id).file, null, 'nothing stored');
  assert.equal((await api(s, 'GET', '/healthz')).status, 200, 'still answering');
  // Just under the limit is fine.
  const ok = await putFile(w.id, d.id, randomBytes(MiB), { s });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.equal(ok.body.file.size, MiB);
  assert.equal(s.proc.exitCode, null);
});

test('attended / missed: A in the live room during session 1 gets only the attended drop; B and C only the missed one', async () => {
  const now = Date.now();
  const w = await newWebinar(server, [{ starts_at: rfc3339(now - 10 * 60_000), duration_minutes: 60 },
    { starts_at: rfc3339(now + 7 * 86_400_000), duration_minutes: 60 }]);
  const [A, B, C] = [await register(w.id, 'A'), await register(w.id, 'B'), await register(w.id, 'C')];
  const a = await joinAs(A);
  await sleep(2500);  // arrivals are reported a second after the join
  const att = await releaseNow(w.id, { title: 'For attendees', audience: 'attended', audience_session: 1 });
  const mis = await releaseNow(w.id, { title: 'For who missed', audience: 'missed', audience_session: 1 });
  const live = await a.next(dropIs(att.id));
  assert.equal(live.drop.title, 'For attendees');
  await a.expectNone('drop', 500);
  assert.deepEqual((await registrantList(w.id, A)).map((d) => d.id), [att.id]);
  assert.deepEqual((await registrantList(w.id, B)).map((d) => d.id), [mis.id]);
  assert.deepEqual((await registrantList(w.id, C)).map((d) => d.id), [mis.id]);
  // Hello agrees (connecting now does not change an audience fixed at release).
  assert.deepEqual((await joinAs(A)).hello.drops.map((d) => d.id), [att.id]);
  assert.deepEqual((await joinAs(B)).hello.drops.map((d) => d.id), [mis.id]);
  // A drop not released to you: opened 403.
  assertError(await api(server, 'POST', `/api/drops/${mis.id}/opened`, { token: A.token }), 403, 'forbidden', undefined, 'opened a drop of another audience');
});

test('exactly once across kill -9: a drop due while the server was down is released at restart, once', { timeout: 60_000 }, async () => {
  const s = await startServer();
  extraServers.push(s);
  const w = await newWebinar(s);
  const ada = await register(w.id, 'Ada', s);
  const releaseAt = Math.ceil((Date.now() + 3000) / 1000) * 1000;
  const d = await createDrop(w.id, { title: 'Survives', release_at: rfc3339(releaseAt) }, s);
  await s.kill();
  await sleep(Math.max(0, releaseAt - Date.now()) + 1000);

  const s2 = await startServer({ dataDir: s.dataDir, adminToken: s.adminToken });
  extraServers.push(s2);
  const restartedAt = Date.now();
  let listed;
  for (const deadline = Date.now() + 5000; ;) {
    listed = (await organizerList(w.id, s2)).find((x) => x.id === d.id);
    if (listed.state === 'released' || Date.now() > deadline) break;
    await sleep(50);
  }
  assert.equal(listed.state, 'released', `not released within 5 s of the restart: ${JSON.stringify(listed)}`);
  assert.ok(Date.parse(listed.released_at) >= releaseAt, `released_at ${listed.released_at} before release_at ${rfc3339(releaseAt)}`);
  assert.ok(Date.parse(listed.released_at) >= Math.floor(restartedAt / 1000) * 1000 - 2000, `released_at ${listed.released_at} is at the restart`);
  const c = await connect(s2, { token: ada.token, label: 'after restart' });
  const hello = await c.next('hello');
  assert.deepEqual(hello.drops.map((x) => x.id), [d.id], 'in hello exactly once');
  await c.expectNone('drop', 300);
  await c.close();
  assert.deepEqual((await registrantList(w.id, ada, s2)).map((x) => x.id), [d.id]);

  await s2.kill();
  const s3 = await startServer({ dataDir: s.dataDir, adminToken: s.adminToken });
  extraServers.push(s3);
  await sleep(500);
  const again = (await organizerList(w.id, s3)).filter((x) => x.id === d.id);
  assert.equal(again.length, 1);
  assert.equal(again[0].released_at, listed.released_at, 'released_at unchanged by another restart');
  const c3 = await connect(s3, { token: ada.token, label: 'after second restart' });
  const hello3 = await c3.next('hello');
  assert.deepEqual(hello3.drops.map((x) => x.id), [d.id], 'still exactly one');
  assert.equal(hello3.drops[0].released_at, listed.released_at);
  await c3.expectNone('drop', 300);
  await c3.close();
  assert.deepEqual(await s3.stop(), { code: 0, signal: null });
});
