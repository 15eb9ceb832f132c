// The Q&A across a primary and an edge on one real redis-server: a question asked on either node reaches both,
// votes are counted once per registrant (two sockets on two nodes, repeats), counts arrive coalesced, a reconnect's
// hello carries the questions with their counts, my votes and the pinned one, the organizer's routes (status, pin,
// anonymous asking) reach edge clients, and the primary stores it all (CSV export).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { api } from '../support/server.mjs';
import { useCluster } from '../support/cluster.mjs';
import { assertError, sleep } from '../support/http.mjs';
import { connect } from '../support/ws.mjs';
import { parseCsv } from '../support/csv.mjs';

// redis-server, the primary and the edge; tracked clients are closed and checked after each test.
let primary, edge;
const cluster = useCluster({ onReady: (c) => ({ primary, edge } = c) });
const clients = cluster.clients;
let emails = 0;

async function newWebinar() {
  const res = await api(primary, 'POST', '/api/webinars', { token: primary.adminToken,
    body: { title: 'Q&A test', capacity: null, sessions: [{ starts_at: '2036-06-01T18:00:00Z', duration_minutes: 60 }] } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.id;
}

async function register(room, name) {
  const res = await api(primary, 'POST', `/api/webinars/${room}/registrations`,
    { body: { name, email: `qa${++emails}-${Date.now()}@example.com`, consent: true } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return { id: res.body.id, token: res.body.token, name };
}

async function join(node, person) {
  const c = await connect(node, { token: person.token, label: `${person.name}@${node === primary ? 'primary' : 'edge'}` });
  clients.add(c);
  c.helloMsg = await c.next('hello');
  return c;
}

async function joinOrganizer(node, room) {
  const c = await connect(node, { token: primary.adminToken, webinar: room, label: `organizer@${node === primary ? 'primary' : 'edge'}` });
  clients.add(c);
  c.helloMsg = await c.next('hello');
  return c;
}

const questionIs = (text) => Object.assign((m) => m.type === 'qa.question' && m.question.text === text, { label: `qa.question "${text}"` });
const countIs = (id, n) => Object.assign((m) => m.type === 'qa.counts' && m.votes[id] === n, { label: `qa.counts ${id}=${n}` });

test('a question asked on the edge reaches the primary; votes from two nodes count once per registrant', async () => {
  const room = await newWebinar();
  const [ada, bob, cy] = [await register(room, 'Ada'), await register(room, 'Bob'), await register(room, 'Cy')];
  const adaEdge = await join(edge, ada);
  const bobPrimary = await join(primary, bob);
  const bobEdge = await join(edge, bob);   // Bob again, on the other node
  const cyPrimary = await join(primary, cy);
  assert.deepEqual(adaEdge.helloMsg.qa, { questions: [], voted: [], pinned: null, anonymous: false, total: 0 });

  adaEdge.send({ type: 'qa.ask', text: 'Will the slides be shared?' });
  const mine = (await adaEdge.next(questionIs('Will the slides be shared?'))).question;
  assert.equal(mine.mine, true);
  assert.equal(mine.from, 'Ada');
  const seen = (await bobPrimary.next(questionIs('Will the slides be shared?'))).question;
  assert.equal(seen.id, mine.id);
  assert.equal(seen.mine, undefined);
  await bobEdge.next(questionIs('Will the slides be shared?'));

  // Bob votes on both nodes, twice each: one vote.
  bobPrimary.send({ type: 'qa.vote', id: mine.id });
  bobEdge.send({ type: 'qa.vote', id: mine.id });
  bobPrimary.send({ type: 'qa.vote', id: mine.id, up: true });
  cyPrimary.send({ type: 'qa.vote', id: mine.id });
  await adaEdge.next(countIs(mine.id, 2));
  await bobEdge.next(countIs(mine.id, 2));
  await adaEdge.expectNone(countIs(mine.id, 3), 600);
  // Bob's other socket hears his vote.
  await bobEdge.next((m) => m.type === 'qa.voted' && m.id === mine.id && m.up === true);

  // A second question, fewer votes: hello orders by votes, then time; a reconnect catches up.
  cyPrimary.send({ type: 'qa.ask', text: 'Is there a recording?' });
  const second = (await adaEdge.next(questionIs('Is there a recording?'))).question;
  const bobAgain = await join(edge, bob);
  assert.deepEqual(bobAgain.helloMsg.qa.questions.map((q) => [q.id, q.votes]), [[mine.id, 2], [second.id, 0]]);
  assert.deepEqual(bobAgain.helloMsg.qa.voted, [mine.id]);

  // Withdrawn on the edge: counted down everywhere.
  bobEdge.send({ type: 'qa.vote', id: mine.id, up: false });
  await cyPrimary.next(countIs(mine.id, 1));
  await adaEdge.next(countIs(mine.id, 1));

  // The primary stored the votes cast on both nodes.
  await sleep(300);
  const csv = await api(primary, 'GET', `/api/webinars/${room}/questions.csv`, { token: primary.adminToken });
  assert.equal(csv.status, 200);
  const rows = parseCsv(csv.body);
  assert.deepEqual(rows[0], ['id', 'asked_at', 'asker_id', 'asker_name', 'anonymous', 'text', 'status', 'votes']);
  assert.deepEqual(rows.slice(1).map((r) => [r[0], r[3], r[5], r[7]]),
    [[mine.id, 'Ada', 'Will the slides be shared?', '1'], [second.id, 'Cy', 'Is there a recording?', '0']]);
});

test('a vote storm from many registrants reaches members as a few coalesced count frames', async () => {
  const room = await newWebinar();
  const asker = await register(room, 'Asker');
  const watcher = await join(edge, asker);
  watcher.send({ type: 'qa.ask', text: 'Storm?' });
  const q = (await watcher.next(questionIs('Storm?'))).question;
  const voters = [];
  for (let i = 0; i < 30; i++) voters.push(await join(i % 2 ? edge : primary, await register(room, `V${i}`)));
  const start = watcher.received.length;
  for (const v of voters) v.send({ type: 'qa.vote', id: q.id });
  await watcher.next(countIs(q.id, 30), 8000);
  const frames = watcher.received.slice(start).filter((m) => m.type === 'qa.counts');
  assert.ok(frames.length <= 8, `30 votes took ${frames.length} count frames`);
});

test('the organizer pins, answers and dismisses (WebSocket and API); anonymous asking is a series option', async () => {
  const room = await newWebinar();
  const [ada, bob] = [await register(room, 'Ada'), await register(room, 'Bob')];
  const host = await joinOrganizer(primary, room);
  const adaEdge = await join(edge, ada);
  const bobEdge = await join(edge, bob);

  bobEdge.send({ type: 'qa.ask', text: 'Secret?', anonymous: true });
  assert.equal((await bobEdge.next('error')).code, 'invalid');
  assertError(await api(primary, 'PUT', `/api/webinars/${room}/qa-settings`, { token: primary.adminToken, body: { anonymous: 'yes' } }),
    422, 'validation_failed', 'anonymous');
  const set = await api(primary, 'PUT', `/api/webinars/${room}/qa-settings`, { token: primary.adminToken, body: { anonymous: true } });
  assert.equal(set.status, 200, JSON.stringify(set.body));
  assert.equal((await bobEdge.next('qa.settings')).anonymous, true);
  bobEdge.send({ type: 'qa.ask', text: 'Secret?', anonymous: true });
  const secretQ = (await adaEdge.next(questionIs('Secret?'))).question;
  assert.equal(secretQ.from, null);
  assert.equal((await host.next(questionIs('Secret?'))).question.from, null);

  adaEdge.send({ type: 'qa.ask', text: 'Open one?' });
  const open = (await bobEdge.next(questionIs('Open one?'))).question;
  // A registrant cannot moderate; the organizer can, on the socket.
  adaEdge.send({ type: 'qa.moderate', id: open.id, action: 'pin' });
  assert.equal((await adaEdge.next('error')).code, 'forbidden');
  host.send({ type: 'qa.moderate', id: open.id, action: 'pin' });
  assert.equal((await bobEdge.next('qa.pinned')).question.id, open.id);

  // The API: answered, dismissed, errors in the one shape.
  await sleep(300);  // the primary's room writes the edge's question
  const answered = await api(primary, 'POST', `/api/webinars/${room}/questions/${open.id}/status`, { token: primary.adminToken, body: { status: 'answered' } });
  assert.equal(answered.status, 200, JSON.stringify(answered.body));
  assert.deepEqual(await adaEdge.next('qa.status'), { type: 'qa.status', id: open.id, status: 'answered' });
  const dismissed = await api(primary, 'POST', `/api/webinars/${room}/questions/${secretQ.id}/status`, { token: primary.adminToken, body: { status: 'dismissed' } });
  assert.equal(dismissed.status, 200, JSON.stringify(dismissed.body));
  assert.deepEqual(await adaEdge.next('qa.status'), { type: 'qa.status', id: secretQ.id, status: 'dismissed' });
  assertError(await api(primary, 'POST', `/api/webinars/${room}/questions/${open.id}/status`, { token: primary.adminToken, body: { status: 'done' } }),
    422, 'validation_failed', 'status');
  assertError(await api(primary, 'POST', `/api/webinars/${room}/questions/0123456789abcdef/status`, { token: primary.adminToken, body: { status: 'answered' } }),
    404, 'not_found');
  assertError(await api(primary, 'PUT', `/api/webinars/${room}/questions/pinned`, { body: { id: null } }), 401);
  const unpinned = await api(primary, 'PUT', `/api/webinars/${room}/questions/pinned`, { token: primary.adminToken, body: { id: null } });
  assert.equal(unpinned.status, 200, JSON.stringify(unpinned.body));
  assert.equal((await bobEdge.next('qa.pinned')).question, null);

  // A new connection sees the answered one and not the dismissed one.
  const late = await join(edge, await register(room, 'Late'));
  assert.deepEqual(late.helloMsg.qa.questions.map((q) => [q.id, q.status]), [[open.id, 'answered']]);
  assert.equal(late.helloMsg.qa.anonymous, true);
});
