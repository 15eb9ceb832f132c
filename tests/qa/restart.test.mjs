// The Q&A is stored on the primary: after a restart of a single node (no Redis, so nothing but SQLite remembers)
// a new connection's hello has the questions with their counts, my votes, the pinned one and the anonymous option;
// status and votes that repeat after the restart change nothing.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, api } from '../support/server.mjs';
import { sleep } from '../support/http.mjs';
import { connect } from '../support/ws.mjs';

const servers = [];
after(async () => {
  for (const s of servers) await s.stop();
  servers[0]?.cleanup();
});

async function join(server, person) {
  const c = await connect(server, { token: person.token, label: person.name });
  c.helloMsg = await c.next('hello');
  return c;
}

test('questions, votes, the pinned one and the anonymous option survive a restart', async () => {
  const first = await startServer();
  servers.push(first);
  const created = await api(first, 'POST', '/api/webinars', { token: first.adminToken,
    body: { title: 'Q&A restart', capacity: null, sessions: [{ starts_at: '2036-06-01T18:00:00Z', duration_minutes: 60 }] } });
  assert.equal(created.status, 201);
  const room = created.body.id;
  const people = [];
  for (const name of ['Ada', 'Bob', 'Cy']) {
    const r = await api(first, 'POST', `/api/webinars/${room}/registrations`, { body: { name, email: `${name}.qa.restart@example.com`, consent: true } });
    assert.equal(r.status, 201);
    people.push({ name, token: r.body.token });
  }
  assert.equal((await api(first, 'PUT', `/api/webinars/${room}/qa-settings`, { token: first.adminToken, body: { anonymous: true } })).status, 200);
  const [ada, bob, cy] = await Promise.all(people.map((p) => join(first, p)));
  ada.send({ type: 'qa.ask', text: 'First?' });
  const q1 = (await ada.next((m) => m.type === 'qa.question' && m.question.text === 'First?')).question;
  bob.send({ type: 'qa.ask', text: 'Second, quietly?', anonymous: true });
  const q2 = (await bob.next((m) => m.type === 'qa.question' && m.question.text === 'Second, quietly?')).question;
  await ada.next((m) => m.type === 'qa.question' && m.question.id === q2.id);
  for (const c of [ada, bob, cy]) c.send({ type: 'qa.vote', id: q2.id });
  cy.send({ type: 'qa.vote', id: q1.id });
  await ada.next((m) => m.type === 'qa.counts' && m.votes[q2.id] === 3);
  const pin = await api(first, 'PUT', `/api/webinars/${room}/questions/pinned`, { token: first.adminToken, body: { id: q2.id } });
  assert.equal(pin.status, 200, JSON.stringify(pin.body));
  await ada.next('qa.pinned');
  await sleep(300);  // the writer commits what the room applied
  for (const c of [ada, bob, cy]) await c.close();
  await first.stop();

  const second = await startServer({ dataDir: first.dataDir, adminToken: first.adminToken });
  servers.push(second);
  const cyAgain = await join(second, people[2]);
  const qa = cyAgain.helloMsg.qa;
  assert.deepEqual(qa.questions.map((q) => [q.text, q.votes, q.from]), [['Second, quietly?', 3, null], ['First?', 1, 'Ada']]);
  assert.deepEqual(qa.voted.sort(), [q1.id, q2.id].sort());
  assert.equal(qa.pinned?.id, q2.id);
  assert.equal(qa.anonymous, true);
  await cyAgain.close();
});
