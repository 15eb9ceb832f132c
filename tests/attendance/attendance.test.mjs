// The attendance report against a real build/cohort: a registrant in the live room during a
// session shows up with joined/left/minutes in the JSON and the CSV, viewers per minute count
// them, someone who never came is listed as not attended, and the report is organizer-only.
// Also the organizer's registrant tools it sits beside: search and cancel on someone's behalf.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, api } from '../support/server.mjs';
import { assertError, sleep } from '../support/http.mjs';
import { connect } from '../support/ws.mjs';
import { parseCsv } from '../support/csv.mjs';

let server;

before(async () => { server = await startServer(); });
after(async () => { await server?.stop(); server?.cleanup(); });

const iso = (ms) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

async function webinarNow(extra = {}) {
  // A session that started two minutes ago, so this minute is inside it.
  const res = await api(server, 'POST', '/api/webinars', {
    token: server.adminToken,
    body: { title: 'Attendance', sessions: [{ starts_at: iso(Date.now() - 120_000), duration_minutes: 60 }], ...extra },
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

async function register(webinarId, name, email) {
  const res = await api(server, 'POST', `/api/webinars/${webinarId}/registrations`, { body: { name, email, consent: true } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

test('a registrant in the live room is reported with join, leave and minutes; an absentee is not attended', async () => {
  const w = await webinarNow();
  const came = await register(w.id, 'Maya Ortiz', 'maya@example.org');
  const absent = await register(w.id, 'Noor Haddad', 'noor@example.org');
  const c = await connect(server, { token: came.token, origin: new URL(server.url).origin });
  await c.next('hello');
  // Presence is reported a second after joining; the primary writes it through the single writer.
  let report;
  for (let i = 0; i < 40; i++) {
    await sleep(250);
    report = await api(server, 'GET', `/api/webinars/${w.id}/attendance?session=1`, { token: server.adminToken });
    assert.equal(report.status, 200, JSON.stringify(report.body));
    if (report.body.registrants.find((r) => r.registration_id === came.id)?.minutes > 0) break;
  }
  await c.close();
  const body = report.body;
  assert.equal(body.webinar_id, w.id);
  assert.equal(body.session.number, 1);
  assert.equal(body.min_minutes, 5);
  const maya = body.registrants.find((r) => r.registration_id === came.id);
  assert.equal(maya.name, 'Maya Ortiz');
  assert.equal(maya.minutes, 1);
  assert.equal(maya.attended, false, 'one minute is under attendance.min_minutes');
  const minuteStart = Math.floor(Date.now() / 60_000) * 60_000;
  assert.ok(Math.abs(Date.parse(maya.joined_at) - minuteStart) <= 60_000, maya.joined_at);
  assert.equal(Date.parse(maya.left_at) - Date.parse(maya.joined_at), 60_000);
  const noor = body.registrants.find((r) => r.registration_id === absent.id);
  assert.deepEqual([noor.minutes, noor.joined_at, noor.left_at, noor.attended], [0, null, null, false]);
  assert.equal(body.viewers.length, 60);
  assert.equal(body.viewers.reduce((n, v) => n + v.count, 0), 1);
  assert.ok(body.viewers.every((v) => /Z$/.test(v.at)));

  const csv = await fetch(`${server.url}/api/webinars/${w.id}/attendance.csv?session=1`, { headers: { authorization: `Bearer ${server.adminToken}` } });
  assert.equal(csv.status, 200);
  assert.match(csv.headers.get('content-type'), /^text\/csv/);
  assert.match(csv.headers.get('content-disposition'), /attendance\.csv/);
  const rows = parseCsv(await csv.text());
  assert.deepEqual(rows[0], ['registration_id', 'name', 'email', 'status', 'joined_at', 'left_at', 'minutes', 'attended', 'polls_answered']);
  assert.equal(rows.find((r) => r[0] === String(came.id))[8], '0 of 0');
  assert.deepEqual(maya.polls, { answered: 0, of: 0 });
  assert.deepEqual(rows.find((r) => r[0] === String(came.id)).slice(1, 4), ['Maya Ortiz', 'maya@example.org', 'registered']);
});

test('the report refuses bad sessions and non-organizers', async () => {
  const w = await webinarNow();
  const r = await register(w.id, 'Ana', 'ana@example.org');
  assertError(await api(server, 'GET', `/api/webinars/${w.id}/attendance?session=2`, { token: server.adminToken }), 404, 'not_found');
  assertError(await api(server, 'GET', `/api/webinars/${w.id}/attendance?session=x`, { token: server.adminToken }), 400, 'bad_request', 'session');
  assertError(await api(server, 'GET', '/api/webinars/99999/attendance', { token: server.adminToken }), 404, 'not_found');
  assertError(await api(server, 'GET', `/api/webinars/${w.id}/attendance`), 401, 'unauthorized');
  assertError(await api(server, 'GET', `/api/webinars/${w.id}/attendance`, { token: r.token }), 403, 'forbidden');
});

test('the organizer searches registrants and cancels one on their behalf; the waitlist moves up', async () => {
  const w = await webinarNow({ capacity: 1 });
  const first = await register(w.id, 'Zoë Brennan', 'zoe.brennan@example.org');
  const second = await register(w.id, 'Omar Said', 'omar@clinic.example');
  assert.equal(second.status, 'waitlisted');
  const search = async (q) => (await api(server, 'GET', `/api/webinars/${w.id}/registrations?q=${encodeURIComponent(q)}`,
    { token: server.adminToken })).body;
  assert.deepEqual((await search('brennan')).registrations.map((r) => r.id), [first.id]);
  assert.deepEqual((await search('CLINIC.example')).registrations.map((r) => r.id), [second.id]);
  assert.equal((await search('Zoë')).total, 1);
  assert.equal((await search('nobody')).total, 0);

  const c = await connect(server, { token: first.token, origin: new URL(server.url).origin });
  await c.next('hello');
  const cancel = await api(server, 'DELETE', `/api/webinars/${w.id}/registrations/${first.id}`, { token: server.adminToken });
  assert.equal(cancel.status, 204);
  // The cancelled registrant's chat closes and their link says so; the waitlisted one is in.
  const closed = await c.closed;
  assert.equal(closed.code, 4001);
  assert.equal((await api(server, 'GET', '/api/me', { token: first.token })).body.status, 'cancelled');
  assert.equal((await api(server, 'GET', '/api/me', { token: second.token })).body.status, 'registered');
  assertError(await api(server, 'DELETE', `/api/webinars/${w.id}/registrations/${first.id + 100000}`, { token: server.adminToken }), 404, 'not_found');
  const other = await webinarNow();
  assertError(await api(server, 'DELETE', `/api/webinars/${other.id}/registrations/${second.id}`, { token: server.adminToken }), 404, 'not_found');
});
