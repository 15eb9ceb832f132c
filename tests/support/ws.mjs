// A small live-chat client for integration tests, over the `ws` package.
// Every message the server sends is checked against proto/ws/server-message.schema.json (ajv, draft 2020-12),
// and against the stream rules every client relies on: JSON text frames only, `hello` first and once,
// live `chat.message` seqs exactly one apart. The first violation fails the client: every pending and later
// next() rejects with it, and close() throws it, so a test that never reads still fails.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { repoRoot } from './server.mjs';

const schemaDir = path.join(repoRoot, 'proto', 'ws');
const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false });
addFormats(ajv);
for (const name of readdirSync(schemaDir).filter((n) => n.endsWith('.schema.json')).sort()) {
  ajv.addSchema(JSON.parse(readFileSync(path.join(schemaDir, name), 'utf8')));
}
const serverMessage = ajv.getSchema('server-message.schema.json');
const SERVER_TYPES = ['hello', 'chat.message', 'chat.deleted', 'presence', 'error', 'drop', 'stream.status'];

// Validates one parsed message against a schema id under proto/ws/ (default: any server → client message).
// Returns null when valid, else a readable list of the ajv errors. For a known `type`, the errors are those of
// that type's own schema (the oneOf errors of the union name every branch and help nobody).
export function schemaErrors(msg, schemaId = 'server-message.schema.json') {
  const validate = ajv.getSchema(schemaId);
  if (!validate) throw new Error(`no schema ${schemaId} in ${schemaDir}`);
  if (validate(msg)) return null;
  let errors = validate.errors;
  if (schemaId === 'server-message.schema.json' && SERVER_TYPES.includes(msg?.type)) {
    const own = ajv.getSchema(`${msg.type}.schema.json`);
    if (!own(msg)) errors = own.errors;
  }
  return errors.map((e) => `${e.instancePath || '/'} ${e.message}${e.params ? ' ' + JSON.stringify(e.params) : ''}`).join('; ');
}

export const originOf = (server) => new URL(server.url).origin;

export function wsUrl(server, { token, webinar, since, epoch, query = {} } = {}) {
  const u = new URL('/ws', server.url);
  u.protocol = 'ws:';
  const params = { token, webinar, since, epoch, ...query };
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null) u.searchParams.set(k, String(v));
  return u.toString();
}

// Short description of a message for failure output.
const brief = (m) => {
  const s = JSON.stringify(m);
  return s.length > 300 ? `${s.slice(0, 300)}...` : s;
};

function matcher(match) {
  if (match === undefined || match === null) return { test: () => true, what: 'any message' };
  if (typeof match === 'string') return { test: (m) => m.type === match, what: `a "${match}" message` };
  if (typeof match === 'function') return { test: match, what: match.label ?? `a message matching ${match}` };
  throw new TypeError('next(match): match is a type string, a predicate or undefined');
}

export class ChatClient {
  constructor(ws, { label = 'client', checkSeq = true } = {}) {
    this.ws = ws;
    this.label = label;
    this.checkSeq = checkSeq;
    this.received = [];   // every valid message, in arrival order (with nothing removed)
    this.arrivals = [];   // Date.now() at which received[i] arrived
    this.queue = [];      // received and not yet taken by next()/drain()
    this.waiters = [];
    this.failure = null;
    this.hello = null;
    this.lastSeq = null;
    this.closeInfo = null;
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString('utf8') };
        for (const w of this.waiters.splice(0)) {
          clearTimeout(w.timer);
          w.reject(this.failure ?? new Error(`${this.label}: connection closed (${code} ${this.closeInfo.reason}) while waiting for ${w.what}`));
        }
        resolve(this.closeInfo);
      });
    });
    ws.on('message', (data, isBinary) => this.#onMessage(data, isBinary));
    ws.on('error', (err) => { this.lastError = err; });
  }

  #fail(message) {
    if (this.failure) return;
    this.failure = new Error(`${this.label}: ${message}`);
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(this.failure);
    }
  }

  #onMessage(data, isBinary) {
    if (this.failure) return;
    if (isBinary) return this.#fail(`server sent a binary frame (${data.length} bytes); the protocol is JSON text frames`);
    const text = Buffer.isBuffer(data) ? data.toString('utf8') : String(data);
    let msg;
    try {
      msg = JSON.parse(text);
    } catch {
      return this.#fail(`server sent a frame that is not JSON: ${JSON.stringify(text.slice(0, 300))}`);
    }
    const errors = schemaErrors(msg);
    if (errors) return this.#fail(`server message violates proto/ws/${SERVER_TYPES.includes(msg?.type) ? msg.type : 'server-message'}.schema.json: ${errors}\n  message: ${brief(msg)}`);
    if (msg.type === 'hello') {
      if (this.hello) return this.#fail(`second hello on one connection: ${brief(msg)}`);
      if (this.received.length) return this.#fail(`hello is not the first message (after ${brief(this.received[0])})`);
      const seqs = msg.messages.map((m) => m.seq);
      for (let i = 0; i < seqs.length; i++) {
        if ((i > 0 && seqs[i] <= seqs[i - 1]) || seqs[i] > msg.seq) {
          return this.#fail(`hello.messages not oldest first / beyond hello.seq ${msg.seq}: seqs ${JSON.stringify(seqs)}`);
        }
      }
      this.hello = msg;
      this.lastSeq = msg.seq;
    } else if (!this.hello) {
      return this.#fail(`first message is not hello: ${brief(msg)}`);
    } else if (msg.type === 'chat.message' && this.checkSeq) {
      if (msg.seq !== this.lastSeq + 1) return this.#fail(`live chat.message seq ${msg.seq} after ${this.lastSeq} (gap, duplicate or reorder): ${brief(msg)}`);
      this.lastSeq = msg.seq;
    }
    this.received.push(msg);
    this.arrivals.push(Date.now());
    const w = this.waiters.find((x) => x.test(msg));
    if (w) {
      this.waiters.splice(this.waiters.indexOf(w), 1);
      clearTimeout(w.timer);
      w.resolve(msg);
    } else {
      this.queue.push(msg);
    }
  }

  // Resolves with the oldest not-yet-taken message matching `match` (a type, a predicate, or anything), waiting up
  // to timeoutMs. Messages that do not match stay queued for later calls.
  next(match, timeoutMs = 5000) {
    const { test, what } = matcher(match);
    const i = this.queue.findIndex(test);
    if (i >= 0) return Promise.resolve(this.queue.splice(i, 1)[0]);
    if (this.failure) return Promise.reject(this.failure);
    if (this.closeInfo) {
      return Promise.reject(new Error(`${this.label}: connection closed (${this.closeInfo.code} ${this.closeInfo.reason}) while waiting for ${what}`));
    }
    return new Promise((resolve, reject) => {
      const w = { test, what, resolve, reject };
      w.timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        const pending = this.queue.slice(-5).map(brief).join('\n    ');
        reject(new Error(`${this.label}: no ${what} within ${timeoutMs} ms${pending ? `; last unread:\n    ${pending}` : ''}`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  // The next `n` messages matching `match`, within timeoutMs in total.
  async collect(match, n, timeoutMs = 10000) {
    const deadline = Date.now() + timeoutMs;
    const out = [];
    while (out.length < n) {
      try {
        out.push(await this.next(match, Math.max(1, deadline - Date.now())));
      } catch (err) {
        err.message += ` (collected ${out.length} of ${n})`;
        throw err;
      }
    }
    return out;
  }

  // Removes and returns every queued message matching `match`, without waiting.
  drain(match) {
    const { test } = matcher(match);
    const taken = this.queue.filter(test);
    this.queue = this.queue.filter((m) => !test(m));
    return taken;
  }

  // Waits ms, then throws if a message matching `match` arrived (it is left queued).
  async expectNone(match, ms) {
    const { test, what } = matcher(match);
    await new Promise((resolve) => setTimeout(resolve, ms));
    if (this.failure) throw this.failure;
    const got = this.queue.filter(test);
    if (got.length) throw new Error(`${this.label}: expected no ${what} within ${ms} ms, got ${got.length}: ${got.slice(0, 3).map(brief).join(', ')}`);
  }

  get isOpen() { return this.ws.readyState === WebSocket.OPEN; }

  send(obj) { this.ws.send(JSON.stringify(obj)); }

  // A chat.send; `extra` adds e.g. client_id.
  chat(text, extra = {}) { this.send({ type: 'chat.send', text, ...extra }); }

  // Any bytes as one frame: a text frame unless binary is set (a Buffer is sent as-is, so invalid UTF-8 is possible).
  sendRaw(data, { binary = false } = {}) { this.ws.send(data, { binary }); }

  // Throws the first protocol violation seen, if any.
  assertHealthy() { if (this.failure) throw this.failure; }

  // Normal close (1000) and wait for the closing handshake (terminates after 3 s); throws a protocol violation seen
  // earlier, so every test that closes its clients also checks everything they received.
  async close(code = 1000) {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) {
      try { this.ws.close(code); } catch { this.ws.terminate(); }
    }
    const timer = setTimeout(() => this.ws.terminate(), 3000);
    await this.closed;
    clearTimeout(timer);
    this.assertHealthy();
    return this.closeInfo;
  }

  terminate() { this.ws.terminate(); }
}

function open(server, opts) {
  const { origin, headers = {}, timeoutMs = 5000, autoPong = true } = opts;
  return new WebSocket(wsUrl(server, opts), { origin, headers, perMessageDeflate: false, handshakeTimeout: timeoutMs, autoPong });
}

// Reads the refused-upgrade response: { status, headers: {get(name)}, body (parsed JSON when application/json), text }.
function readRefusal(req, res) {
  return new Promise((resolve) => {
    const chunks = [];
    res.on('data', (d) => chunks.push(d));
    const done = () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const type = res.headers['content-type'] ?? '';
      let body = text;
      if (type.includes('application/json')) {
        try { body = JSON.parse(text); } catch { /* left as text: assertError reports it */ }
      }
      resolve({ status: res.statusCode, headers: { get: (k) => res.headers[k.toLowerCase()] ?? null }, body, text });
      req.destroy();
    };
    res.on('end', done);
    res.on('error', done);
  });
}

// Opens a chat connection: resolves with a ChatClient once the upgrade succeeded (call next('hello') for the hello),
// rejects with err.status / err.body when the server refuses the upgrade.
// opts: token, webinar, since, epoch (query), origin (Origin header; none when omitted), headers (extra request
// headers, e.g. authorization), query (extra params), label (for failure messages), checkSeq (default true),
// timeoutMs (handshake), autoPong (default true; false plays a dead peer that never answers pings).
export function connect(server, opts = {}) {
  const ws = open(server, opts);
  const client = new ChatClient(ws, opts);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(client));
    ws.once('unexpected-response', async (req, res) => {
      const r = await readRefusal(req, res);
      const err = new Error(`${client.label}: upgrade refused: HTTP ${r.status} ${r.text.slice(0, 300)}`);
      err.status = r.status;
      err.body = r.body;
      reject(err);
    });
    ws.once('error', (err) => reject(new Error(`${client.label}: connect failed: ${err.message}`)));
  });
}

// Attempts an upgrade that the server must refuse; resolves with the refusal response
// ({ status, headers, body, text }, usable with assertError). Fails when the upgrade is accepted.
export function refusal(server, opts = {}) {
  const ws = open(server, opts);
  return new Promise((resolve, reject) => {
    ws.on('error', () => {});
    ws.once('open', () => {
      ws.terminate();
      reject(new Error(`expected the upgrade to be refused, but it was accepted: ${wsUrl(server, opts)} origin=${opts.origin ?? '(none)'}`));
    });
    ws.once('unexpected-response', async (req, res) => resolve(await readRefusal(req, res)));
    ws.once('error', (err) => reject(new Error(`expected an HTTP refusal, got a connection error: ${err.message}`)));
  });
}

// The HTTP status of a refused upgrade (see refusal() for the whole response).
export async function expectRefused(server, opts = {}) {
  return (await refusal(server, opts)).status;
}
