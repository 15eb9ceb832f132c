// The evaluation against a real build/cohort: the organizer's items (series-wide and per session),
// a registrant's form for a session (open once it ended, required items, once only), the
// organizer's summary and CSV, and who may call what.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, api } from '../support/server.mjs';
import { assertError } from '../support/http.mjs';
import { parseCsv } from '../support/csv.mjs';
import { endedSeries, register } from './ce_fixture.mjs';

let server;
before(async () => { server = await startServer(); });
after(async () => { await server?.stop(); server?.cleanup(); });

const items = {
  items: [
    { session_number: null, kind: 'scale', prompt: 'The content was useful for my practice', required: true },
    { session_number: 1, kind: 'text', prompt: 'What will you change in your practice?', required: true },
    { session_number: null, kind: 'text', prompt: 'Anything else?', required: false },
    { session_number: 2, kind: 'scale', prompt: 'Session 2 pacing', required: true },
  ],
};

async function putItems(webinarId, body) {
  return api(server, 'PUT', `/api/webinars/${webinarId}/evaluation`, { token: server.adminToken, body });
}

test('the organizer edits the items; ids survive an edit; bad items are refused with the field', async () => {
  const w = await endedSeries(server);
  const put = await putItems(w.id, items);
  assert.equal(put.status, 200, JSON.stringify(put.body));
  assert.deepEqual(put.body.items.map((i) => [i.session_number, i.kind, i.prompt, i.required]),
    items.items.map((i) => [i.session_number, i.kind, i.prompt, i.required]));
  const edited = { items: put.body.items.slice(0, 3).map((i) => ({ ...i })) };
  edited.items[0].prompt = 'Useful for my practice';
  const again = await putItems(w.id, edited);
  assert.deepEqual(again.body.items.map((i) => i.id), put.body.items.slice(0, 3).map((i) => i.id));
  assert.equal(again.body.items[0].prompt, 'Useful for my practice');
  const got = await api(server, 'GET', `/api/webinars/${w.id}/evaluation`, { token: server.adminToken });
  assert.deepEqual(got.body, again.body);

  assertError(await putItems(w.id, { items: [{ kind: 'stars', prompt: 'x' }] }), 422, 'validation_failed', 'items[0].kind');
  assertError(await putItems(w.id, { items: [{ kind: 'text', prompt: 'x' }, { kind: 'text', prompt: '' }] }), 422, 'validation_failed', 'items[1].prompt');
  assertError(await putItems(w.id, { items: [{ kind: 'text', prompt: 'x', session_number: 5 }] }), 422, 'validation_failed', 'items[0].session_number');
  assertError(await putItems(w.id, { items: [{ id: 999999, kind: 'text', prompt: 'x' }] }), 422, 'validation_failed', 'items[0].id');
  assert.deepEqual((await api(server, 'GET', `/api/webinars/${w.id}/evaluation`, { token: server.adminToken })).body, again.body);
  assertError(await putItems(999999, items), 404);
  const r = await register(server, w.id, 'Ada', 'ada@example.org');
  assertError(await api(server, 'PUT', `/api/webinars/${w.id}/evaluation`, { token: r.token, body: items }), 403);
});

test('a registrant answers once after the session ended; required items are enforced; summary and CSV', async () => {
  const w = await endedSeries(server);
  const put = await putItems(w.id, items);
  const [scale, change, extra, s2] = put.body.items.map((i) => i.id);
  const maya = await register(server, w.id, 'Maya Ortiz', 'maya@example.org');
  const noor = await register(server, w.id, 'Noor Haddad', 'noor@example.org');

  const form = await api(server, 'GET', '/api/me/ce/1/evaluation', { token: maya.token });
  assert.equal(form.status, 200);
  assert.equal(form.body.state, 'open');
  assert.deepEqual(form.body.items.map((i) => i.id), [scale, change, extra]);
  assert.equal(form.body.submission, null);

  const early = await api(server, 'GET', '/api/me/ce/2/evaluation', { token: maya.token });
  assert.equal(early.body.state, 'not_ended');
  assert.deepEqual(early.body.items.map((i) => i.id), [scale, extra, s2]);
  assertError(await api(server, 'POST', '/api/me/ce/2/evaluation', { token: maya.token, body: { answers: { [scale]: 5 } } }), 403, 'not_ended');

  const post = (token, answers) => api(server, 'POST', '/api/me/ce/1/evaluation', { token, body: { answers } });
  assertError(await post(maya.token, { [scale]: 4 }), 422, 'validation_failed', `answers.${change}`);
  assertError(await post(maya.token, { [scale]: 4, [change]: '   ' }), 422, 'validation_failed', `answers.${change}`);
  assertError(await post(maya.token, { [scale]: 6, [change]: 'More play' }), 422, 'validation_failed', `answers.${scale}`);
  assertError(await post(maya.token, { [scale]: 4, [change]: 'x'.repeat(2001) }), 422, 'validation_failed', `answers.${change}`);
  assertError(await post(maya.token, { [scale]: 4, [change]: 'ok', [s2]: 3 }), 422, 'validation_failed', `answers.${s2}`);

  const sent = await post(maya.token, { [scale]: 4, [change]: 'More play-based =feeding' });
  assert.equal(sent.status, 201, JSON.stringify(sent.body));
  assert.equal(sent.body.state, 'submitted');
  assert.deepEqual(sent.body.submission.answers, { [scale]: 4, [change]: 'More play-based =feeding' });
  assertError(await post(maya.token, { [scale]: 5, [change]: 'again' }), 409, 'already_submitted');
  const mine = await api(server, 'GET', '/api/me/ce/1/evaluation', { token: maya.token });
  assert.equal(mine.body.state, 'submitted');
  assert.equal(mine.body.submission.answers[scale], 4);

  assert.equal((await post(noor.token, { [scale]: 5, [change]: 'Positioning first', [extra]: 'Thanks!' })).status, 201);

  const summary = await api(server, 'GET', `/api/webinars/${w.id}/evaluation/summary?session=1`, { token: server.adminToken });
  assert.equal(summary.status, 200);
  assert.equal(summary.body.responses, 2);
  const byId = Object.fromEntries(summary.body.items.map((i) => [i.id, i]));
  assert.deepEqual([byId[scale].count, byId[scale].mean, byId[scale].distribution], [2, 4.5, [0, 0, 0, 1, 1]]);
  assert.deepEqual(byId[change].answers.map((a) => a.text).sort(), ['More play-based =feeding', 'Positioning first']);
  assert.deepEqual(byId[extra].answers.map((a) => a.text), ['Thanks!']);
  assert.equal(byId[s2], undefined, 'session 2 items are not in session 1\'s summary');
  const all = await api(server, 'GET', `/api/webinars/${w.id}/evaluation/summary`, { token: server.adminToken });
  assert.equal(all.body.items.length, 4);
  assertError(await api(server, 'GET', `/api/webinars/${w.id}/evaluation/summary?session=x`, { token: server.adminToken }), 400);
  assertError(await api(server, 'GET', `/api/webinars/${w.id}/evaluation/summary`, { token: maya.token }), 403);

  const csv = await fetch(`${server.url}/api/webinars/${w.id}/evaluation.csv?session=1`, { headers: { authorization: `Bearer ${server.adminToken}` } });
  assert.equal(csv.status, 200);
  assert.match(csv.headers.get('content-type'), /^text\/csv/);
  assert.match(csv.headers.get('content-disposition'), /evaluation\.csv/);
  const rows = parseCsv(await csv.text());
  assert.deepEqual(rows[0], ['registration_id', 'name', 'email', 'session', 'submitted_at',
    'The content was useful for my practice', 'What will you change in your practice?', 'Anything else?']);
  assert.equal(rows.length, 3);
  const mayaRow = rows.find((r) => r[0] === String(maya.id));
  assert.deepEqual(mayaRow.slice(1, 4), ['Maya Ortiz', 'maya@example.org', '1']);
  assert.deepEqual(mayaRow.slice(5), ['4', 'More play-based =feeding', '']);
  assert.deepEqual(rows.find((r) => r[0] === String(noor.id)).slice(5), ['5', 'Positioning first', 'Thanks!']);
});

test('closed when CE is not offered, and for the waitlisted', async () => {
  const plain = await endedSeries(server, { title: 'No CE', ce: null });
  const put = await putItems(plain.id, items);
  const r = await register(server, plain.id, 'Pat', 'pat@example.org');
  const form = await api(server, 'GET', '/api/me/ce/1/evaluation', { token: r.token });
  assert.equal(form.body.state, 'not_offered');
  const no = await api(server, 'POST', '/api/me/ce/1/evaluation', { token: r.token, body: { answers: { [put.body.items[0].id]: 3 } } });
  assertError(no, 403, 'not_offered');
  assert.equal(no.body.error.message, 'CE is not offered for this series');

  const full = await api(server, 'POST', '/api/webinars', {
    token: server.adminToken,
    body: { title: 'Full', capacity: 1, sessions: [{ starts_at: new Date(Date.now() - 7_200_000).toISOString(), duration_minutes: 60 }] },
  });
  await register(server, full.body.id, 'Seated', 'seated@example.org');
  const waiting = await register(server, full.body.id, 'Waiting', 'waiting@example.org');
  assert.equal(waiting.status, 'waitlisted');
  assertError(await api(server, 'GET', '/api/me/ce/1/evaluation', { token: waiting.token }), 403, 'waitlisted');
  assertError(await api(server, 'GET', '/api/me/ce/1/test', { token: waiting.token }), 403, 'waitlisted');
});
