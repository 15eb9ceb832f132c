// Signup questions against a real build/cohort: the organizer defines them (presets and custom, validation), the
// public series JSON shows them, a signup answers them (required, choice, checkbox, unknown keys → 422 naming
// answers.<key>, nothing stored on a refusal), and the answers appear in /api/me, the organizer's list and the CSV;
// an edit keeps the answers to questions kept and drops those of a question removed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServer, api } from '../support/server.mjs';
import { assertError } from '../support/http.mjs';
import { parseCsv } from '../support/csv.mjs';

let server;
let emails = 0;

before(async () => { server = await startServer(); });
after(async () => {
  if (server) { await server.stop(); server.cleanup(); }
});

async function createWebinar() {
  const res = await api(server, 'POST', '/api/webinars', { token: server.adminToken, body: {
    title: 'Feeding therapy', description: '', capacity: null, sessions: [{ starts_at: '2036-06-01T18:00:00Z', duration_minutes: 60 }] } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

const putQuestions = (id, questions, token = server.adminToken) =>
  api(server, 'PUT', `/api/webinars/${id}/questions`, { token, body: { questions } });

const signup = (id, answers, extra = {}) => api(server, 'POST', `/api/webinars/${id}/registrations`,
  { body: { name: 'Ada Lovelace', email: `q${++emails}@example.org`, consent: true, ...(answers === undefined ? {} : { answers }), ...extra } });

const STANDARD = [
  { preset: 'license_number', required: true },
  { preset: 'state' },
  { preset: 'discipline', required: true },
  { label: 'How did you hear about us?', kind: 'text' },
  { label: 'I agree to the recording', kind: 'checkbox', required: true },
];

async function registrations(id) {
  const res = await api(server, 'GET', `/api/webinars/${id}/registrations`, { token: server.adminToken });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.registrations;
}

async function csv(id) {
  const res = await fetch(`${server.url}/api/webinars/${id}/registrations.csv`, { headers: { authorization: `Bearer ${server.adminToken}` } });
  assert.equal(res.status, 200);
  return parseCsv(await res.text());
}

test('the organizer defines questions: presets, custom keys, the public series JSON', async () => {
  const w = await createWebinar();
  const res = await putQuestions(w.id, STANDARD);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const qs = res.body.questions;
  assert.deepEqual(qs.slice(0, 3), [
    { key: 'license_number', label: 'License number', kind: 'text', options: [], required: true },
    { key: 'state', label: 'State or province of licensure', kind: 'text', options: [], required: false },
    { key: 'discipline', label: 'Discipline', kind: 'choice', options: ['OT', 'OTA', 'PT', 'PTA', 'SLP', 'Other'], required: true },
  ]);
  assert.match(qs[3].key, /^q\d+$/);
  assert.match(qs[4].key, /^q\d+$/);
  assert.notEqual(qs[3].key, qs[4].key);
  assert.equal(qs[4].kind, 'checkbox');

  const got = await api(server, 'GET', `/api/webinars/${w.id}/questions`, { token: server.adminToken });
  assert.deepEqual(got.body.questions, qs);
  const pub = await api(server, 'GET', `/api/webinars/${w.id}`);
  assert.deepEqual(pub.body.questions, qs, 'GET /api/webinars/{id} carries the questions');
  const list = await api(server, 'GET', '/api/webinars');
  assert.deepEqual(list.body.webinars.find((x) => x.id === w.id).questions, qs, 'and so does the list');

  assertError(await api(server, 'GET', `/api/webinars/${w.id}/questions`), 401, 'unauthorized');
  assertError(await putQuestions(w.id, STANDARD, 'not-a-token'), 401, 'unauthorized');
  assertError(await putQuestions(999999, STANDARD), 404, 'not_found');
});

test('question lists that are refused name the field', async () => {
  const w = await createWebinar();
  const cases = [
    [Array.from({ length: 21 }, (_, i) => ({ label: `Q${i}` })), 'questions'],
    [[{ label: '' }], 'questions[0].label'],
    [[{ label: 'x'.repeat(201) }], 'questions[0].label'],
    [[{ label: 'Pick', kind: 'choice', options: ['only one'] }], 'questions[0].options'],
    [[{ label: 'Pick', kind: 'choice', options: Array.from({ length: 31 }, (_, i) => `o${i}`) }], 'questions[0].options'],
    [[{ label: 'Pick', kind: 'choice', options: ['a', 'y'.repeat(101)] }], 'questions[0].options[1]'],
    [[{ label: 'Pick', kind: 'choice', options: ['a', 'a'] }], 'questions[0].options[1]'],
    [[{ label: 'A', kind: 'date' }], 'questions[0].kind'],
    [[{ preset: 'birthday' }], 'questions[0].preset'],
    [[{ preset: 'state' }, { key: 'state', label: 'Again' }], 'questions[1].key'],
    [[{ key: 'Bad Key', label: 'A' }], 'questions[0].key'],
  ];
  for (const [questions, field] of cases)
    assertError(await putQuestions(w.id, questions), 422, 'validation_failed', field, JSON.stringify(questions).slice(0, 80));
  assertError(await putQuestions(w.id, [{ key: 'q99999', label: 'Mine' }]), 422, 'validation_failed', 'questions[0].key',
    'a q<number> key the series does not have');
  assert.deepEqual((await api(server, 'GET', `/api/webinars/${w.id}/questions`, { token: server.adminToken })).body.questions, [],
    'nothing stored');
});

test('a signup answers the questions; refusals are 422 answers.<key> and store nothing', async () => {
  const w = await createWebinar();
  const qs = (await putQuestions(w.id, STANDARD)).body.questions;
  const [, , , heard, agree] = qs.map((q) => q.key);
  const good = { license_number: '  OT-12345 ', state: 'Ohio', discipline: 'OT', [heard]: 'a colleague', [agree]: true };

  const refused = [
    [{ ...good, license_number: undefined }, 'answers.license_number', /License number is required/],
    [{ ...good, license_number: '   ' }, 'answers.license_number', /required/],
    [{ ...good, license_number: 'x'.repeat(201) }, 'answers.license_number', /200/],
    [{ ...good, discipline: 'Nurse' }, 'answers.discipline', /one of OT, OTA, PT, PTA, SLP, Other/],
    [{ ...good, discipline: undefined }, 'answers.discipline', /required/],
    [{ ...good, [agree]: false }, `answers.${agree}`, /ticked/],
    [{ ...good, [agree]: 'yes' }, `answers.${agree}`, /true or false/],
    [{ ...good, favourite_colour: 'blue' }, 'answers.favourite_colour', /no question/],
    [{ ...good, state: 42 }, 'answers.state', /text/],
  ];
  for (const [answers, field, message] of refused) {
    const res = await signup(w.id, JSON.parse(JSON.stringify(answers)));
    assertError(res, 422, 'validation_failed', field, JSON.stringify(answers));
    assert.match(res.body.error.message, message);
  }
  assertError(await signup(w.id, 'OT-1'), 422, 'validation_failed', 'answers');
  assert.deepEqual(await registrations(w.id), [], 'no refused signup was stored');

  const ok = await signup(w.id, good);
  assert.equal(ok.status, 201, JSON.stringify(ok.body));
  const me = await api(server, 'GET', '/api/me', { token: ok.body.token });
  assert.equal(me.status, 200);
  assert.deepEqual(me.body.answers, [
    { key: 'license_number', label: 'License number', value: 'OT-12345' },
    { key: 'state', label: 'State or province of licensure', value: 'Ohio' },
    { key: 'discipline', label: 'Discipline', value: 'OT' },
    { key: heard, label: 'How did you hear about us?', value: 'a colleague' },
    { key: agree, label: 'I agree to the recording', value: true },
  ]);

  // An optional question left out is simply not answered.
  const partial = await signup(w.id, { license_number: 'PT-9', discipline: 'PT', [agree]: true });
  assert.equal(partial.status, 201, JSON.stringify(partial.body));
  const list = await registrations(w.id);
  assert.equal(list.length, 2);
  assert.deepEqual(list[1].answers.map((a) => a.key), ['license_number', 'discipline', agree]);
  assert.deepEqual(list[0].answers, me.body.answers, "the organizer's list shows the same answers");

  const rows = await csv(w.id);
  assert.deepEqual(rows[0], ['id', 'name', 'email', 'profession', 'status', 'registered_at', 'License number',
    'State or province of licensure', 'Discipline', 'How did you hear about us?', 'I agree to the recording']);
  assert.deepEqual(rows[1].slice(6), ['OT-12345', 'Ohio', 'OT', 'a colleague', 'yes']);
  assert.deepEqual(rows[2].slice(6), ['PT-9', '', 'PT', '', 'yes']);

  // A series without questions refuses answers, and takes signups without them as before.
  const plain = await createWebinar();
  assertError(await signup(plain.id, { license_number: 'x' }), 422, 'validation_failed', 'answers.license_number');
  assert.equal((await signup(plain.id)).status, 201);
  assert.deepEqual((await csv(plain.id))[0], ['id', 'name', 'email', 'profession', 'status', 'registered_at']);
});

test('an edit keeps the answers to questions kept, drops those of a question removed', async () => {
  const w = await createWebinar();
  const qs = (await putQuestions(w.id, STANDARD)).body.questions;
  const [, , , heard, agree] = qs.map((q) => q.key);
  const ok = await signup(w.id, { license_number: 'SLP-7', state: 'Texas', discipline: 'SLP', [heard]: 'mail', [agree]: true });
  assert.equal(ok.status, 201, JSON.stringify(ok.body));

  // Reorder, relabel the license number, drop "state" and the checkbox, add a new choice.
  const edited = await putQuestions(w.id, [
    { key: 'discipline', required: true },
    { key: heard, label: 'Where did you hear of us?', kind: 'text' },
    { key: 'license_number', label: 'OT license number', required: true },
    { label: 'Session format', kind: 'choice', options: ['Live', 'Replay'] },
  ]);
  assert.equal(edited.status, 200, JSON.stringify(edited.body));
  assert.deepEqual(edited.body.questions.map((q) => q.key).slice(0, 3), ['discipline', heard, 'license_number']);
  assert.equal(edited.body.questions[2].kind, 'text', 'a preset keeps its kind');

  const me = await api(server, 'GET', '/api/me', { token: ok.body.token });
  assert.deepEqual(me.body.answers, [
    { key: 'discipline', label: 'Discipline', value: 'SLP' },
    { key: heard, label: 'Where did you hear of us?', value: 'mail' },
    { key: 'license_number', label: 'OT license number', value: 'SLP-7' },
  ]);
  const rows = await csv(w.id);
  assert.deepEqual(rows[0].slice(6), ['Discipline', 'Where did you hear of us?', 'OT license number', 'Session format']);
  assert.deepEqual(rows[1].slice(6), ['SLP', 'mail', 'SLP-7', '']);

  // Changing a question's kind drops its answers (they no longer fit).
  await putQuestions(w.id, [{ key: heard, label: 'Heard of us', kind: 'checkbox' }]);
  const after = await api(server, 'GET', '/api/me', { token: ok.body.token });
  assert.deepEqual(after.body.answers, []);
});

test('with confirm_email, answers are checked the same and stored with the held registration', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'cohort-questions-cfg-'));
  const config = path.join(dir, 'cohort.toml');
  writeFileSync(config, '[registration]\nconfirm_email = true\n');
  const s = await startServer({ args: ['--config', config] });
  try {
    const w = (await api(s, 'POST', '/api/webinars', { token: s.adminToken, body: {
      title: 'Confirm first', capacity: null, sessions: [{ starts_at: '2036-06-01T18:00:00Z', duration_minutes: 60 }] } })).body;
    assert.equal((await api(s, 'PUT', `/api/webinars/${w.id}/questions`, { token: s.adminToken,
      body: { questions: [{ preset: 'license_number', required: true }] } })).status, 200);
    const post = (answers) => api(s, 'POST', `/api/webinars/${w.id}/registrations`,
      { body: { name: 'Ada', email: 'held@example.org', consent: true, answers } });
    assertError(await post({}), 422, 'validation_failed', 'answers.license_number');
    const ok = await post({ license_number: 'OT-5' });
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
    assert.equal(ok.body.status, 'pending');
    const res = await fetch(`${s.url}/api/webinars/${w.id}/registrations.csv`, { headers: { authorization: `Bearer ${s.adminToken}` } });
    const rows = parseCsv(await res.text());
    assert.equal(rows.length, 2, 'one registration, held');
    assert.deepEqual([rows[0][6], rows[1][6]], ['License number', 'OT-5']);
  } finally {
    await s.stop();
    s.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
});
