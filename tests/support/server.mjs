// Starts a real build/cohort on a free loopback port with a temp data dir, for integration and browser tests.
// COHORT_BIN selects the binary (the sanitizer build runs the same tests against build-asan/cohort).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const cohortBin = process.env.COHORT_BIN || path.join(repoRoot, 'build', 'cohort');

export async function startServer({ args = [], dataDir, adminToken, env = {}, timeoutMs = 15000 } = {}) {
  dataDir ??= mkdtempSync(path.join(tmpdir(), 'cohort-test-'));
  adminToken ??= randomBytes(24).toString('hex');
  // RTMP on a free port too, so servers started side by side do not fight over 1935.
  const rtmp = args.includes('--rtmp') ? [] : ['--rtmp', '127.0.0.1:0'];
  // Every test signs up from 127.0.0.1: no per-address signup limit unless a test asks for one
  // (tests/registration/signup_limits.test.mjs).
  const signups = args.includes('--signups-per-ip') ? [] : ['--signups-per-ip', '0'];
  const proc = spawn(cohortBin, ['--listen', '127.0.0.1:0', '--data-dir', dataDir, '--admin-token', adminToken, ...rtmp, ...signups, ...args], {
    env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '', stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; if (process.env.COHORT_TEST_VERBOSE) process.stderr.write(d); });
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`cohort did not start in ${timeoutMs} ms\n${stdout}\n${stderr}`)), timeoutMs);
    proc.stdout.on('data', (d) => {
      stdout += d;
      const m = /listening on (http:\/\/[^\s]+)/.exec(stdout);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    proc.on('exit', (code, sig) => { clearTimeout(timer); reject(new Error(`cohort exited early (${code ?? sig})\n${stdout}\n${stderr}`)); });
  });
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  const server = {
    url, adminToken, dataDir, proc, exited,
    get stdout() { return stdout; }, get stderr() { return stderr; },
    // Graceful stop; resolves with the exit status.
    async stop(signal = 'SIGTERM') { if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal); return exited; },
    async kill() { return server.stop('SIGKILL'); },
    cleanup() { rmSync(dataDir, { recursive: true, force: true }); },
  };
  return server;
}

// JSON request helper: returns { status, headers, body (parsed JSON or text) }.
export async function api(server, method, pathname, { body, token, headers = {}, raw } = {}) {
  const h = { ...headers };
  if (token) h.authorization = `Bearer ${token}`;
  let payload = raw;
  if (body !== undefined) { payload = JSON.stringify(body); h['content-type'] ??= 'application/json'; }
  const res = await fetch(server.url + pathname, { method, headers: h, body: payload });
  const text = await res.text();
  let parsed = text;
  if ((res.headers.get('content-type') || '').includes('application/json')) parsed = JSON.parse(text);
  return { status: res.status, headers: res.headers, body: parsed };
}
