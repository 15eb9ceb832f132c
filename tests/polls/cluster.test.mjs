// Live polls on a primary and an edge sharing one real redis-server: the organizer's routes (on the primary) open,
// close and show a poll; members on both nodes see it, vote (a registrant with tabs on both nodes, voting again and
// changing the vote, is counted once), the organizer on the edge gets coalesced results, attendees get them once
// shown, a reconnect's hello carries the poll, the member's own answer and the results; the primary stores every
// answer (API results, CSV export, the attendance report's "polls answered N of M"); an edge started later learns
// everything from Redis.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { api } from '../support/server.mjs';
import { useCluster } from '../support/cluster.mjs';
import { assertError, sleep } from '../support/http.mjs';
import { connect } from '../support/ws.mjs';
import { parseCsv } from '../support/csv.mjs';

// redis-server, the primary and the edge; tracked clients are closed and checked after each test.
let primary, edge;
const cluster = useCluster({ config: '[attendance]\nmin_minutes = 1\n', onReady: (c) => ({ primary, edge } = c) });
const clients = cluster.clients;
let emails = 0;
const startEdge = () => cluster.startEdge();

const organizerApi = (method, pathname, body) => api(primary, method, pathname, { token: primary.adminToken, body });

async function newWebinar() {
  // A session under way now, so the attendance report's default session is this one.
  const res = await organizerApi('POST', '/api/webinars', {
    title: 'Polls test', capacity: null, sessions: [{ starts_at: new Date(Date.now() - 10 * 60000).toISOString().replace(/\.\d{3}Z$/, 'Z'), duration_minutes: 120 }],
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.id;
}

async function register(room, name) {
  const res = await api(primary, 'POST', `/api/webinars/${room}/registrations`,
    { body: { name, email: `polls${++emails}-${Date.now()}@example.com`, consent: true } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return { id: res.body.id, token: res.body.token, name };
}

async function join(node, person, label) {
  const c = await connect(node, { token: person.token, label: `${label ?? person.name}@${node === primary ? 'primary' : 'edge'}` });
  clients.add(c);
  await c.next('hello');
  return c;
}

async function joinOrganizer(node, room) {
  const c = await connect(node, { token: primary.adminToken, webinar: room, label: `organizer@${node === primary ? 'primary' : 'edge'}` });
  clients.add(c);
  await c.next('hello');
  return c;
}

async function createPoll(room, body) {
  const res = await organizerApi('POST', `/api/webinars/${room}/polls`, body);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

const vote = (c, poll, choices) => c.send({ type: 'poll.vote', poll_id: poll, choices });
const pollIs = (id, pred = () => true) => Object.assign((m) => m.type === 'poll' && m.poll.id === id && pred(m.poll), { label: `poll ${id}` });
// Waits until a poll.results for `poll` says `counts` (results are coalesced: intermediate ones may be skipped).
async function resultsReach(c, poll, counts, timeoutMs = 5000) {
  const want = JSON.stringify(counts);
  const hit = (m) => m.type === 'poll.results' && m.results.some((r) => r.poll_id === poll && JSON.stringify(r.counts) === want);
  return c.next(Object.assign(hit, { label: `poll.results ${poll} = ${want}` }), timeoutMs);
}

test('organizer routes: validation with the one error shape, drafts editable, state moves only forward', async () => {
  const room = await newWebinar();
  assertError(await organizerApi('POST', `/api/webinars/${room}/polls`, { session: 1, question: 'Q', kind: 'single', options: ['only'] }), 422, 'validation_failed', 'options');
  assertError(await organizerApi('POST', `/api/webinars/${room}/polls`, { session: 1, question: 'Q', kind: 'ranked', options: ['a', 'b'] }), 422, 'validation_failed', 'kind');
  assertError(await organizerApi('POST', `/api/webinars/${room}/polls`, { session: 9, question: 'Q', kind: 'single', options: ['a', 'b'] }), 422, 'validation_failed', 'session');
  assertError(await organizerApi('POST', `/api/webinars/${room}/polls`, { session: 1, question: ' ', kind: 'single', options: ['a', 'b'] }), 422, 'validation_failed', 'question');
  assertError(await organizerApi('POST', `/api/webinars/${room}/polls`, { session: 1, question: 'Q', kind: 'single', options: new Array(9).fill('x') }), 422, 'validation_failed', 'options');
  assert.equal((await api(primary, 'POST', `/api/webinars/${room}/polls`, { body: { session: 1, question: 'Q', kind: 'single', options: ['a', 'b'] } })).status, 401);
  const p = await createPoll(room, { session: 1, question: 'Best day?', kind: 'single', options: ['Mon', 'Tue'] });
  assert.equal(p.state, 'draft');
  assert.equal(p.results, null);
  const edited = await organizerApi('PATCH', `/api/webinars/${room}/polls/${p.id}`, { options: ['Mon', 'Tue', 'Wed'], kind: 'multiple' });
  assert.equal(edited.status, 200, JSON.stringify(edited.body));
  assert.deepEqual([edited.body.question, edited.body.kind, edited.body.options], ['Best day?', 'multiple', ['Mon', 'Tue', 'Wed']]);
  assertError(await organizerApi('POST', `/api/webinars/${room}/polls/${p.id}/close`), 409, 'conflict');
  assertError(await organizerApi('POST', `/api/webinars/${room}/polls/${p.id}/show`), 409, 'conflict');
  assert.equal((await organizerApi('POST', `/api/webinars/${room}/polls/${p.id}/open`)).status, 200);
  assertError(await organizerApi('POST', `/api/webinars/${room}/polls/${p.id}/open`), 409, 'conflict');
  assertError(await organizerApi('PATCH', `/api/webinars/${room}/polls/${p.id}`, { question: 'Too late' }), 409, 'conflict');
  assertError(await organizerApi('POST', `/api/webinars/${room}/polls/99999/open`), 404, 'not_found');
  const list = await organizerApi('GET', `/api/webinars/${room}/polls?session=1`);
  assert.deepEqual(list.body.polls.map((x) => [x.id, x.state, x.results.voters]), [[p.id, 'open', 0]]);
});

test('one poll across primary and edge: each registrant counted once, results coalesced, shown, stored, caught up', async () => {
  const room = await newWebinar();
  const [ada, zoe, max] = [await register(room, 'Ada'), await register(room, 'Zoë'), await register(room, 'Max')];
  const adaP = await join(primary, ada);
  const zoeE = await join(edge, zoe);
  const zoeP = await join(primary, zoe, 'Zoë 2nd tab');  // the same registrant on the other node too
  const org = await joinOrganizer(edge, room);
  const poll = await createPoll(room, { session: 1, question: 'Which topic next?', kind: 'single', options: ['Pricing', 'Hiring', 'Tools'] });
  await adaP.expectNone('poll', 300);  // a draft reaches no one

  assert.equal((await organizerApi('POST', `/api/webinars/${room}/polls/${poll.id}/open`)).status, 200);
  for (const c of [adaP, zoeE, zoeP]) {
    const m = await c.next(pollIs(poll.id));
    assert.deepEqual([m.poll.state, m.poll.shown, m.poll.results], ['open', false, undefined], `${c.label}: no results before shown`);
  }
  assert.deepEqual((await org.next(pollIs(poll.id))).poll.results, { counts: [0, 0, 0], voters: 0 });

  vote(adaP, poll.id, [0]);
  vote(zoeE, poll.id, [1]);
  assert.deepEqual((await adaP.next('poll.answer')).choices, [0]);
  assert.deepEqual((await zoeE.next('poll.answer')).choices, [1]);
  assert.deepEqual((await zoeP.next('poll.answer')).choices, [1], 'the other tab, on the other node, learns the answer');
  await resultsReach(org, poll.id, [1, 1, 0]);
  // Zoë changes her vote from her other tab (other node), then repeats it: replaced, never added.
  vote(zoeP, poll.id, [2]);
  await zoeE.next((m) => m.type === 'poll.answer' && m.choices[0] === 2);
  vote(zoeP, poll.id, [2]);
  await zoeP.next((m) => m.type === 'poll.answer' && m.choices[0] === 2);
  const final = await resultsReach(org, poll.id, [1, 0, 1]);
  assert.equal(final.results.find((r) => r.poll_id === poll.id).voters, 2);
  assert.deepEqual(adaP.drain('poll.results'), [], 'attendees get no results before they are shown');

  // Invalid votes are refused on the node that got them.
  vote(zoeE, poll.id, [0, 1]);
  assert.equal((await zoeE.next('error')).code, 'invalid');
  vote(org, poll.id, [0]);
  assert.equal((await org.next('error')).code, 'forbidden');

  // Shown: attendees on both nodes get the results now, and later changes coalesced.
  assert.equal((await organizerApi('POST', `/api/webinars/${room}/polls/${poll.id}/show`)).status, 200);
  for (const c of [adaP, zoeE]) assert.deepEqual((await c.next(pollIs(poll.id, (p) => p.shown))).poll.results, { counts: [1, 0, 1], voters: 2 });
  const maxE = await join(edge, max);
  vote(maxE, poll.id, [2]);
  await resultsReach(adaP, poll.id, [1, 0, 2]);
  await resultsReach(zoeE, poll.id, [1, 0, 2]);

  // Reconnect catch-up: the hello has the poll, my answer and the results.
  await zoeE.close();
  clients.delete(zoeE);
  const back = await join(edge, zoe, 'Zoë back');
  const inHello = back.hello.polls.find((p) => p.id === poll.id);
  assert.deepEqual([inHello.state, inHello.shown, inHello.answer, inHello.results], ['open', true, [2], { counts: [1, 0, 2], voters: 3 }]);

  // Closed: votes refused everywhere; the results stay.
  assert.equal((await organizerApi('POST', `/api/webinars/${room}/polls/${poll.id}/close`)).status, 200);
  await back.next(pollIs(poll.id, (p) => p.state === 'closed'));
  await adaP.next(pollIs(poll.id, (p) => p.state === 'closed'));
  vote(back, poll.id, [0]);
  assert.equal((await back.next('error')).code, 'closed');

  // The primary stored every answer, from both nodes, once each.
  let rows;
  for (const deadline = Date.now() + 5000; ;) {
    const res = await fetch(`${primary.url}/api/webinars/${room}/polls.csv`, { headers: { authorization: `Bearer ${primary.adminToken}` } });
    assert.equal(res.status, 200);
    rows = parseCsv(await res.text());
    if (rows.length === 4 || Date.now() > deadline) break;
    await sleep(100);
  }
  assert.deepEqual(rows[0], ['poll_id', 'session', 'question', 'registration_id', 'name', 'email', 'answer', 'answered_at']);
  assert.deepEqual(rows.slice(1).map((r) => [Number(r[3]), r[4], r[6]]).sort((a, b) => a[0] - b[0]),
    [[ada.id, 'Ada', 'Pricing'], [zoe.id, 'Zoë', 'Tools'], [max.id, 'Max', 'Tools']]);
  const listed = await organizerApi('GET', `/api/webinars/${room}/polls`);
  assert.deepEqual(listed.body.polls[0].results, { counts: [1, 0, 2], voters: 3 });

  // The attendance report: polls answered N of M (a second poll, opened and never answered).
  const second = await createPoll(room, { session: 1, question: 'Second?', kind: 'multiple', options: ['a', 'b'] });
  assert.equal((await organizerApi('POST', `/api/webinars/${room}/polls/${second.id}/open`)).status, 200);
  const report = await organizerApi('GET', `/api/webinars/${room}/attendance?session=1`);
  assert.equal(report.status, 200, JSON.stringify(report.body));
  const byId = Object.fromEntries(report.body.registrants.map((r) => [r.registration_id, r.polls]));
  assert.deepEqual(byId[zoe.id], { answered: 1, of: 2 });
  const csv = parseCsv(await (await fetch(`${primary.url}/api/webinars/${room}/attendance.csv?session=1`, { headers: { authorization: `Bearer ${primary.adminToken}` } })).text());
  assert.equal(csv[0].at(-1), 'polls_answered');
  assert.equal(csv.find((r) => Number(r[0]) === ada.id).at(-1), '1 of 2');

  // An edge started now learns the polls and every answer from Redis.
  const late = await startEdge();
  const lateZoe = await join(late, zoe, 'Zoë on a new edge');
  const seen = lateZoe.hello.polls.find((p) => p.id === poll.id);
  assert.deepEqual([seen.state, seen.answer, seen.results], ['closed', [2], { counts: [1, 0, 2], voters: 3 }]);
  assert.deepEqual(lateZoe.hello.polls.find((p) => p.id === second.id)?.answer, null);
});

test('10 voters voting at once, several times each: the organizer gets a few results frames, not one per vote', async () => {
  const room = await newWebinar();
  const people = [];
  for (let i = 0; i < 10; i++) people.push(await register(room, `Voter ${i}`));
  const conns = [];
  for (let i = 0; i < people.length; i++) conns.push(await join(i % 2 ? edge : primary, people[i]));
  const org = await joinOrganizer(primary, room);
  const poll = await createPoll(room, { session: 1, question: 'Fast?', kind: 'multiple', options: ['a', 'b', 'c'] });
  assert.equal((await organizerApi('POST', `/api/webinars/${room}/polls/${poll.id}/open`)).status, 200);
  for (const c of conns) await c.next(pollIs(poll.id));
  await org.next(pollIs(poll.id));
  const start = Date.now();
  for (let round = 0; round < 4; round++) conns.forEach((c, i) => vote(c, poll.id, round === 3 ? [i % 3] : [(i + round) % 3, 2].filter((v, j, a) => a.indexOf(v) === j)));
  await resultsReach(org, poll.id, [4, 3, 3], 8000);
  const elapsed = Date.now() - start;
  await sleep(700);
  const frames = org.received.filter((m) => m.type === 'poll.results');
  // 40 votes; at most one frame per 500 ms per room (+1 for the first right away).
  assert.ok(frames.length <= Math.ceil((elapsed + 700) / 500) + 1, `${frames.length} results frames in ${elapsed + 700} ms`);
  assert.ok(frames.length < 20, `${frames.length} results frames for 40 votes`);
  assert.deepEqual(frames.at(-1).results[0], { poll_id: poll.id, counts: [4, 3, 3], voters: 10 });
});
