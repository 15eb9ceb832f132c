// Secret files in the data dir (token-secret: the master key of every token and link; admin-token) must be
// readable by their owner only: a server that finds one readable by others refuses to start (exit 2) and says
// which file and what to do, rather than serve with a key others may have copied. Real binary, real files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, chmodSync, statSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { startServer, cohortBin } from '../support/server.mjs';

function run(args) {
  const proc = spawn(cohortBin, ['--listen', '127.0.0.1:0', '--rtmp', '127.0.0.1:0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '', stderr = '';
  proc.stdout.on('data', (d) => { stdout += d; if (/listening on/.test(stdout)) proc.kill('SIGTERM'); });
  proc.stderr.on('data', (d) => { stderr += d; });
  const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
  return new Promise((resolve) => proc.on('exit', (code, signal) => { clearTimeout(timer); resolve({ code, signal, stdout, stderr }); }));
}

function dataDirWith(file, mode) {
  const dir = mkdtempSync(path.join(tmpdir(), 'cohort-secrets-'));
  writeFileSync(path.join(dir, file), `${randomBytes(32).toString('hex')}\n`);
  chmodSync(path.join(dir, file), mode);
  return dir;
}

for (const file of ['token-secret', 'admin-token']) {
  test(`the ${file} file with mode 0644 stops the start: exit 2, the message names the file and 0600`, async () => {
    const dir = dataDirWith(file, 0o644);
    try {
      const r = await run(['--data-dir', dir]);
      assert.equal(r.code, 2, `exit ${r.code ?? r.signal}; stdout ${r.stdout} stderr ${r.stderr}`);
      assert.doesNotMatch(r.stdout, /listening on/);
      assert.match(r.stderr, new RegExp(`${file}.*0644.*0600`));
      assert.equal(statSync(path.join(dir, file)).mode & 0o777, 0o644, 'the file is left as it was');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('`cohort keys public` refuses a token-secret readable by others as well (exit 2)', () => {
  const dir = dataDirWith('token-secret', 0o640);
  try {
    assert.throws(() => execFileSync(cohortBin, ['keys', 'public', '--data-dir', dir], { stdio: 'pipe' }), (err) => err.status === 2 && /0640/.test(err.stderr));
    chmodSync(path.join(dir, 'token-secret'), 0o600);
    assert.match(execFileSync(cohortBin, ['keys', 'public', '--data-dir', dir], { encoding: 'utf8' }), /^[0-9a-f]{64}\n$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('secret files the server creates are 0600, and a 0600 token-secret starts normally', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'cohort-secrets-'));
  const s = await startServer({ dataDir: dir });
  try {
    assert.equal(statSync(path.join(dir, 'token-secret')).mode & 0o777, 0o600);
  } finally {
    await s.stop();
    s.cleanup();
  }
});
