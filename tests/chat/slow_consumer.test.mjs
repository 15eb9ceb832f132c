// A consumer that stops reading is closed with 1008 once its outgoing queue passes
// chat.ws_queue_max_bytes, counted in cohort_ws_slow_consumer_closes_total; the room goes on.
// A file of its own: it needs a small queue cap and a lifted flood limit.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServer, api } from '../support/server.mjs';
import { connect } from '../support/ws.mjs';

let server;

before(async () => {
  const config = path.join(mkdtempSync(path.join(tmpdir(), 'cohort-slow-')), 'slow.toml');
  writeFileSync(config, '[chat]\nws_queue_max_bytes = 65536\nflood_messages = 1000\nflood_window_ms = 100\n');
  server = await startServer({ args: ['--config', config] });
});
after(async () => {
  if (server) {
    await server.stop();
    server.cleanup();
  }
});

const slowCloses = async () => {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  return Number(/^cohort_ws_slow_consumer_closes_total (\d+)$/m.exec(text)?.[1] ?? NaN);
};

test('a reader that stops reading is closed with 1008 at the queue cap; the sender stays connected', { timeout: 120_000 }, async () => {
  const res = await api(server, 'POST', '/api/webinars', {
    token: server.adminToken,
    body: { title: 'Slow consumer', description: '', capacity: null, sessions: [{ starts_at: '2036-06-01T18:00:00Z', duration_minutes: 60 }] },
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  const room = res.body.id;
  const reg = await api(server, 'POST', `/api/webinars/${room}/registrations`,
    { body: { name: 'Sleepy', email: 'sleepy@example.com', consent: true } });
  assert.equal(reg.status, 201, JSON.stringify(reg.body));

  const slow = await connect(server, { token: reg.body.token, label: 'slow', checkSeq: false });
  await slow.next('hello');
  const organizer = await connect(server, { token: server.adminToken, webinar: room, label: 'organizer' });
  await organizer.next('hello');
  assert.equal(await slowCloses(), 0);
  slow.ws._socket.pause();  // the kernel buffers fill, then the server's queue

  // Kernel socket buffers on loopback hold several MB: send until the server gives up on the reader.
  const text = 'x'.repeat(400);  // 100 of them stay under the cap, whatever the kernel takes
  let sent = 0;
  while ((await slowCloses()) === 0) {
    assert.ok(sent < 200_000, `no slow-consumer close after ${sent} messages`);
    for (let i = 0; i < 100; i++) organizer.chat(`${sent + i} ${text}`);
    sent += 100;
    await new Promise((r) => setTimeout(r, 15));  // under the flood limit (1000 per 100 ms)
    await organizer.next((m) => m.type === 'chat.message' && m.text.startsWith(`${sent - 1} `));
  }
  slow.ws._socket.resume();
  const closed = await Promise.race([slow.closed, new Promise((r) => setTimeout(() => r(null), 60_000).unref())]);
  assert.ok(closed, 'the slow reader was closed');
  assert.equal(closed.code, 1008, `close ${closed.code} ${closed.reason}`);
  assert.match(closed.reason, /too slow/);
  assert.equal(await slowCloses(), 1);

  // The room goes on for everyone else.
  organizer.chat('still here');
  await organizer.next((m) => m.type === 'chat.message' && m.text === 'still here');
  await organizer.close();
});
