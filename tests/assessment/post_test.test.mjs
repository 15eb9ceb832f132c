// The post-test against a real build/cohort: the organizer's bank per session (validation with
// the field at fault), when a registrant's test opens (session ended, live minutes at the
// threshold, CE offered), attempts (the open one returned, the limit, a pass closes the test,
// another registrant's attempt 404), grading on the server, and that no JSON a registrant gets
// ever carries a correct answer.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, api } from '../support/server.mjs';
import { assertError } from '../support/http.mjs';
import { endedSeries, attend, register, bank, rightAnswers, wrongAnswers, sql } from './ce_fixture.mjs';

let server;
const seenByRegistrants = [];

before(async () => { server = await startServer(); });
after(async () => {
  await server?.stop();
  server?.cleanup();
});

// Every registrant call goes through here, so the last test can scan all they were sent.
async function me(token, method, pathname, body) {
  const res = await api(server, method, pathname, { token, body });
  seenByRegistrants.push({ pathname, body: res.body });
  return res;
}

function keysIn(value, found = new Set()) {
  if (Array.isArray(value)) value.forEach((v) => keysIn(v, found));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) { found.add(k); keysIn(v, found); }
  return found;
}

async function putBank(webinarId, session, body) {
  return api(server, 'PUT', `/api/webinars/${webinarId}/sessions/${session}/test`, { token: server.adminToken, body });
}

test('the organizer puts and gets a bank; bad banks are refused with the field at fault', async () => {
  const w = await endedSeries(server);
  const put = await putBank(w.id, 1, bank);
  assert.equal(put.status, 200, JSON.stringify(put.body));
  assert.equal(put.body.questions.length, 4);
  const got = await api(server, 'GET', `/api/webinars/${w.id}/sessions/1/test`, { token: server.adminToken });
  assert.equal(got.status, 200);
  assert.deepEqual(got.body.questions.map((q) => [q.kind, q.prompt, q.options, q.correct]),
    bank.questions.map((q) => [q.kind, q.prompt, q.options, q.correct]));
  assert.ok(got.body.questions.every((q) => Number.isInteger(q.id)));

  const broken = structuredClone(bank);
  broken.questions[3].correct = [0, 1];
  assertError(await putBank(w.id, 1, broken), 422, 'validation_failed', 'questions[3].correct');
  broken.questions[3] = { kind: 'multiple', prompt: 'x', options: ['a', 'b'], correct: [] };
  assertError(await putBank(w.id, 1, broken), 422, 'validation_failed', 'questions[3].correct');
  broken.questions[3] = { kind: 'single', prompt: 'p'.repeat(1001), options: ['a', 'b'], correct: [0] };
  assertError(await putBank(w.id, 1, broken), 422, 'validation_failed', 'questions[3].prompt');
  broken.questions[3] = { kind: 'single', prompt: 'x', options: ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'], correct: [0] };
  assertError(await putBank(w.id, 1, broken), 422, 'validation_failed', 'questions[3].options');
  broken.questions[3] = { kind: 'single', prompt: 'x', options: ['a', 'o'.repeat(301)], correct: [0] };
  assertError(await putBank(w.id, 1, broken), 422, 'validation_failed', 'questions[3].options[1]');
  const tooMany = { questions: Array.from({ length: 51 }, () => bank.questions[0]) };
  assertError(await putBank(w.id, 1, tooMany), 422, 'validation_failed', 'questions');
  // Refusals changed nothing.
  const still = await api(server, 'GET', `/api/webinars/${w.id}/sessions/1/test`, { token: server.adminToken });
  assert.deepEqual(still.body, got.body);

  assertError(await putBank(w.id, 7, bank), 404, 'not_found');
  const r = await register(server, w.id, 'Ada', 'ada@example.org');
  assertError(await api(server, 'GET', `/api/webinars/${w.id}/sessions/1/test`, { token: r.token }), 403);
  assertError(await api(server, 'GET', `/api/webinars/${w.id}/sessions/1/test`), 401);
});

test('the test is closed before the session ends, below the live threshold and when CE is not offered', async () => {
  const w = await endedSeries(server);
  await putBank(w.id, 1, bank);
  await putBank(w.id, 2, bank);
  const exact = await register(server, w.id, 'Exact', 'exact@example.org');
  const short = await register(server, w.id, 'Short', 'short@example.org');
  attend(server, w, exact.id, 30);
  attend(server, w, exact.id, 30, 20);  // a rejoin: 20..49, nothing counted twice -> 50 minutes
  attend(server, w, exact.id, 1, 50);   // 51 = ceil(85 % of 60): exactly at the threshold
  attend(server, w, short.id, 50);

  const future = await me(exact.token, 'GET', '/api/me/ce/2/test');
  assert.equal(future.status, 200);
  assert.equal(future.body.state, 'not_ended');
  assert.match(future.body.message, /opens when session 2 ends/);
  assertError(await me(exact.token, 'POST', '/api/me/ce/2/test/attempts'), 403, 'not_ended');

  const below = await me(short.token, 'GET', '/api/me/ce/1/test');
  assert.equal(below.body.state, 'not_attended');
  assert.match(below.body.message, /needs 51 of the session's 60 live minutes \(you attended 50\)/);
  const refused = await me(short.token, 'POST', '/api/me/ce/1/test/attempts');
  assertError(refused, 403, 'not_attended');
  assert.match(refused.body.error.message, /51 of the session's 60/);

  const open = await me(exact.token, 'GET', '/api/me/ce/1/test');
  assert.equal(open.body.state, 'open', JSON.stringify(open.body));
  assert.deepEqual(open.body.attempts, { used: 0, max: 3, left: 3 });
  assert.equal(open.body.pass_percent, 80);
  assert.equal(open.body.questions, 4);
  assert.equal(open.body.open_attempt, null);

  assertError(await me(exact.token, 'GET', '/api/me/ce/9/test'), 404);

  const plain = await endedSeries(server, { title: 'No CE', ce: null });
  await putBank(plain.id, 1, bank);
  const p = await register(server, plain.id, 'Pat', 'pat@example.org');
  attend(server, plain, p.id, 60);
  const closed = await me(p.token, 'GET', '/api/me/ce/1/test');
  assert.equal(closed.body.state, 'not_offered');
  assert.equal(closed.body.message, 'CE is not offered for this series');
  const no = await me(p.token, 'POST', '/api/me/ce/1/test/attempts');
  assertError(no, 403, 'not_offered');
  assert.equal(no.body.error.message, 'CE is not offered for this series');
  assertError(await api(server, 'GET', '/api/me/ce/1/test', { token: server.adminToken }), 403);
});

test('attempts: graded on the server, the limit holds, a pass closes the test, another registrant\'s attempt is 404', async () => {
  const w = await endedSeries(server, { ce: { attempts_max: 2 } });
  await putBank(w.id, 1, bank);
  const learner = await register(server, w.id, 'Maya Ortiz', 'maya@example.org');
  const other = await register(server, w.id, 'Noor Haddad', 'noor@example.org');
  attend(server, w, learner.id, 60);
  attend(server, w, other.id, 55);

  const first = await me(learner.token, 'POST', '/api/me/ce/1/test/attempts');
  assert.equal(first.status, 201, JSON.stringify(first.body));
  assert.equal(first.body.questions.length, 4);
  assert.deepEqual(first.body.attempts, { used: 1, max: 2, left: 1 });
  // Starting again returns the open attempt, as shown.
  const again = await me(learner.token, 'POST', '/api/me/ce/1/test/attempts');
  assert.equal(again.status, 200);
  assert.equal(again.body.id, first.body.id);
  assert.deepEqual(again.body.questions, first.body.questions);
  const state = await me(learner.token, 'GET', '/api/me/ce/1/test');
  assert.deepEqual(state.body.open_attempt.questions, first.body.questions);

  // Another registrant cannot see or submit it.
  assertError(await me(other.token, 'POST', `/api/me/ce/1/test/attempts/${first.body.id}`, { answers: {} }), 404);

  // Bad answers: 422 naming the question; nothing is graded.
  const q0 = first.body.questions[0];
  assertError(await me(learner.token, 'POST', `/api/me/ce/1/test/attempts/${first.body.id}`, { answers: { 999999: [0] } }),
    422, 'validation_failed', 'answers.999999');
  const single = first.body.questions.find((q) => q.kind === 'single');
  assertError(await me(learner.token, 'POST', `/api/me/ce/1/test/attempts/${first.body.id}`,
    { answers: { [single.id]: single.options.map((o) => o.id) } }), 422, 'validation_failed', `answers.${single.id}`);
  assert.ok(q0);

  // One right of four: 25 %, failed.
  const answers = wrongAnswers(first.body.questions);
  const right = rightAnswers(first.body.questions);
  const firstId = first.body.questions[0].id;
  answers[firstId] = right[firstId];
  const failed = await me(learner.token, 'POST', `/api/me/ce/1/test/attempts/${first.body.id}`, { answers });
  assert.equal(failed.status, 200, JSON.stringify(failed.body));
  assert.deepEqual([failed.body.score_percent, failed.body.passed, failed.body.right, failed.body.total], [25, false, 1, 4]);
  assert.deepEqual(failed.body.attempts, { used: 1, max: 2, left: 1 });
  assertError(await me(learner.token, 'POST', `/api/me/ce/1/test/attempts/${first.body.id}`, { answers }), 409, 'already_submitted');

  // A partly right multiple-choice answer is wrong: 3 of 4 = 75 %, still below 80 %.
  const second = await me(learner.token, 'POST', '/api/me/ce/1/test/attempts');
  assert.equal(second.status, 201);
  const almost = rightAnswers(second.body.questions);
  const multiple = second.body.questions.find((q) => q.kind === 'multiple');
  almost[multiple.id] = almost[multiple.id].slice(1);
  const graded = await me(learner.token, 'POST', `/api/me/ce/1/test/attempts/${second.body.id}`, { answers: almost });
  assert.deepEqual([graded.body.score_percent, graded.body.passed], [75, false]);
  assert.deepEqual(graded.body.attempts, { used: 2, max: 2, left: 0 });

  const used = await me(learner.token, 'GET', '/api/me/ce/1/test');
  assert.equal(used.body.state, 'no_attempts_left');
  assert.equal(used.body.best_score, 75);
  assert.equal(used.body.history.length, 2);
  assertError(await me(learner.token, 'POST', '/api/me/ce/1/test/attempts'), 409, 'no_attempts_left');

  // The other registrant passes with every answer right; then the test is closed for them.
  const o1 = await me(other.token, 'POST', '/api/me/ce/1/test/attempts');
  const passed = await me(other.token, 'POST', `/api/me/ce/1/test/attempts/${o1.body.id}`, { answers: rightAnswers(o1.body.questions) });
  assert.deepEqual([passed.body.score_percent, passed.body.passed, passed.body.pass_percent], [100, true, 80]);
  const after = await me(other.token, 'GET', '/api/me/ce/1/test');
  assert.deepEqual([after.body.state, after.body.passed, after.body.best_score], ['already_passed', true, 100]);
  assertError(await me(other.token, 'POST', '/api/me/ce/1/test/attempts'), 409, 'already_passed');

  // Every attempt is stored with its answers and score.
  const rows = sql(server, `SELECT registration_id, score_percent, passed FROM ce_attempts WHERE webinar_id = ${w.id} ORDER BY id`);
  assert.equal(rows, `${learner.id}|25|0\n${learner.id}|75|0\n${other.id}|100|1`);
});

test('shuffled attempts show the same ids; an edit of the bank does not change an open attempt', async () => {
  const w = await endedSeries(server);
  await putBank(w.id, 1, bank);
  const r = await register(server, w.id, 'Lee', 'lee@example.org');
  attend(server, w, r.id, 60);
  const a = await me(r.token, 'POST', '/api/me/ce/1/test/attempts');
  assert.equal(a.status, 201);
  const ids = a.body.questions.map((q) => q.id).sort();
  const stored = (await api(server, 'GET', `/api/webinars/${w.id}/sessions/1/test`, { token: server.adminToken })).body.questions;
  assert.deepEqual(ids, stored.map((q) => q.id).sort());
  for (const q of a.body.questions) {
    const s = stored.find((x) => x.id === q.id);
    for (const o of q.options) assert.equal(o.text, s.options[o.id], 'an option id is its index in the bank');
  }
  // The organizer flips every answer; the open attempt is still graded as it was shown.
  const flipped = { questions: bank.questions.map((q) => ({ ...q, correct: q.kind === 'single' ? [q.correct[0] === 0 ? 1 : 0] : [2] })) };
  assert.equal((await putBank(w.id, 1, flipped)).status, 200);
  const res = await me(r.token, 'POST', `/api/me/ce/1/test/attempts/${a.body.id}`, { answers: rightAnswers(a.body.questions) });
  assert.deepEqual([res.body.score_percent, res.body.passed], [100, true]);
});

test('recorded credit: the replay share fetched (replay_views) opens the test when the series allows it', async () => {
  const w = await endedSeries(server, { ce: { recorded_credit: 1 } });
  await putBank(w.id, 1, bank);
  const r = await register(server, w.id, 'Ravi', 'ravi@example.org');
  attend(server, w, r.id, 10);
  const closed = await me(r.token, 'GET', '/api/me/ce/1/test');
  assert.equal(closed.body.state, 'not_attended');
  assert.match(closed.body.message, /or watching 85% of the replay once it is published/);
  sql(server, `INSERT INTO recordings (webinar_id, session_number, started_at, ended_at, segments, dir)
               VALUES (${w.id}, 1, ${w.session1Start}, ${w.session1Start + 3600}, 20, 'rec-${w.id}')`);
  const rec = sql(server, `SELECT id FROM recordings WHERE webinar_id = ${w.id}`);
  const view = (from, to) => sql(server, `WITH RECURSIVE s(x) AS (SELECT ${from} UNION ALL SELECT x + 1 FROM s WHERE x < ${to})
    INSERT OR IGNORE INTO replay_views (recording_id, registration_id, segment, webinar_id, first_at) SELECT ${rec}, ${r.id}, x, ${w.id}, 0 FROM s`);
  view(0, 15);  // 16 of 20 = 80 %
  const short = await me(r.token, 'GET', '/api/me/ce/1/test');
  assert.equal(short.body.state, 'not_attended');
  assert.match(short.body.message, /you watched 80%/);
  view(10, 16);  // segments seen twice count once: 17 of 20 = 85 %
  const open = await me(r.token, 'GET', '/api/me/ce/1/test');
  assert.equal(open.body.state, 'open', JSON.stringify(open.body));
  assert.equal((await me(r.token, 'POST', '/api/me/ce/1/test/attempts')).status, 201);
});

test('no response a registrant got carried a correct answer', () => {
  assert.ok(seenByRegistrants.length > 20, `${seenByRegistrants.length} responses scanned`);
  for (const { pathname, body } of seenByRegistrants) {
    const keys = keysIn(body);
    assert.ok(!keys.has('correct'), `${pathname} sent a "correct" key: ${JSON.stringify(body)}`);
    assert.ok(!JSON.stringify(body).includes('"correct"'), pathname);
  }
});
