// CE credit against a real build/cohort: the organizer's settings (round trip and validation),
// the public summary, "My CE" from real live-room minutes and from attendance rows written
// with the sqlite3 CLI (the completion edges: exactly at the threshold, one minute below, a
// session moved by PATCH, a rejoin), the attestation, and the organizer's CE report + CSV.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { startServer, api } from '../support/server.mjs';
import { assertError, sleep } from '../support/http.mjs';
import { connect } from '../support/ws.mjs';
import { parseCsv } from '../support/csv.mjs';

let server;

before(async () => { server = await startServer(); });
after(async () => { await server?.stop(); server?.cleanup(); });

const iso = (s) => new Date(s * 1000).toISOString().replace('.000Z', 'Z');
const nowMinute = () => Math.floor(Date.now() / 60_000) * 60;
const sql = (statement) =>
  execFileSync('sqlite3', ['-cmd', '.timeout 10000', path.join(server.dataDir, 'cohort.db'), statement]).toString().trim();

async function series(sessions, title = 'Feeding therapy in practice') {
  const res = await api(server, 'POST', '/api/webinars', {
    token: server.adminToken,
    body: { title, sessions: sessions.map(([startsAt, minutes]) => ({ starts_at: iso(startsAt), duration_minutes: minutes })) },
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

async function register(webinarId, name, email) {
  const res = await api(server, 'POST', `/api/webinars/${webinarId}/registrations`, { body: { name, email, consent: true } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

async function putCe(webinarId, body) {
  return api(server, 'PUT', `/api/webinars/${webinarId}/ce`, { token: server.adminToken, body });
}

// Attendance minutes [from, from + count) relative to a start, as the live room records them.
function attend(webinarId, registrationId, startsAt, from, count) {
  const rows = [];
  for (let m = from; m < from + count; m++) rows.push(`(${webinarId}, ${registrationId}, ${startsAt / 60 + m})`);
  sql(`INSERT OR IGNORE INTO attendance (webinar_id, registration_id, minute) VALUES ${rows.join(', ')};`);
}

const myCe = async (token) => {
  const res = await api(server, 'GET', '/api/me/ce', { token });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body;
};

test('settings: defaults without a row, a round trip, and every field validated', async () => {
  const start = nowMinute() + 86400;
  const w = await series([[start, 60], [start + 7 * 86400, 90]]);
  const got = await api(server, 'GET', `/api/webinars/${w.id}/ce`, { token: server.adminToken });
  assert.equal(got.status, 200);
  assert.equal(got.body.offered, false);
  assert.deepEqual([got.body.min_percent, got.body.pass_percent, got.body.attempts_max, got.body.ceu_per_hour], [85, 80, 3, 0.1]);
  assert.deepEqual([got.body.live_credit, got.body.recorded_credit, got.body.test_required, got.body.shuffle], [true, false, true, true]);
  assert.equal(got.body.sessions.length, 2);
  assert.deepEqual(got.body.sessions.map((s) => s.contact_hours), [null, null]);
  assert.deepEqual(got.body.sessions.map((s) => s.ceus), [0.1, 0.15]);

  const doc = {
    ...got.body,
    offered: true,
    provider_name: 'Pediatric Therapy Collective',
    provider_number: '12345',
    instructional_level: 'Intermediate',
    objectives: ['Name three feeding red flags', 'Plan a graded exposure'],
    statement: 'Pediatric Therapy Collective is an AOTA Approved Provider of professional development.',
    recorded_credit: true,
    min_percent: 80,
    attestation: 'I attended this session in full.',
    sessions: [{ ...got.body.sessions[0], title: 'Red flags', approval_number: 'AP-1', contact_hours: 1.5 }, got.body.sessions[1]],
  };
  const put = await putCe(w.id, doc);
  assert.equal(put.status, 200, JSON.stringify(put.body));
  const again = await api(server, 'GET', `/api/webinars/${w.id}/ce`, { token: server.adminToken });
  assert.deepEqual(again.body, put.body);
  assert.equal(again.body.offered, true);
  assert.deepEqual(again.body.objectives, doc.objectives);
  assert.deepEqual(again.body.sessions[0].title, 'Red flags');
  assert.equal(again.body.sessions[0].contact_hours, 1.5);
  assert.equal(again.body.sessions[0].ceus, 0.15);
  assert.equal(again.body.sessions[1].contact_hours, null);

  const summary = await api(server, 'GET', `/api/webinars/${w.id}/ce/summary`);
  assert.equal(summary.status, 200);
  assert.deepEqual(summary.body.provider, { name: 'Pediatric Therapy Collective', number: '12345' });
  assert.deepEqual(summary.body.sessions.map((s) => [s.number, s.contact_hours, s.ceus]), [[1, 1.5, 0.15], [2, 1.5, 0.15]]);
  assert.equal(summary.body.total_contact_hours, 3);
  assert.equal(summary.body.total_ceus, 0.3);
  assert.equal(summary.body.recorded_credit, true);

  const bad = async (body, field) => assertError(await putCe(w.id, body), 422, 'validation_failed', field, JSON.stringify(body));
  await bad({ min_percent: 0 }, 'min_percent');
  await bad({ min_percent: 101 }, 'min_percent');
  await bad({ pass_percent: 'high' }, 'pass_percent');
  await bad({ attempts_max: 0 }, 'attempts_max');
  await bad({ offered: 'yes' }, 'offered');
  await bad({ ceu_per_hour: -0.1 }, 'ceu_per_hour');
  await bad({ objectives: [1] }, 'objectives[0]');
  await bad({ statement: 'x'.repeat(4001) }, 'statement');
  await bad({ sessions: [{ number: 3 }] }, 'sessions[0].number');
  await bad({ sessions: [{ number: 1, contact_hours: 25 }] }, 'sessions[0].contact_hours');
  await bad({ colour: 'blue' }, 'colour');
  // A refused PUT changed nothing.
  assert.deepEqual((await api(server, 'GET', `/api/webinars/${w.id}/ce`, { token: server.adminToken })).body, put.body);

  const r = await register(w.id, 'Ana Lima', 'ana.settings@example.org');
  assertError(await api(server, 'GET', `/api/webinars/${w.id}/ce`), 401, 'unauthorized');
  assertError(await api(server, 'GET', `/api/webinars/${w.id}/ce`, { token: r.token }), 403, 'forbidden');
  assertError(await api(server, 'PUT', `/api/webinars/${w.id}/ce`, { token: r.token, body: { offered: true } }), 403, 'forbidden');
  assertError(await api(server, 'GET', '/api/webinars/999999/ce', { token: server.adminToken }), 404, 'not_found');
  assertError(await putCe(999999, { offered: true }), 404, 'not_found');
  const off = await series([[start, 60]]);
  assert.deepEqual((await api(server, 'GET', `/api/webinars/${off.id}/ce/summary`)).body, { webinar_id: off.id, offered: false });
});

test('exactly at the threshold earns live credit, one minute below does not, and a moved session recounts', async () => {
  const start = nowMinute() - 3 * 3600;  // ended: 20 minutes, three hours ago
  const w = await series([[start, 20]]);
  assert.equal((await putCe(w.id, { offered: true, test_required: false, min_percent: 85 })).status, 200);
  const at = await register(w.id, 'Maya Ortiz', 'maya.ce@example.org');
  const below = await register(w.id, 'Noor Haddad', 'noor.ce@example.org');
  attend(w.id, at.id, start, 0, 17);       // ceil(0.85 × 20) = 17
  attend(w.id, below.id, start, 0, 16);
  attend(w.id, below.id, start, -5, 5);    // before the start: not the session's

  const mine = await myCe(at.token);
  assert.equal(mine.title, 'Feeding therapy in practice');
  assert.equal(mine.ce.offered, true);
  const s = mine.sessions[0];
  assert.deepEqual([s.number, s.minutes_attended, s.minutes_needed, s.state, s.kind], [1, 17, 17, 'complete', 'live']);
  assert.deepEqual(s.missing, []);
  assert.equal(s.test.open, true);
  assert.equal(s.certificate, null);

  const short = (await myCe(below.token)).sessions[0];
  assert.deepEqual([short.minutes_attended, short.state, short.kind, short.test.open], [16, 'in_progress', 'none', false]);
  assert.deepEqual(short.missing, [{ code: 'attendance', text: 'attended 16 of 20 minutes — 17 were needed for live credit, and this series offers no recorded credit' }]);

  // The session moves two minutes later: minutes 0 and 1 fall outside it now.
  const moved = await api(server, 'PATCH', `/api/webinars/${w.id}`, {
    token: server.adminToken, body: { sessions: [{ starts_at: iso(start + 120), duration_minutes: 20 }] },
  });
  assert.equal(moved.status, 200, JSON.stringify(moved.body));
  const after = (await myCe(at.token)).sessions[0];
  assert.deepEqual([after.minutes_attended, after.state, after.kind], [15, 'in_progress', 'none']);
  assert.equal(after.starts_at, iso(start + 120));
});

test('recorded credit offered: 50 % live is told what is missing, then the replay earns recorded credit', async () => {
  const start = nowMinute() - 3 * 3600;
  const w = await series([[start, 60]]);
  assert.equal((await putCe(w.id, { offered: true, recorded_credit: true, test_required: false })).status, 200);
  const half = await register(w.id, 'Lee Park', 'lee.ce@example.org');
  attend(w.id, half.id, start, 0, 30);
  let s = (await myCe(half.token)).sessions[0];
  assert.equal(s.missing[0].text, 'attended 30 of 60 minutes — the replay can still earn recorded credit once it is published (watch 85 % of it)');

  sql(`INSERT INTO recordings (webinar_id, session_number, started_at, ended_at, segments, dir) VALUES (${w.id}, 1, ${start}, ${start + 3600}, 20, 'ce-test');`);
  const rec = sql(`SELECT id FROM recordings WHERE webinar_id = ${w.id};`);
  const views = (from, to) => {
    const rows = [];
    for (let i = from; i < to; i++) rows.push(`(${rec}, ${half.id}, ${i}, ${w.id}, ${start + 4000})`);
    sql(`INSERT OR IGNORE INTO replay_views (recording_id, registration_id, segment, webinar_id, first_at) VALUES ${rows.join(', ')};`);
  };
  views(0, 10);
  s = (await myCe(half.token)).sessions[0];
  assert.deepEqual([s.replay_available, s.replay_percent, s.state], [true, 50, 'in_progress']);
  assert.equal(s.missing[0].text, 'attended 30 of 60 minutes — the replay can still earn recorded credit (watch 85 % of it; 50 % watched so far)');
  views(10, 17);  // 17 of 20 = 85 %
  s = (await myCe(half.token)).sessions[0];
  assert.deepEqual([s.replay_percent, s.state, s.kind, s.test.open], [85, 'complete', 'recorded', true]);
});

test('a registrant in the live room accrues minutes; a rejoin does not count a minute twice', async () => {
  const start = nowMinute() - 120;
  const w = await series([[start, 60]]);
  assert.equal((await putCe(w.id, { offered: true, test_required: false })).status, 200);
  const r = await register(w.id, 'Zoë Brennan', 'zoe.ce@example.org');
  const origin = new URL(server.url).origin;
  const minutesNow = async () => (await myCe(r.token)).sessions[0].minutes_attended;
  const join = async () => {
    const c = await connect(server, { token: r.token, origin });
    await c.next('hello');
    let m = 0;
    for (let i = 0; i < 60 && m === 0; i++) { await sleep(250); m = await minutesNow(); }
    return c;
  };
  const first = await join();
  const once = await minutesNow();
  assert.ok(once >= 1, `minutes after the first visit: ${once}`);
  await first.close();
  const second = await join();  // the rejoin records this minute again
  await sleep(1500);
  await second.close();
  const s = (await myCe(r.token)).sessions[0];
  const rows = Number(sql(`SELECT count(DISTINCT minute) FROM attendance WHERE webinar_id = ${w.id} AND registration_id = ${r.id};`));
  assert.equal(s.minutes_attended, rows);
  assert.ok(s.minutes_attended <= 3, `a short visit and a rejoin: ${s.minutes_attended}`);
  assert.equal(s.state, 'in_progress');
  assert.match(s.missing[0].text, /^attended [123] of 60 minutes so far \(51 needed for live credit\)$/);
  assert.equal(s.attestation.can_tick, false);
});

test('the attestation: refused before the end, ticked once after it, and it completes the session', async () => {
  const past = nowMinute() - 3 * 3600;
  const w = await series([[past, 20], [nowMinute() + 86400, 20]]);
  const r = await register(w.id, 'Omar Said', 'omar.ce@example.org');
  assertError(await api(server, 'POST', '/api/me/ce/1/attest', { token: r.token, raw: '' }), 409, 'ce_not_offered');
  assert.equal((await putCe(w.id, { offered: true, test_required: false })).status, 200);
  assertError(await api(server, 'POST', '/api/me/ce/1/attest', { token: r.token, raw: '' }), 409, 'no_attestation');
  assert.equal((await putCe(w.id, { offered: true, test_required: false, attestation: 'I attended the whole session.' })).status, 200);
  attend(w.id, r.id, past, 0, 20);
  let s = (await myCe(r.token)).sessions[0];
  assert.deepEqual(s.missing, [{ code: 'attestation', text: 'attestation not ticked' }]);
  assert.deepEqual(s.attestation, { text: 'I attended the whole session.', ticked: false, can_tick: true });

  assertError(await api(server, 'POST', '/api/me/ce/2/attest', { token: r.token, raw: '' }), 409, 'session_not_ended');
  assertError(await api(server, 'POST', '/api/me/ce/7/attest', { token: r.token, raw: '' }), 404, 'not_found');
  assertError(await api(server, 'POST', '/api/me/ce/x/attest', { token: r.token, raw: '' }), 404, 'not_found');
  assertError(await api(server, 'POST', '/api/me/ce/1/attest', { token: server.adminToken, raw: '' }), 403, 'forbidden');
  assertError(await api(server, 'POST', '/api/me/ce/1/attest', { raw: '' }), 401, 'unauthorized');

  const ticked = await api(server, 'POST', '/api/me/ce/1/attest', { token: r.token, raw: '' });
  assert.equal(ticked.status, 200, JSON.stringify(ticked.body));
  assert.deepEqual([ticked.body.attestation.ticked, ticked.body.state, ticked.body.kind], [true, 'complete', 'live']);
  const at = sql(`SELECT attested_at FROM ce_attestations WHERE registration_id = ${r.id};`);
  const again = await api(server, 'POST', '/api/me/ce/1/attest', { token: r.token, raw: '' });
  assert.equal(again.status, 200);
  assert.equal(sql(`SELECT attested_at FROM ce_attestations WHERE registration_id = ${r.id};`), at, 'idempotent: the first tick stays');
  s = (await myCe(r.token)).sessions[0];
  assert.deepEqual([s.state, s.missing], ['complete', []]);
  assertError(await api(server, 'GET', '/api/me/ce', { token: server.adminToken }), 403, 'forbidden');
});

test('the CE report: per registrant and session with license answers, totals, CSV, and organizer only', async () => {
  const past = nowMinute() - 5 * 3600;
  const w = await series([[past, 60], [past + 3600 * 2, 30]], 'Motor planning');
  assert.equal((await putCe(w.id, {
    offered: true, test_required: false, sessions: [{ number: 2, contact_hours: 0.75, approval_number: 'AP-2', title: 'Part two' }],
  })).status, 200);
  const full = await register(w.id, 'Ines Duarte', 'ines.ce@example.org');
  const none = await register(w.id, 'Tom Novak', 'tom.ce@example.org');
  const gone = await register(w.id, 'Ruth Ames', 'ruth.ce@example.org');
  attend(w.id, full.id, past, 0, 60);
  attend(w.id, full.id, past + 7200, 0, 30);
  attend(w.id, gone.id, past, 0, 10);
  assert.equal((await api(server, 'DELETE', '/api/me', { token: gone.token })).status < 300, true);
  sql(`INSERT INTO registration_questions (webinar_id, position, key, label, kind) VALUES (${w.id}, 1, 'license_number', 'License number', 'text'),
       (${w.id}, 2, 'discipline', 'Discipline', 'choice'), (${w.id}, 3, 'state', 'State', 'text');`);
  sql(`INSERT INTO registration_answers (registration_id, question_id, value) SELECT ${full.id}, id,
       CASE key WHEN 'license_number' THEN 'OT-998877' WHEN 'discipline' THEN 'OT' ELSE 'Oregon' END FROM registration_questions WHERE webinar_id = ${w.id};`);

  const rep = await api(server, 'GET', `/api/webinars/${w.id}/ce/report`, { token: server.adminToken });
  assert.equal(rep.status, 200, JSON.stringify(rep.body));
  assert.equal(rep.body.session, null);
  assert.equal(rep.body.rows.length, 6, 'three registrants (one cancelled but seen) x two sessions');
  const ines = rep.body.rows.filter((x) => x.registration_id === full.id);
  assert.deepEqual(ines.map((x) => [x.session, x.minutes, x.progress, x.kind, x.contact_hours, x.ceus]),
    [[1, 60, 'complete', 'live', 1, 0.1], [2, 30, 'complete', 'live', 0.75, 0.08]]);
  assert.deepEqual([ines[0].license_number, ines[0].discipline, ines[0].state], ['OT-998877', 'OT', 'Oregon']);
  const tom = rep.body.rows.find((x) => x.registration_id === none.id);
  assert.deepEqual([tom.minutes, tom.progress, tom.kind, tom.license_number, tom.certificate], [0, 'in_progress', 'none', '', null]);
  assert.equal(rep.body.rows.find((x) => x.registration_id === gone.id).status, 'cancelled');
  const totals = Object.fromEntries(rep.body.totals.map((t) => [t.registration_id, t]));
  assert.deepEqual([totals[full.id].sessions_complete, totals[full.id].contact_hours, totals[full.id].ceus], [2, 1.75, 0.18]);
  assert.equal(totals[none.id].contact_hours, 0);

  const one = await api(server, 'GET', `/api/webinars/${w.id}/ce/report?session=2`, { token: server.adminToken });
  assert.equal(one.body.session, 2);
  assert.deepEqual([...new Set(one.body.rows.map((x) => x.session))], [2]);

  const csv = await fetch(`${server.url}/api/webinars/${w.id}/ce/report.csv`, { headers: { authorization: `Bearer ${server.adminToken}` } });
  assert.equal(csv.status, 200);
  assert.match(csv.headers.get('content-type'), /^text\/csv/);
  assert.match(csv.headers.get('content-disposition'), /-series-ce\.csv"$/);
  const rows = parseCsv(await csv.text());
  assert.deepEqual(rows[0], ['registration_id', 'name', 'email', 'license_number', 'discipline', 'state', 'session', 'minutes',
    'replay_percent', 'best_score', 'attempts', 'evaluation_submitted', 'attested', 'progress', 'kind', 'contact_hours', 'ceus',
    'certificate_code', 'issued_at', 'revoked']);
  assert.equal(rows.length, 7);
  const row = rows.find((x) => x[0] === String(full.id) && x[6] === '2');
  assert.deepEqual(row.slice(1, 7), ['Ines Duarte', 'ines.ce@example.org', 'OT-998877', 'OT', 'Oregon', '2']);
  assert.deepEqual(row.slice(13, 17), ['complete', 'live', '0.75', '0.08']);

  assertError(await api(server, 'GET', `/api/webinars/${w.id}/ce/report?session=x`, { token: server.adminToken }), 400, 'bad_request', 'session');
  assertError(await api(server, 'GET', `/api/webinars/${w.id}/ce/report?session=3`, { token: server.adminToken }), 404, 'not_found');
  assertError(await api(server, 'GET', `/api/webinars/${w.id}/ce/report`), 401, 'unauthorized');
  assertError(await api(server, 'GET', `/api/webinars/${w.id}/ce/report.csv`, { token: full.token }), 403, 'forbidden');
});
