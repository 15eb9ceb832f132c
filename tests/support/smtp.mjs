// A real SMTP server for tests: Debian's aiosmtpd (`python3 -m aiosmtpd -n`) on a loopback port, stopped by pid.
// Its default handler (Debugging) prints every message it accepts to stdout, between
// "---------- MESSAGE FOLLOWS ----------" and "------------ END MESSAGE ------------", headers first (with an
// X-Peer line added at the end of the headers); the output is captured and parsed into messages, with a small
// MIME reader (multipart, quoted-printable, base64, RFC 2047 encoded words) for the assertions.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';

const BEGIN = '---------- MESSAGE FOLLOWS ----------';
const END = '------------ END MESSAGE ------------';

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => { const { port } = srv.address(); srv.close(() => resolve(port)); });
    srv.on('error', reject);
  });
}

// Resolves true once the port greets with "220", false when nothing (or something else) answers.
function greets(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let buf = '';
    const done = (ok) => { s.destroy(); resolve(ok); };
    s.setTimeout(2000, () => done(false));
    s.on('data', (d) => {
      buf += d;
      if (buf.length >= 3) { s.write('QUIT\r\n'); done(buf.startsWith('220')); }
    });
    s.on('error', () => done(false));
    s.on('close', () => done(false));
  });
}

// startSmtp({ port }) starts aiosmtpd (on `port`, else a free one) and resolves once it greets with 220.
// Returned object: port, stdout, messages() (parsed so far), waitFor(predicate, timeoutMs, what), stop().
export async function startSmtp({ port, timeoutMs = 20000 } = {}) {
  port ??= await freePort();
  // Debian's module lives under /usr/lib/python3; a python3 earlier on PATH (pyenv, venv) would not find it.
  const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
  const proc = spawn(python, ['-m', 'aiosmtpd', '-n', '-l', `127.0.0.1:${port}`], {
    env: { ...process.env, PYTHONUNBUFFERED: '1' }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '', stderr = '';
  proc.stdout.setEncoding('utf8');
  proc.stderr.setEncoding('utf8');
  proc.stdout.on('data', (d) => { stdout += d; });
  proc.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      throw new Error(`aiosmtpd exited at start (is python3-aiosmtpd installed?)\n${stdout}\n${stderr}`);
    }
    if (await greets(port)) break;
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`aiosmtpd did not greet on ${port} within ${timeoutMs} ms\n${stdout}\n${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const smtp = {
    port, proc,
    get stdout() { return stdout; },
    get stderr() { return stderr; },
    messages() { return parseDebuggingOutput(stdout); },
    // Polls the parsed messages until predicate(messages) is truthy; returns that value.
    async waitFor(predicate, timeoutMs = 10000, what = 'messages') {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const got = predicate(smtp.messages());
        if (got) return got;
        if (Date.now() > end) {
          const seen = smtp.messages().map((m) => `${m.header('to')} | ${m.subject}`).join('\n  ');
          throw new Error(`aiosmtpd: no ${what} within ${timeoutMs} ms; got ${smtp.messages().length} message(s):\n  ${seen}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      return exited;
    },
  };
  return smtp;
}

// Every complete message in aiosmtpd's Debugging output.
export function parseDebuggingOutput(out) {
  const messages = [];
  let pos = 0;
  for (;;) {
    const b = out.indexOf(BEGIN + '\n', pos);
    if (b < 0) break;
    const e = out.indexOf('\n' + END, b);
    if (e < 0) break;
    let text = out.slice(b + BEGIN.length + 1, e + 1);
    // "mail options: [...]" and a blank line come first when the client sent MAIL parameters.
    const opts = /^mail options: .*\n(?:rcpt options: .*\n)?\n/.exec(text);
    if (opts) text = text.slice(opts[0].length);
    messages.push(parseMessage(text.replace(/\r?\n/g, '\r\n')));
    pos = e + END.length;
  }
  return messages;
}

// Headers of a message or part: [{name, value}] with folded lines unfolded.
function parseHeaders(head) {
  const headers = [];
  for (const line of head.split('\r\n')) {
    if (line === '') continue;
    if (/^[ \t]/.test(line) && headers.length) headers[headers.length - 1].value += line;  // unfold: drop the CRLF only
    else {
      const i = line.indexOf(':');
      headers.push({ name: i > 0 ? line.slice(0, i).trim() : line, value: i > 0 ? line.slice(i + 1).trim() : '' });
    }
  }
  return headers;
}

// A message or MIME part: { raw, headers, body, header(name), headerAll(name), contentType, params, parts[], decoded() }.
export function parseMessage(raw) {
  const split = raw.indexOf('\r\n\r\n');
  const head = split < 0 ? raw : raw.slice(0, split);
  const body = split < 0 ? '' : raw.slice(split + 4);
  const headers = parseHeaders(head);
  const headerAll = (name) => headers.filter((h) => h.name.toLowerCase() === name.toLowerCase()).map((h) => h.value);
  const header = (name) => headerAll(name)[0];
  const [type, ...paramList] = (header('content-type') ?? 'text/plain').split(';');
  const params = {};
  for (const p of paramList) {
    const i = p.indexOf('=');
    if (i > 0) params[p.slice(0, i).trim().toLowerCase()] = p.slice(i + 1).trim().replace(/^"(.*)"$/, '$1');
  }
  const contentType = type.trim().toLowerCase();
  const msg = {
    raw, headers, body, header, headerAll, contentType, params, parts: [],
    get subject() { return decodeWords(header('subject') ?? ''); },
    // The transfer-decoded body as a Buffer.
    bytes() {
      const cte = (header('content-transfer-encoding') ?? '7bit').toLowerCase();
      if (cte === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64');
      if (cte === 'quoted-printable') return decodeQuotedPrintable(body);
      return Buffer.from(body, 'utf8');
    },
    text() { return msg.bytes().toString('utf8'); },
    // Every leaf part, depth first.
    leaves() { return msg.parts.length ? msg.parts.flatMap((p) => p.leaves()) : [msg]; },
  };
  if (contentType.startsWith('multipart/') && params.boundary) {
    const delim = '--' + params.boundary;
    const chunks = ('\r\n' + body).split('\r\n' + delim);
    // chunks[0] is the preamble; the last one starts with "--" (the close delimiter).
    for (const chunk of chunks.slice(1)) {
      if (chunk.startsWith('--')) break;
      msg.parts.push(parseMessage(chunk.replace(/^[ \t]*\r\n/, '')));
    }
  }
  return msg;
}

export function decodeQuotedPrintable(text) {
  const soft = text.replace(/=\r?\n/g, '');
  const bytes = [];
  for (let i = 0; i < soft.length; i++) {
    const c = soft[i];
    if (c === '=' && /^[0-9A-Fa-f]{2}$/.test(soft.slice(i + 1, i + 3))) {
      bytes.push(parseInt(soft.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(c, 'utf8'));
    }
  }
  return Buffer.from(bytes);
}

// RFC 2047: encoded words (B and Q), whitespace between adjacent encoded words dropped.
export function decodeWords(value) {
  return value
    .replace(/(\?=)\s+(=\?)/g, '$1$2')
    .replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (_, charset, enc, data) => {
      const buf = enc.toUpperCase() === 'B' ? Buffer.from(data, 'base64')
        : decodeQuotedPrintable(data.replace(/_/g, ' '));
      return buf.toString(/^utf-?8$/i.test(charset) ? 'utf8' : 'latin1');
    });
}

// An iCalendar object: unfolded content lines and its VEVENTs as [{NAME: value}] (parameters in `NAME;params`).
export function parseIcs(text) {
  const lines = text.replace(/\r\n[ \t]/g, '').split('\r\n').filter((l) => l !== '');
  const top = {};
  const events = [];
  let current = null;
  let depth = 0;
  for (const line of lines) {
    const i = line.indexOf(':');
    const nameWithParams = line.slice(0, i);
    const name = nameWithParams.split(';')[0].toUpperCase();
    const value = line.slice(i + 1);
    if (name === 'BEGIN') { depth++; if (value === 'VEVENT') current = { _params: {} }; continue; }
    if (name === 'END') { depth--; if (value === 'VEVENT') { events.push(current); current = null; } continue; }
    const target = current ?? top;
    target[name] = value;
    target._params ??= {};
    target._params[name] = nameWithParams.slice(name.length + 1);
  }
  return { lines, top, events, balanced: depth === 0 };
}
