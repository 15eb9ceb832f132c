// Webinar and registration routes against a real build/cohort: creation (explicit and weekly sessions), validation,
// listing order, updates, deletion, signup, duplicates, self-service cancel with waitlist promotion, organizer list
// and CSV export, and capacity under concurrent signups.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, api } from '../support/server.mjs';
import { assertError } from '../support/http.mjs';
import { parseCsv } from '../support/csv.mjs';

const UTC_SECONDS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const DAY_MS = 86_400_000;

let server;

// RFC 3339 UTC, seconds precision, `days` from now.
function fromNow(days) {
  return new Date(Math.floor((Date.now() + days * DAY_MS) / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

function webinarBody(extra = {}) {
  return { title: 'Infant massage basics', description: 'Weekly series', capacity: 10,
    sessions: [{ starts_at: '2036-06-01T18:00:00Z', duration_minutes: 60 }], ...extra };
}

async function createWebinar(extra = {}) {
  const res = await api(server, 'POST', '/api/webinars', { token: server.adminToken, body: webinarBody(extra) });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

function signup(webinarId, fields) {
  return api(server, 'POST', `/api/webinars/${webinarId}/registrations`, { body: { name: 'Ada Lovelace', consent: true, ...fields } });
}

async function signupOk(webinarId, fields) {
  const res = await signup(webinarId, fields);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

function organizerList(webinarId, query = '') {
  return api(server, 'GET', `/api/webinars/${webinarId}/registrations${query}`, { token: server.adminToken });
}

async function getWebinar(id) {
  const res = await api(server, 'GET', `/api/webinars/${id}`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body;
}

async function me(token) {
  const res = await api(server, 'GET', '/api/me', { token });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body;
}

// Every documented key is present (extra keys are tolerated: they break no client).
function assertHasKeys(obj, keys) {
  const missing = keys.filter((k) => !(k in obj));
  assert.deepEqual(missing, [], `missing keys in ${JSON.stringify(obj)}`);
}

function assertWebinarShape(w) {
  assertHasKeys(w, ['id', 'title', 'description', 'capacity', 'registered', 'waitlisted', 'seats_left', 'sessions', 'next_session_at', 'created_at']);
  assert.ok(Number.isInteger(w.id) && w.id > 0);
  assert.match(w.created_at, UTC_SECONDS);
  for (const s of w.sessions) {
    assert.match(s.starts_at, UTC_SECONDS);
    assert.match(s.ends_at, UTC_SECONDS);
    assert.equal(Date.parse(s.ends_at) - Date.parse(s.starts_at), s.duration_minutes * 60_000);
  }
  assert.deepEqual(w.sessions.map((s) => s.number), w.sessions.map((_, i) => i + 1));
}

before(async () => { server = await startServer(); });
after(async () => {
  if (server) {
    await server.stop();
    server.cleanup();
  }
});

test('create a webinar with explicit sessions: 201, times normalised to UTC Z', async () => {
  const res = await api(server, 'POST', '/api/webinars', {
    token: server.adminToken,
    body: webinarBody({
      title: 'Explicit', capacity: 25, ignored_unknown_field: 1,
      sessions: [
        { starts_at: '2036-01-01T00:30:00-05:00', duration_minutes: 45 },
        { starts_at: '2036-01-08T07:30:00+02:00', duration_minutes: 1440 },
      ],
    }),
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  const w = res.body;
  assertWebinarShape(w);
  assert.equal(w.title, 'Explicit');
  assert.equal(w.description, 'Weekly series');
  assert.equal(w.capacity, 25);
  assert.equal(w.registered, 0);
  assert.equal(w.waitlisted, 0);
  assert.equal(w.seats_left, 25);
  assert.deepEqual(w.sessions, [
    { number: 1, starts_at: '2036-01-01T05:30:00Z', ends_at: '2036-01-01T06:15:00Z', duration_minutes: 45 },
    { number: 2, starts_at: '2036-01-08T05:30:00Z', ends_at: '2036-01-09T05:30:00Z', duration_minutes: 1440 },
  ]);
  assert.equal(w.next_session_at, '2036-01-01T05:30:00Z');
  assert.deepEqual(await getWebinar(w.id), w);
});

test('create a webinar with the weekly form: 6 sessions 7 days apart, +02:00 input echoed in UTC Z', async () => {
  const res = await api(server, 'POST', '/api/webinars', {
    token: server.adminToken,
    body: { title: 'Weekly', description: '', capacity: null,
      weekly: { first_starts_at: '2036-03-06T01:30:00+02:00', count: 6, duration_minutes: 90 } },
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  const w = res.body;
  assertWebinarShape(w);
  assert.equal(w.capacity, null);
  assert.equal(w.seats_left, null);
  assert.deepEqual(w.sessions.map((s) => s.starts_at), [
    '2036-03-05T23:30:00Z', '2036-03-12T23:30:00Z', '2036-03-19T23:30:00Z',
    '2036-03-26T23:30:00Z', '2036-04-02T23:30:00Z', '2036-04-09T23:30:00Z',
  ]);
  for (let i = 1; i < w.sessions.length; i++) {
    assert.equal(Date.parse(w.sessions[i].starts_at) - Date.parse(w.sessions[i - 1].starts_at), 7 * DAY_MS);
  }
  assert.equal(w.sessions[0].ends_at, '2036-03-06T01:00:00Z');
  assert.ok(w.sessions.every((s) => s.duration_minutes === 90));
  assert.equal(w.next_session_at, '2036-03-05T23:30:00Z');
});

test('webinar limits at their boundaries are accepted', async () => {
  const longest = await createWebinar({ title: `  ${'T'.repeat(200)}  `, description: 'd'.repeat(5000), capacity: 100000,
    sessions: undefined, weekly: { first_starts_at: '2036-01-05T10:00:00Z', count: 52, duration_minutes: 1440 } });
  assert.equal(longest.sessions.length, 52);
  assert.equal(longest.capacity, 100000);
  const many = await createWebinar({ capacity: 1,
    sessions: Array.from({ length: 100 }, (_, i) => ({ starts_at: new Date(Date.UTC(2037, 0, 1 + i, 9)).toISOString().replace('.000Z', 'Z'), duration_minutes: 1 })) });
  assert.equal(many.sessions.length, 100);
  const cjk = await createWebinar({ title: '李'.repeat(200) });
  assert.equal(cjk.title, '李'.repeat(200));
});

test('webinar validation errors answer 422 with the right field, and store nothing', async () => {
  const count = (await api(server, 'GET', '/api/webinars')).body.webinars.length;
  const base = webinarBody();
  const without = (k) => { const b = { ...base }; delete b[k]; return b; };
  const weekly = { first_starts_at: '2036-02-01T10:00:00Z', count: 3, duration_minutes: 60 };
  const s = (starts_at, duration_minutes = 60) => ({ starts_at, duration_minutes });
  const cases = [
    [without('title'), 'title'],
    [{ ...base, title: '' }, 'title'],
    [{ ...base, title: '   \t ' }, 'title'],
    [{ ...base, title: 'T'.repeat(201) }, 'title'],
    [{ ...base, title: '李'.repeat(201) }, 'title'],
    [{ ...base, title: 42 }, 'title'],
    [{ ...base, description: 'd'.repeat(5001) }, 'description'],
    [{ ...base, description: 7 }, 'description'],
    [{ ...base, capacity: 0 }, 'capacity'],
    [{ ...base, capacity: -3 }, 'capacity'],
    [{ ...base, capacity: 100001 }, 'capacity'],
    [{ ...base, capacity: 2.5 }, 'capacity'],
    [{ ...base, capacity: '10' }, 'capacity'],
    [without('sessions'), 'sessions'],
    [{ ...base, weekly }, 'sessions'],
    [{ ...base, sessions: [] }, 'sessions'],
    [{ ...base, sessions: 'weekly' }, 'sessions'],
    [{ ...base, sessions: Array.from({ length: 101 }, () => s('2036-02-01T10:00:00Z')) }, 'sessions'],
    [{ ...base, sessions: [s('tomorrow')] }, 'sessions[0].starts_at'],
    [{ ...base, sessions: [s('2036-02-30T10:00:00Z')] }, 'sessions[0].starts_at'],
    [{ ...base, sessions: [s('2036-02-01T25:00:00Z')] }, 'sessions[0].starts_at'],
    [{ ...base, sessions: [s('2036-02-01T10:00:00')] }, 'sessions[0].starts_at'],
    [{ ...base, sessions: [s(20360201)] }, 'sessions[0].starts_at'],
    [{ ...base, sessions: [{ duration_minutes: 60 }] }, 'sessions[0].starts_at'],
    [{ ...base, sessions: [s('2036-02-01T10:00:00Z'), s('2036-02-08T10:00:00+25:00')] }, 'sessions[1].starts_at'],
    [{ ...without('sessions'), weekly: { ...weekly, first_starts_at: 'next monday' } }, 'weekly.first_starts_at'],
  ];
  for (const [body, field] of cases) {
    const res = await api(server, 'POST', '/api/webinars', { token: server.adminToken, body });
    assertError(res, 422, 'validation_failed', field, JSON.stringify(body).slice(0, 160));
  }
  // Field names the contract leaves open: accept the documented `sessions` or the precise sub-field.
  const loose = [
    [{ ...base, sessions: [s('2036-02-01T10:00:00Z', 0)] }, /^sessions(\[0\]\.duration_minutes)?$/],
    [{ ...base, sessions: [s('2036-02-01T10:00:00Z', 1441)] }, /^sessions(\[0\]\.duration_minutes)?$/],
    [{ ...without('sessions'), weekly: { ...weekly, duration_minutes: 0 } }, /^(sessions|weekly(\.duration_minutes)?)$/],
    [{ ...without('sessions'), weekly: { ...weekly, count: 0 } }, /^(sessions|weekly(\.count)?)$/],
    [{ ...without('sessions'), weekly: { ...weekly, count: 53 } }, /^(sessions|weekly(\.count)?)$/],
  ];
  for (const [body, field] of loose) {
    const res = await api(server, 'POST', '/api/webinars', { token: server.adminToken, body });
    assertError(res, 422, 'validation_failed', undefined, JSON.stringify(body).slice(0, 160));
    assert.match(res.body.error.field ?? '', field, JSON.stringify({ sent: body.sessions ?? body.weekly, got: res.body }));
  }
  assert.equal((await api(server, 'GET', '/api/webinars')).body.webinars.length, count, 'a rejected webinar was stored');
});

test('unknown or non-numeric webinar ids answer 404', async () => {
  const w = await createWebinar();
  for (const id of ['999999', '0', '-1', 'abc', '1.5', '1e3', `${w.id}abc`, '99999999999999999999999999']) {
    assertError(await api(server, 'GET', `/api/webinars/${id}`), 404, 'not_found', undefined, `GET /api/webinars/${id}`);
    assertError(await signup(id, { email: `nobody-${id}@example.com` }), 404, 'not_found', undefined, `POST /api/webinars/${id}/registrations`);
  }
  assertError(await api(server, 'PATCH', '/api/webinars/999999', { token: server.adminToken, body: { title: 'x' } }), 404, 'not_found');
  assertError(await api(server, 'DELETE', '/api/webinars/999999', { token: server.adminToken }), 404, 'not_found');
  assertError(await organizerList(999999), 404, 'not_found');
  assertError(await api(server, 'GET', '/api/webinars/999999/registrations.csv', { token: server.adminToken }), 404, 'not_found');
});

test('GET /api/webinars lists upcoming webinars soonest first, then past ones most recent first', async () => {
  const later = await createWebinar({ title: 'later', sessions: [{ starts_at: '2020-01-01T10:00:00Z', duration_minutes: 60 }, { starts_at: fromNow(10), duration_minutes: 60 }] });
  const soon = await createWebinar({ title: 'soon', sessions: [{ starts_at: fromNow(3), duration_minutes: 60 }] });
  const old = await createWebinar({ title: 'old', sessions: [{ starts_at: '2020-01-01T10:00:00Z', duration_minutes: 60 }] });
  const recent = await createWebinar({ title: 'recent', sessions: [{ starts_at: '2022-06-01T10:00:00Z', duration_minutes: 60 }] });
  assert.equal(later.next_session_at, later.sessions[1].starts_at);
  assert.equal(old.next_session_at, null);

  const res = await api(server, 'GET', '/api/webinars');
  assert.equal(res.status, 200);
  assert.deepEqual(Object.keys(res.body), ['webinars']);
  const list = res.body.webinars;
  list.forEach(assertWebinarShape);
  const ids = [soon.id, later.id, recent.id, old.id];
  assert.deepEqual(list.map((w) => w.id).filter((id) => ids.includes(id)), ids);

  const firstPast = list.findIndex((w) => w.next_session_at === null);
  const upcoming = firstPast < 0 ? list : list.slice(0, firstPast);
  const past = firstPast < 0 ? [] : list.slice(firstPast);
  assert.ok(past.every((w) => w.next_session_at === null), 'an upcoming webinar is listed after a past one');
  for (let i = 1; i < upcoming.length; i++) assert.ok(upcoming[i - 1].next_session_at <= upcoming[i].next_session_at, 'upcoming not soonest first');
  const lastStart = (w) => w.sessions.map((s) => s.starts_at).sort().at(-1);
  for (let i = 1; i < past.length; i++) assert.ok(lastStart(past[i - 1]) >= lastStart(past[i]), 'past not most recent first');
});

test('PATCH updates title and sessions; invalid patches are 422 and change nothing', async () => {
  const w = await createWebinar({ title: 'Before', capacity: 5 });
  let res = await api(server, 'PATCH', `/api/webinars/${w.id}`, { token: server.adminToken, body: { title: 'After' } });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.body.title, 'After');
  assert.equal(res.body.capacity, 5);
  assert.deepEqual(res.body.sessions, w.sessions);
  assert.equal((await getWebinar(w.id)).title, 'After');

  res = await api(server, 'PATCH', `/api/webinars/${w.id}`, { token: server.adminToken,
    body: { weekly: { first_starts_at: '2036-09-01T12:00:00+02:00', count: 3, duration_minutes: 30 } } });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.deepEqual(res.body.sessions.map((s) => s.starts_at), ['2036-09-01T10:00:00Z', '2036-09-08T10:00:00Z', '2036-09-15T10:00:00Z']);

  assertError(await api(server, 'PATCH', `/api/webinars/${w.id}`, { token: server.adminToken, body: { title: '  ' } }), 422, 'validation_failed', 'title');
  assertError(await api(server, 'PATCH', `/api/webinars/${w.id}`, { token: server.adminToken, body: { capacity: 0 } }), 422, 'validation_failed', 'capacity');
  assertError(await api(server, 'PATCH', `/api/webinars/${w.id}`, { token: server.adminToken, raw: '{"title":', headers: { 'content-type': 'application/json' } }), 400, 'bad_json');
  const after = await getWebinar(w.id);
  assert.equal(after.title, 'After');
  assert.equal(after.capacity, 5);
  assert.equal(after.sessions.length, 3);
});

test('PATCH raising capacity promotes waitlisted registrants, oldest first', async () => {
  const w = await createWebinar({ capacity: 2 });
  const people = [];
  for (const n of ['a', 'b', 'c', 'd', 'e']) people.push(await signupOk(w.id, { email: `raise-${n}@example.com` }));
  assert.deepEqual(people.map((p) => p.status), ['registered', 'registered', 'waitlisted', 'waitlisted', 'waitlisted']);

  const res = await api(server, 'PATCH', `/api/webinars/${w.id}`, { token: server.adminToken, body: { capacity: 4 } });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.body.capacity, 4);
  assert.equal(res.body.registered, 4);
  assert.equal(res.body.waitlisted, 1);
  assert.equal(res.body.seats_left, 0);
  assert.deepEqual(await Promise.all(people.map(async (p) => (await me(p.token)).status)),
    ['registered', 'registered', 'registered', 'registered', 'waitlisted']);
});

test('DELETE a webinar: 204, then 404, and its registrants\' tokens stop working', async () => {
  const w = await createWebinar();
  const p = await signupOk(w.id, { email: 'gone@example.com' });
  const res = await api(server, 'DELETE', `/api/webinars/${w.id}`, { token: server.adminToken });
  assert.equal(res.status, 204);
  assert.equal(res.body, '');
  assertError(await api(server, 'GET', `/api/webinars/${w.id}`), 404, 'not_found');
  assertError(await api(server, 'DELETE', `/api/webinars/${w.id}`, { token: server.adminToken }), 404, 'not_found');
  assertError(await signup(w.id, { email: 'late@example.com' }), 404, 'not_found');
  assertError(await organizerList(w.id), 404, 'not_found');
  assertError(await api(server, 'GET', '/api/me', { token: p.token }), 401, 'unauthorized');
  assert.ok(!(await api(server, 'GET', '/api/webinars')).body.webinars.some((x) => x.id === w.id));
});

test('signup: 201 with token and join_url; GET /api/me returns the registration', async () => {
  const w = await createWebinar({ capacity: 3 });
  const res = await signup(w.id, { name: '  Grace Hopper ', email: 'grace@example.com', profession: 'Occupational therapist' });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  const r = res.body;
  assertHasKeys(r, ['id', 'webinar_id', 'status', 'token', 'join_url']);
  assert.ok(Number.isInteger(r.id) && r.id > 0);
  assert.equal(r.webinar_id, w.id);
  assert.equal(r.status, 'registered');
  assert.equal(typeof r.token, 'string');
  assert.ok(r.token.length >= 16, `token "${r.token}" is too short to be unguessable`);
  assert.ok(r.token !== server.adminToken);
  assert.match(r.join_url, /^https?:\/\//);
  assert.ok(r.join_url.includes(`/live/${w.id}#token=`), r.join_url);
  assert.equal(decodeURIComponent(r.join_url.split('#token=')[1]), r.token);
  assert.equal(new URL(r.join_url).host, new URL(server.url).host);

  const m = await me(r.token);
  assert.equal(m.id, r.id);
  assert.equal(m.webinar_id, w.id);
  assert.equal(m.name, 'Grace Hopper');
  assert.equal(m.email, 'grace@example.com');
  assert.equal(m.profession, 'Occupational therapist');
  assert.equal(m.status, 'registered');
  assert.match(m.created_at, UTC_SECONDS);
  assertWebinarShape(m.webinar);
  assert.equal(m.webinar.id, w.id);
  assert.equal(m.webinar.registered, 1);
  assert.equal(m.webinar.seats_left, 2);
  assert.equal((await getWebinar(w.id)).registered, 1);
});

test('duplicate email (other case, surrounding spaces) answers 200 already_registered without a token', async () => {
  const w = await createWebinar();
  await signupOk(w.id, { email: 'Dup.Person@Example.com' });
  for (const email of ['dup.person@example.com', '  DUP.PERSON@EXAMPLE.COM  ', 'Dup.Person@Example.com']) {
    const res = await signup(w.id, { name: 'Someone Else', email });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body, { status: 'already_registered' });
  }
  const list = await organizerList(w.id);
  assert.equal(list.status, 200);
  assert.equal(list.body.total, 1);
  assert.equal(list.body.registrations.length, 1);
  assert.equal((await getWebinar(w.id)).registered, 1);
  // The same email may register for another webinar.
  const other = await createWebinar();
  await signupOk(other.id, { email: 'dup.person@example.com' });
});

test('DELETE /api/me cancels, promotes the oldest waitlisted, is idempotent, and the email can register again', async () => {
  const w = await createWebinar({ capacity: 1 });
  const first = await signupOk(w.id, { email: 'seat@example.com' });
  const wait1 = await signupOk(w.id, { email: 'wait1@example.com' });
  const wait2 = await signupOk(w.id, { email: 'wait2@example.com' });
  assert.deepEqual([first.status, wait1.status, wait2.status], ['registered', 'waitlisted', 'waitlisted']);

  let res = await api(server, 'DELETE', '/api/me', { token: first.token });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.body.status, 'cancelled');
  assert.equal(res.body.id, first.id);
  assert.equal(res.body.email, 'seat@example.com');
  assert.equal(res.body.webinar.id, w.id);
  assert.equal((await me(wait1.token)).status, 'registered');
  assert.equal((await me(wait2.token)).status, 'waitlisted');

  res = await api(server, 'DELETE', '/api/me', { token: first.token });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.body.status, 'cancelled');
  assert.equal((await me(wait2.token)).status, 'waitlisted', 'a repeated cancel promoted someone again');
  assert.equal((await me(first.token)).status, 'cancelled');
  const webinar = await getWebinar(w.id);
  assert.equal(webinar.registered, 1);
  assert.equal(webinar.waitlisted, 1);
  assert.equal(webinar.seats_left, 0);

  const again = await signup(w.id, { email: ' SEAT@example.com' });
  assert.equal(again.status, 201, JSON.stringify(again.body));
  assert.notEqual(again.body.token, first.token);
  assert.notEqual(again.body.id, first.id);
  assert.equal(again.body.status, 'waitlisted');

  // Cancelling a waitlisted registration frees no seat and promotes nobody.
  res = await api(server, 'DELETE', '/api/me', { token: wait2.token });
  assert.equal(res.body.status, 'cancelled');
  assert.equal((await me(again.body.token)).status, 'waitlisted');
});

test('/api/me: no token or unknown token 401, admin token 403', async () => {
  assertError(await api(server, 'GET', '/api/me'), 401, 'unauthorized');
  assertError(await api(server, 'GET', '/api/me', { token: 'bogus-token' }), 401, 'unauthorized');
  assertError(await api(server, 'DELETE', '/api/me', { token: 'bogus-token' }), 401, 'unauthorized');
  assertError(await api(server, 'GET', '/api/me', { token: server.adminToken }), 403, 'forbidden');
  assertError(await api(server, 'DELETE', '/api/me', { token: server.adminToken }), 403, 'forbidden');
});

test('registration validation errors answer 422 with the right field, and store nothing', async () => {
  const w = await createWebinar({ capacity: null });
  const ok = { name: 'Valid Name', email: 'valid@example.com', profession: 'PT', consent: true };
  const without = (k) => { const b = { ...ok }; delete b[k]; return b; };
  const cases = [
    [without('name'), 'name'],
    [{ ...ok, name: '' }, 'name'],
    [{ ...ok, name: '   ' }, 'name'],
    [{ ...ok, name: 'n'.repeat(201) }, 'name'],
    [{ ...ok, name: '李'.repeat(201) }, 'name'],
    [{ ...ok, name: 'Bell\u0007' }, 'name'],
    [{ ...ok, name: 'Two\nLines' }, 'name'],
    [{ ...ok, name: 12 }, 'name'],
    [without('email'), 'email'],
    [{ ...ok, email: 'not-an-email' }, 'email'],
    [{ ...ok, email: 'a@' }, 'email'],
    [{ ...ok, email: '@example.com' }, 'email'],
    [{ ...ok, email: 'a b@example.com' }, 'email'],
    [{ ...ok, email: `${'x'.repeat(243)}@example.com` }, 'email'],
    [{ ...ok, email: ['a@example.com'] }, 'email'],
    [{ ...ok, profession: 'p'.repeat(201) }, 'profession'],
    [{ ...ok, consent: false }, 'consent'],
    [without('consent'), 'consent'],
    [{ ...ok, consent: 'true' }, 'consent'],
    [{ ...ok, consent: 1 }, 'consent'],
    [{ ...ok, consent: null }, 'consent'],
  ];
  for (const [body, field] of cases) {
    assertError(await api(server, 'POST', `/api/webinars/${w.id}/registrations`, { body }), 422, 'validation_failed', field, JSON.stringify(body).slice(0, 160));
  }
  const list = await organizerList(w.id);
  assert.equal(list.body.total, 0, 'a rejected registration was stored');
  assert.equal((await getWebinar(w.id)).registered, 0);

  // Boundaries that are fine: 200 characters (not bytes), no profession, a 254-char email.
  await signupOk(w.id, { name: '李'.repeat(200), email: 'cjk@example.com' });
  await signupOk(w.id, { name: 'No Profession', email: 'noprof@example.com' });
  await signupOk(w.id, { name: 'Long Mail', email: `${'y'.repeat(64)}@${'d'.repeat(63)}.${'e'.repeat(63)}.${'f'.repeat(57)}.com` });
});

test('invalid UTF-8 in a request body answers 400 bad_json', async () => {
  const w = await createWebinar({ capacity: null });
  for (const bad of [[0xff, 0xfe], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe2, 0x82]]) {
    const raw = Buffer.concat([Buffer.from('{"name":"Bad'), Buffer.from(bad), Buffer.from('","email":"utf8@example.com","consent":true}')]);
    const res = await api(server, 'POST', `/api/webinars/${w.id}/registrations`, { raw, headers: { 'content-type': 'application/json' } });
    assertError(res, 400, 'bad_json', undefined, `bytes ${Buffer.from(bad).toString('hex')}`);
  }
  assert.equal((await organizerList(w.id)).body.total, 0);
});

test('organizer list: ordered by id, paginated with limit/next_after, filtered by status; bad limit is 400', async () => {
  const w = await createWebinar({ capacity: 3 });
  const made = [];
  for (let i = 0; i < 5; i++) made.push(await signupOk(w.id, { name: `Person ${i}`, email: `page${i}@example.com`, profession: i % 2 ? 'OT' : undefined }));
  await api(server, 'DELETE', '/api/me', { token: made[0].token }); // promotes made[3]

  let res = await organizerList(w.id, '?limit=2');
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assertHasKeys(res.body, ['registrations', 'total', 'next_after']);
  assert.equal(res.body.total, 5);
  assert.deepEqual(res.body.registrations.map((r) => r.id), [made[0].id, made[1].id]);
  assert.equal(res.body.next_after, made[1].id);
  const r0 = res.body.registrations[0];
  assertHasKeys(r0, ['id', 'name', 'email', 'profession', 'status', 'created_at']);
  assert.equal(r0.name, 'Person 0');
  assert.equal(r0.email, 'page0@example.com');
  assert.equal(r0.status, 'cancelled');
  assert.match(r0.created_at, UTC_SECONDS);
  assert.equal(res.body.registrations[1].profession, 'OT');

  res = await organizerList(w.id, `?limit=2&after=${made[1].id}`);
  assert.deepEqual(res.body.registrations.map((r) => r.id), [made[2].id, made[3].id]);
  assert.equal(res.body.next_after, made[3].id);
  res = await organizerList(w.id, `?limit=2&after=${made[3].id}`);
  assert.deepEqual(res.body.registrations.map((r) => r.id), [made[4].id]);
  assert.equal(res.body.next_after, null);

  res = await organizerList(w.id);
  assert.deepEqual(res.body.registrations.map((r) => r.status), ['cancelled', 'registered', 'registered', 'registered', 'waitlisted']);
  assert.equal(res.body.next_after, null);

  res = await organizerList(w.id, '?status=registered');
  assert.equal(res.status, 200);
  assert.deepEqual(res.body.registrations.map((r) => r.id), [made[1].id, made[2].id, made[3].id]);
  assert.equal(res.body.total, 3);
  res = await organizerList(w.id, '?status=waitlisted&limit=1');
  assert.deepEqual(res.body.registrations.map((r) => r.id), [made[4].id]);
  assert.equal(res.body.total, 1);
  res = await organizerList(w.id, '?status=cancelled');
  assert.deepEqual(res.body.registrations.map((r) => r.id), [made[0].id]);

  for (const q of ['?limit=0', '?limit=501', '?limit=-1', '?limit=abc']) {
    assertError(await organizerList(w.id, q), 400, 'bad_request', 'limit', q);
  }
  assertError(await organizerList(w.id, '?status=vip'), 400, 'bad_request');
  assertError(await organizerList(w.id, '?after=abc'), 400, 'bad_request');
  assert.equal((await organizerList(w.id, '?limit=500')).status, 200);
});

// RFC 4180 parser that fails on a bare LF or CR outside a quoted field and on stray quotes.

test('CSV export: header, CRLF, RFC 4180 quoting, formula neutralisation, UTF-8 intact', async () => {
  const w = await createWebinar({ capacity: null });
  const people = [
    { name: 'Smith, John', email: 'csv1@example.com', profession: 'Nurse, Midwife', want: ['Smith, John', 'Nurse, Midwife'] },
    { name: 'Say "hi"', email: 'csv2@example.com', profession: 'OT, "peds"', want: ['Say "hi"', 'OT, "peds"'] },
    { name: '=cmd()', email: 'csv3@example.com', profession: '+SUM(A1)', want: ["'=cmd()", "'+SUM(A1)"] },
    { name: '-dash', email: 'csv4@example.com', profession: '@at', want: ["'-dash", "'@at"] },
    { name: '@handle', email: 'csv5@example.com', profession: '-5', want: ["'@handle", "'-5"] },
    { name: '+plus', email: 'csv6@example.com', profession: '"=HYPERLINK(""x"")"', want: ["'+plus", `'"=HYPERLINK(""x"")"`] },
    // A formula behind leading quotes (or spaces) runs too: neutralised as well.
    { name: '"=SUM(A1)"', email: 'csv10@example.com', profession: "' -1", want: [`'"=SUM(A1)"`, "'' -1"] },
    { name: '=1,2', email: 'csv7@example.com', profession: 'Plain', want: ["'=1,2", 'Plain'] },
    { name: 'Zoë Ñúñez', email: 'csv8@example.com', profession: 'Physiothérapeute', want: ['Zoë Ñúñez', 'Physiothérapeute'] },
    { name: '李小龙', email: 'csv9@example.com', want: ['李小龙', ''] },
  ];
  const ids = new Map();
  for (const p of people) ids.set(p.email, (await signupOk(w.id, { name: p.name, email: p.email, profession: p.profession })).id);

  const res = await fetch(`${server.url}/api/webinars/${w.id}/registrations.csv`, { headers: { authorization: `Bearer ${server.adminToken}` } });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'text/csv; charset=utf-8');
  assert.equal(res.headers.get('content-disposition'), `attachment; filename="webinar-${w.id}-registrations.csv"`);
  const bytes = Buffer.from(await res.arrayBuffer());
  const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  assert.ok(text.startsWith('"id","name","email","profession","status","registered_at"\r\n'), JSON.stringify(text.slice(0, 80)));
  assert.ok(text.endsWith('\r\n'), 'the last record does not end with CRLF');
  assert.ok(text.includes('"Say ""hi"""'), 'double quotes are not doubled inside a quoted field');
  assert.ok(text.includes('"Smith, John"'));
  assert.ok(text.includes(`"'=1,2"`));

  const rows = parseCsv(text);
  assert.deepEqual(rows[0], ['id', 'name', 'email', 'profession', 'status', 'registered_at']);
  assert.equal(rows.length, 1 + people.length);
  const byEmail = new Map(rows.slice(1).map((r) => [r[2], r]));
  for (const p of people) {
    const r = byEmail.get(p.email);
    assert.ok(r, `no row for ${p.email}`);
    assert.equal(r.length, 6, JSON.stringify(r));
    assert.equal(r[0], String(ids.get(p.email)));
    assert.deepEqual([r[1], r[3]], p.want, `row for ${p.email}`);
    assert.equal(r[4], 'registered');
    assert.match(r[5], UTC_SECONDS);
  }

  assertError(await api(server, 'GET', `/api/webinars/${w.id}/registrations.csv`), 401, 'unauthorized');
});

// The contract limits profession to 200 characters and nothing else, so a line break in it must reach the CSV quoted.
// A line break has no place in a name or profession: it is refused at the door, so an export row
// is always one line. (CSV quoting of line breaks is covered by tests/registration/csv_test.cpp.)
test('a line break in name or profession is refused with 422 and nothing is stored', async () => {
  const w = await createWebinar({ capacity: null });
  for (const [field, body] of [['profession', { profession: 'Nurse\nMidwife' }], ['name', { name: 'Multi\r\nLine' }]]) {
    const res = await signup(w.id, { name: 'Multi Line', email: `multiline-${field}@example.com`, ...body });
    assert.equal(res.status, 422, JSON.stringify(res.body));
    assert.equal(res.body.error.field, field);
  }
  const csv = await api(server, 'GET', `/api/webinars/${w.id}/registrations.csv`, { token: server.adminToken });
  assert.equal(parseCsv(csv.body).length, 1, 'only the header row');
});

test('200 concurrent signups for 50 seats: exactly 50 registered and 150 waitlisted', async () => {
  const w = await createWebinar({ capacity: 50 });
  const results = await Promise.all(Array.from({ length: 200 }, (_, i) => signup(w.id, { name: `Crowd ${i}`, email: `crowd${i}@example.com` })));
  const statuses = results.map((r) => r.status);
  assert.deepEqual([...new Set(statuses)], [201], `non-201 answers: ${JSON.stringify(results.filter((r) => r.status !== 201).map((r) => r.body).slice(0, 3))}`);
  const registered = results.filter((r) => r.body.status === 'registered');
  const waitlisted = results.filter((r) => r.body.status === 'waitlisted');
  assert.equal(registered.length, 50);
  assert.equal(waitlisted.length, 150);
  assert.equal(new Set(results.map((r) => r.body.id)).size, 200, 'duplicate registration ids');
  assert.equal(new Set(results.map((r) => r.body.token)).size, 200, 'duplicate tokens');

  const all = await organizerList(w.id, '?limit=500');
  assert.equal(all.body.total, 200);
  const regList = await organizerList(w.id, '?status=registered&limit=500');
  assert.equal(regList.body.total, 50);
  assert.deepEqual(regList.body.registrations.map((r) => r.id).sort((a, b) => a - b), registered.map((r) => r.body.id).sort((a, b) => a - b));
  assert.equal((await organizerList(w.id, '?status=waitlisted&limit=500')).body.total, 150);
  // First come, first served: every registered id is older than every waitlisted id.
  assert.ok(Math.max(...registered.map((r) => r.body.id)) < Math.min(...waitlisted.map((r) => r.body.id)), 'a later signup took a seat');

  const webinar = await getWebinar(w.id);
  assert.equal(webinar.registered, 50);
  assert.equal(webinar.waitlisted, 150);
  assert.equal(webinar.seats_left, 0);
});
