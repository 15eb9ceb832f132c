// The server pings every 30 s and closes peers that do not answer. A file of its own so its minute of waiting
// runs beside tests/chat/chat.test.mjs instead of after it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, api } from '../support/server.mjs';
import { connect } from '../support/ws.mjs';

let server;

before(async () => { server = await startServer(); });
after(async () => {
  if (server) {
    await server.stop();
    server.cleanup();
  }
});

async function person(room, name) {
  const res = await api(server, 'POST', `/api/webinars/${room}/registrations`,
    { body: { name, email: `${name.toLowerCase()}@example.com`, consent: true } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.token;
}

test('pings every 30 s; a peer that answers stays, a peer that does not is closed and leaves presence', { timeout: 120_000 }, async () => {
  const res = await api(server, 'POST', '/api/webinars', {
    token: server.adminToken,
    body: { title: 'Keepalive', description: '', capacity: null, sessions: [{ starts_at: '2036-06-01T18:00:00Z', duration_minutes: 60 }] },
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  const room = res.body.id;
  const live = await connect(server, { token: await person(room, 'Live'), label: 'live' });
  const dead = await connect(server, { token: await person(room, 'Dead'), label: 'dead', autoPong: false });
  await live.next('hello');
  await dead.next('hello');
  const pings = [];
  const t0 = Date.now();
  live.ws.on('ping', () => pings.push(Date.now() - t0));
  let deadPinged = null;
  dead.ws.on('ping', () => { deadPinged ??= Date.now() - t0; });

  const deadClosed = await Promise.race([dead.closed, new Promise((r) => setTimeout(() => r(null), 75_000))]);
  const at = Date.now() - t0;
  assert.ok(deadPinged !== null && deadPinged <= 35_000, `first ping to the silent peer after ${deadPinged} ms`);
  assert.ok(deadClosed, `the peer that never answers pings is still open after ${at} ms`);
  assert.ok(at <= 70_000, `closed after ${at} ms`);
  assert.ok(pings.length >= 1 && pings[0] <= 35_000, `pings to the live peer at ${JSON.stringify(pings)} ms`);
  assert.ok(live.isOpen, 'the peer that answers pings stays connected');
  await live.next((m) => m.type === 'presence' && m.count === 1, 3000);
  await live.close();
  dead.assertHealthy();
});
