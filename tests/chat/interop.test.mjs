// Interoperability: a chat client on libwebsockets (tests/chat/lws_chat_client.cpp), a WebSocket stack that is not
// the server's Beast, joins a room, sends, and sees its own chat.message; a node `ws` client in the same room gets the
// very same message. COHORT_LWS_CLIENT selects the client binary (default build/tests/lws_chat_client, built by
// `ninja -C build lws_chat_client` when Debian's libwebsockets-dev is installed).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { startServer, api, repoRoot } from '../support/server.mjs';
import { connect, schemaErrors } from '../support/ws.mjs';

const lwsClient = process.env.COHORT_LWS_CLIENT || path.join(repoRoot, 'build', 'tests', 'lws_chat_client');

let server;

before(async () => {
  try {
    accessSync(lwsClient, constants.X_OK);
  } catch {
    throw new Error(`no lws chat client at ${lwsClient}: install libwebsockets-dev, then `
      + '`cmake -S . -B build -G Ninja && ninja -C build lws_chat_client` (or set COHORT_LWS_CLIENT)');
  }
  server = await startServer();
});
after(async () => {
  if (server) {
    await server.stop();
    server.cleanup();
  }
});

async function newRoom() {
  const res = await api(server, 'POST', '/api/webinars', {
    token: server.adminToken,
    body: { title: 'Interop', description: '', capacity: null, sessions: [{ starts_at: '2036-06-01T18:00:00Z', duration_minutes: 60 }] },
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.id;
}

async function register(room, name, email) {
  const res = await api(server, 'POST', `/api/webinars/${room}/registrations`, { body: { name, email, consent: true } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  assert.equal(res.body.status, 'registered');
  return { id: res.body.id, token: res.body.token, name };
}

// Runs the lws client against the test server: { code, stdout, stderr }. The client has its own 10 s limit;
// the 20 s kill here only catches a client that hangs despite it.
function runLwsClient(pathWithQuery, text) {
  const { hostname, port } = new URL(server.url);
  return new Promise((resolve) => {
    execFile(lwsClient, [hostname, port, pathWithQuery, text], { timeout: 20000, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      resolve({ code: err ? (err.code ?? err.signal) : 0, stdout, stderr });
    });
  });
}

function parseLines(stdout) {
  return stdout.split('\n').filter((line) => line !== '').map((line, i) => {
    try {
      return JSON.parse(line);
    } catch {
      throw new Error(`lws client stdout line ${i + 1} is not JSON: ${line.slice(0, 300)}`);
    }
  });
}

test('a libwebsockets client joins a room, sends, and both it and a node client get the same chat.message', async () => {
  const room = await newRoom();
  const ada = await register(room, 'Ada Lovelace', 'interop-ada@example.com');

  const watcher = await connect(server, { token: server.adminToken, webinar: room, label: 'node organizer' });
  try {
    await watcher.next('hello');

    // Non-ASCII, quotes and a backslash: the JSON and UTF-8 have to survive both stacks unchanged.
    const text = 'Grüße from libwebsockets — "quoted" \\ ✓';
    const run = await runLwsClient(`/ws?token=${encodeURIComponent(ada.token)}`, text);
    const context = `lws client exit ${run.code}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`;
    assert.equal(run.code, 0, context);

    const got = parseLines(run.stdout);
    for (const msg of got) assert.equal(schemaErrors(msg), null, `lws client received an invalid message: ${JSON.stringify(msg)}`);
    assert.equal(got[0]?.type, 'hello', `first line is the hello\n${context}`);
    assert.deepEqual(got[0].me, { id: ada.id, name: ada.name, role: 'registrant' });
    assert.equal(got[0].room, room);
    assert.equal(got.filter((m) => m.type === 'hello').length, 1, `exactly one hello\n${context}`);

    const own = got.filter((m) => m.type === 'chat.message' && m.client_id === 'lws-1');
    assert.equal(own.length, 1, `exactly one own chat.message\n${context}`);
    assert.equal(own[0].text, text);
    assert.equal(own[0].seq, got[0].seq + 1, 'the first message after the hello takes the next seq');
    assert.deepEqual(own[0].from, { id: ada.id, name: ada.name, role: 'registrant' });

    const seen = await watcher.next((m) => m.type === 'chat.message' && m.id === own[0].id);
    assert.equal(seen.seq, own[0].seq);
    assert.equal(seen.text, text);
    assert.ok(!('client_id' in seen), 'the client_id goes to its sender only');
    const { client_id, ...shared } = own[0];
    assert.deepEqual(seen, shared, 'both clients got the same message (the sender with its client_id)');
  } finally {
    await watcher.close();
  }
});

test('the libwebsockets client fails with a message when the upgrade is refused', async () => {
  const run = await runLwsClient('/ws?token=not-a-token', 'never sent');
  assert.notEqual(run.code, 0, `stdout:\n${run.stdout}\nstderr:\n${run.stderr}`);
  assert.match(run.stderr, /lws_chat_client: connection failed/);
  assert.equal(run.stdout, '');
});
