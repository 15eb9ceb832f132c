// Shared assertions and a raw HTTP/1.1 client for integration tests that need control over the bytes on the wire
// (missing Content-Length, pipelining, keep-alive, slow or oversized requests) which fetch() cannot express.
import assert from 'node:assert/strict';
import net from 'node:net';

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Polls `probe` until it returns something truthy (which is returned), or throws naming `what` after
// `timeoutMs`; `detail()` adds what was seen last to that error.
export async function until(what, timeoutMs, probe, { everyMs = 50, detail = () => '' } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = await probe();
    if (got) return got;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms${detail() ? `; ${detail()}` : ''}`);
    await sleep(everyMs);
  }
}

// Asserts the one error shape of the contract: {"error":{"code":string,"message":string[,"field":string]}},
// served as application/json with the expected status (and code / field when given).
// `res` is what api() or RawConn.readResponse() returns; `context` (e.g. the request sent) prefixes failure messages.
export function assertError(res, status, code, field, context) {
  const got = typeof res.body === 'string' ? res.body : JSON.stringify(res.body);
  const seen = context ? `${context} -> ${got}` : got;
  assert.equal(res.status, status, `expected HTTP ${status} ${code ?? ''}, got ${res.status}: ${seen}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json\b/, `error content-type (${seen})`);
  const body = res.body;
  assert.ok(body !== null && typeof body === 'object' && !Array.isArray(body), `error body is a JSON object: ${seen}`);
  assert.deepEqual(Object.keys(body), ['error'], `error body has exactly one key "error": ${seen}`);
  const e = body.error;
  assert.ok(e !== null && typeof e === 'object' && !Array.isArray(e), `"error" is an object: ${seen}`);
  for (const k of Object.keys(e)) assert.ok(['code', 'message', 'field'].includes(k), `unexpected key "${k}" in ${seen}`);
  assert.equal(typeof e.code, 'string', `error.code is a string: ${seen}`);
  assert.equal(typeof e.message, 'string', `error.message is a string: ${seen}`);
  assert.ok(e.message.length > 0, `error.message is not empty: ${seen}`);
  if ('field' in e) assert.equal(typeof e.field, 'string', `error.field is a string: ${seen}`);
  if (code !== undefined) assert.equal(e.code, code, `error.code: ${seen}`);
  if (field !== undefined) assert.equal(e.field, field, `error.field: ${seen}`);
}

// One TCP connection speaking raw HTTP/1.1. Responses are parsed strictly (Content-Length or chunked, or until close)
// so a truncated or garbled response throws instead of passing silently.
export class RawConn {
  static async open(url) {
    const { hostname, port } = new URL(url);
    const sock = net.connect(Number(port), hostname);
    await new Promise((resolve, reject) => {
      sock.once('connect', resolve);
      sock.once('error', reject);
    });
    return new RawConn(sock, `${hostname}:${port}`);
  }

  constructor(sock, host) {
    this.sock = sock;
    this.host = host;
    this.buf = Buffer.alloc(0);
    this.received = 0;
    this.closed = false;
    this.error = null;
    this.wake = null;
    sock.on('data', (d) => { this.buf = Buffer.concat([this.buf, d]); this.received += d.length; this.wake?.(); });
    sock.on('error', (e) => { this.error = e; });
    sock.on('close', () => { this.closed = true; this.wake?.(); });
    this.closedAt = new Promise((resolve) => sock.on('close', () => resolve(Date.now())));
  }

  write(data) {
    if (!this.sock.destroyed) this.sock.write(data);
  }

  // Builds a request with a correct Content-Length (when a body is given) and writes it.
  send(method, pathname, { body, headers = {} } = {}) {
    this.write(rawRequest(this.host, method, pathname, { body, headers }));
  }

  async readResponse(timeoutMs = 5000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const parsed = parseResponse(this.buf, this.closed);
      if (parsed) {
        this.buf = parsed.rest;
        return parsed.response;
      }
      if (this.closed) {
        throw new Error(this.buf.length ? `connection closed mid-response: ${JSON.stringify(this.buf.toString('latin1').slice(0, 300))}`
          : 'connection closed before a response');
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no complete response within ${timeoutMs} ms (have ${this.buf.length} bytes)`);
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => { clearTimeout(timer); this.wake = null; resolve(); };
      });
    }
  }

  // Resolves with true when the peer closes the connection within timeoutMs, false otherwise.
  async waitClosed(timeoutMs) {
    if (this.closed) return true;
    return Promise.race([this.closedAt.then(() => true), sleep(timeoutMs).then(() => false)]);
  }

  destroy() {
    this.sock.destroy();
  }
}

export function rawRequest(host, method, pathname, { body, headers = {} } = {}) {
  const lines = [`${method} ${pathname} HTTP/1.1`, `Host: ${host}`];
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  let payload = Buffer.alloc(0);
  if (body !== undefined) {
    payload = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    if (!Object.keys(headers).some((k) => k.toLowerCase() === 'content-type')) lines.push('Content-Type: application/json');
    lines.push(`Content-Length: ${payload.length}`);
  }
  return Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1'), payload]);
}

// Returns { response, rest } for one complete response at the start of buf, or null when more bytes are needed.
// Throws when the bytes cannot be an HTTP/1.1 response or the connection closed before the response was complete.
function parseResponse(buf, closed) {
  const incomplete = () => {
    if (closed) throw new Error(`connection closed mid-response: ${JSON.stringify(buf.toString('latin1').slice(0, 300))}`);
    return null;
  };
  if (buf.length === 0) return null;
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return incomplete();
  const head = buf.subarray(0, end).toString('latin1');
  const [statusLine, ...lines] = head.split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/.exec(statusLine);
  if (!m) throw new Error(`garbled status line: ${JSON.stringify(statusLine)}`);
  const status = Number(m[1]);
  const headers = new Map();
  for (const line of lines) {
    const i = line.indexOf(':');
    if (i <= 0) throw new Error(`garbled header line: ${JSON.stringify(line)}`);
    const k = line.slice(0, i).trim().toLowerCase();
    const v = line.slice(i + 1).trim();
    headers.set(k, headers.has(k) ? `${headers.get(k)}, ${v}` : v);
  }
  let pos = end + 4;
  let bodyBuf;
  if (status === 204 || status === 304 || (status >= 100 && status < 200)) {
    bodyBuf = Buffer.alloc(0);
  } else if (/chunked/i.test(headers.get('transfer-encoding') ?? '')) {
    const parts = [];
    for (;;) {
      const le = buf.indexOf('\r\n', pos);
      if (le < 0) return incomplete();
      const size = parseInt(buf.subarray(pos, le).toString('latin1').split(';')[0], 16);
      if (Number.isNaN(size)) throw new Error(`garbled chunk size at ${pos}`);
      pos = le + 2;
      if (size === 0) {
        const te = buf.indexOf('\r\n', pos);
        if (te < 0) return incomplete();
        if (te === pos) { pos += 2; break; }
        const tend = buf.indexOf('\r\n\r\n', pos);
        if (tend < 0) return incomplete();
        pos = tend + 4;
        break;
      }
      if (buf.length < pos + size + 2) return incomplete();
      parts.push(buf.subarray(pos, pos + size));
      pos += size + 2;
    }
    bodyBuf = Buffer.concat(parts);
  } else if (headers.has('content-length')) {
    const n = Number(headers.get('content-length'));
    if (!Number.isInteger(n) || n < 0) throw new Error(`garbled content-length ${headers.get('content-length')}`);
    if (buf.length < pos + n) return incomplete();
    bodyBuf = buf.subarray(pos, pos + n);
    pos += n;
  } else {
    if (!closed) return null;
    bodyBuf = buf.subarray(pos);
    pos = buf.length;
  }
  const text = bodyBuf.toString('utf8');
  let body = text;
  if ((headers.get('content-type') ?? '').includes('application/json')) body = JSON.parse(text);
  return {
    response: { status, headers: { get: (k) => headers.get(k.toLowerCase()) ?? null, all: headers }, text, body },
    rest: buf.subarray(pos),
  };
}
