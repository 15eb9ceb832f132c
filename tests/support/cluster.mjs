// A primary and an edge on one real redis-server, for the tests of what crosses nodes (the live
// room's channels). useCluster() registers the suite's hooks: before — redis-server, the primary
// (token secret in a config file), the edge (the primary's public key), both ready; afterEach —
// the clients a test tracked are closed, no node died, no client saw a protocol violation; after —
// everything stopped and removed. Its fields are set once `before` ran.
import { before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { startServer, api, cohortBin } from './server.mjs';
import { startRedis } from './redis.mjs';
import { sleep } from './http.mjs';

// The config files' folders go when the test process exits (a node reads its file only at start).
const configDirs = [];
process.once('exit', () => { for (const dir of configDirs) rmSync(dir, { recursive: true, force: true }); });

export function configFile(text) {
  const dir = mkdtempSync(path.join(tmpdir(), 'cohort-cluster-'));
  configDirs.push(dir);
  const file = path.join(dir, 'cohort.toml');
  writeFileSync(file, text);
  return file;
}

// Polls /readyz (an edge is ready once Redis is up and its revocation list is confirmed).
export async function waitReady(node, timeoutMs = 8000) {
  for (const deadline = Date.now() + timeoutMs; ;) {
    const r = await api(node, 'GET', '/readyz');
    if (r.status === 200) return;
    if (Date.now() > deadline) throw new Error(`node not ready within ${timeoutMs} ms (last ${r.status})`);
    await sleep(100);
  }
}

// `config`: more TOML for both nodes (after their [auth] section), e.g. "[attendance]\nmin_minutes = 1\n".
// `onReady(cluster)`: called at the end of `before`, once both nodes are ready.
export function useCluster({ config = '', onReady = () => {} } = {}) {
  const cluster = { redis: null, primary: null, edge: null, clients: new Set(), servers: [], edgeConfig: null };

  // Another edge on the same Redis (e.g. one that starts late and must learn the room from it).
  cluster.startEdge = async () => {
    const e = await startServer({
      args: ['--config', cluster.edgeConfig, '--redis', cluster.redis.url, '--role', 'edge', '--primary', cluster.primary.url],
      adminToken: cluster.primary.adminToken,
    });
    cluster.servers.push(e);
    await waitReady(e);
    return e;
  };
  // A client closed (and checked) after the test.
  cluster.track = (client) => {
    cluster.clients.add(client);
    return client;
  };

  before(async () => {
    cluster.redis = await startRedis();
    const primaryConfig = configFile(`[auth]\ntoken_secret = "${randomBytes(32).toString('hex')}"\n\n${config}`);
    cluster.primary = await startServer({ args: ['--config', primaryConfig, '--redis', cluster.redis.url] });
    cluster.servers.push(cluster.primary);
    const publicKey = execFileSync(cohortBin, ['keys', 'public', '--config', primaryConfig], { encoding: 'utf8' }).trim();
    cluster.edgeConfig = configFile(`[auth]\ntoken_public_key = "${publicKey}"\n\n${config}`);
    await waitReady(cluster.primary);
    cluster.edge = await cluster.startEdge();
    onReady(cluster);
  });

  after(async () => {
    for (const s of [...cluster.servers].reverse()) await s.stop();
    await cluster.redis?.stop();
    for (const s of cluster.servers) s.cleanup();
  });

  afterEach(async () => {
    const open = [...cluster.clients];
    cluster.clients.clear();
    const results = await Promise.allSettled(open.map((c) => c.close()));
    for (const s of cluster.servers) {
      const { exitCode, signalCode } = s.proc;
      assert.ok(exitCode === null && signalCode === null, `a node died during this test (exit ${exitCode ?? signalCode}); stderr tail:\n${s.stderr.slice(-2000)}`);
    }
    const failures = results.filter((r) => r.status === 'rejected').map((r) => r.reason.message);
    assert.deepEqual(failures, [], 'protocol violations seen by clients of this test');
  });

  return cluster;
}
