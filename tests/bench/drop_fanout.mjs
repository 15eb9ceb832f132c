// Bonus-drop fan-out benchmark: N registrants hold the live room's WebSocket open, the organizer
// schedules a drop a few seconds ahead, and each client notes when the drop frame arrives.
// Prints the delay after release_at (p50 / p99 / max) and the server's memory. Run by hand
// (the figures depend on the machine), not in CI:
//
//   cmake --build build && cd tests && node bench/drop_fanout.mjs [clients=2000]
import WebSocket from 'ws';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServer, api } from '../support/server.mjs';

const clients = Number(process.argv[2] ?? 2000);
const rfc3339 = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const rssMiB = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;

// Every client connects from this one address and signs up to one series: lift the per-address
// connection cap above them (the signups' keep-alive connections count too) and the per-series signup limit.
const config = path.join(mkdtempSync(path.join(tmpdir(), 'cohort-bench-')), 'bench.toml');
writeFileSync(config, `[limits]\nconnections_per_ip = ${clients + 1000}\n[registration]\nseries_per_minute = 0\n`);
const server = await startServer({ args: ['--config', config] });
try {
  const created = await api(server, 'POST', '/api/webinars', {
    token: server.adminToken,
    body: { title: 'Fan-out bench', sessions: [{ starts_at: rfc3339(Date.now() + 86_400_000), duration_minutes: 60 }] },
  });
  const webinar = created.body.id;
  const tokens = [];
  for (let i = 0; i < clients; i += 100) {
    const batch = [];
    for (let j = i; j < Math.min(clients, i + 100); j++)
      batch.push(api(server, 'POST', `/api/webinars/${webinar}/registrations`,
        { body: { name: `Therapist ${j}`, email: `t${j}@bench.example`, consent: true } }));
    for (const r of await Promise.all(batch)) tokens.push(r.body.token);
  }
  const before = rssMiB(server.proc.pid);

  const arrivals = [];
  const sockets = [];
  const wsUrl = server.url.replace('http', 'ws');
  for (let i = 0; i < tokens.length; i += 200) {
    await Promise.all(tokens.slice(i, i + 200).map((token) => new Promise((resolve, reject) => {
      const ws = new WebSocket(`${wsUrl}/ws?token=${encodeURIComponent(token)}`);
      ws.on('message', (data) => {
        const text = data.toString();
        if (text.startsWith('{"type":"hello"')) resolve();
        else if (text.startsWith('{"type":"drop"')) arrivals.push(Date.now());
      });
      ws.on('error', reject);
      sockets.push(ws);
    })));
  }
  const connected = rssMiB(server.proc.pid);

  const releaseAt = Math.ceil((Date.now() + 3000) / 1000) * 1000;
  await api(server, 'POST', `/api/webinars/${webinar}/drops`,
    { token: server.adminToken, body: { title: 'Week 1 worksheet', body: 'Print it before the session.', release_at: rfc3339(releaseAt) } });
  const deadline = releaseAt + 10_000;
  while (arrivals.length < clients && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const delays = arrivals.map((t) => t - releaseAt).sort((a, b) => a - b);

  console.log(`| figure | value |`);
  console.log(`|---|---:|`);
  console.log(`| clients connected | ${clients} |`);
  console.log(`| drop received by | ${arrivals.length} |`);
  console.log(`| delay after release_at p50 / p99 / max | ${percentile(delays, 50)} / ${percentile(delays, 99)} / ${delays.at(-1)} ms |`);
  console.log(`| server RSS idle / with ${clients} sockets | ${before.toFixed(0)} / ${connected.toFixed(0)} MiB |`);
  // tests/bench/run sets BENCH_RESULTS: the same figures as results/drops.json for its table.
  if (process.env.BENCH_RESULTS) {
    const row = (figure, value, unit) => ({ server: 'cohort', figure, value, unit });
    writeFileSync(path.join(process.env.BENCH_RESULTS, 'drops.json'), JSON.stringify({
      workload: 'drops', commit: process.env.BENCH_COMMIT ?? '', date: new Date().toISOString(),
      rows: [row('clients', clients, 'count'), row('received', arrivals.length, 'count'),
        row('delay_p50_ms', percentile(delays, 50), 'ms'), row('delay_p99_ms', percentile(delays, 99), 'ms'),
        row('delay_max_ms', delays.at(-1), 'ms'), row('rss_idle_mib', Math.round(before), 'MiB'),
        row('rss_connected_mib', Math.round(connected), 'MiB')],
      notes: [`one room, ${clients} WebSockets (node.js ws clients on the same machine), a drop scheduled 3 s ahead; delay = arrival - release_at`],
    }, null, 2));
  }
  for (const ws of sockets) ws.terminate();
} finally {
  await server.stop();
  server.cleanup();
}
