// Fault matrix, email: an SMTP relay that accepts the connection and never answers, and one that answers slowly.
// A raw net.Server sits between build/cohort and a real aiosmtpd (tests/support/smtp.mjs) and plays the fault per
// connection: "silent" accepts and never writes a byte; "slow" relays both ways but holds every chunk the relay
// sends for a while; "pass" relays as is. Signups must not wait for the mail (their answer times are printed),
// the sender must time out on the silent relay and retry, and every mail must arrive exactly once.
// Each test takes about 15 s (the sender gives up a silent relay after about 10 s; the test allows 110 s, which
// covers smtp_sender.hpp's 60 s whole-transaction timeout too).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServer, api } from '../support/server.mjs';
import { sleep, until } from '../support/http.mjs';
import { startSmtp } from '../support/smtp.mjs';

// A fault-injecting TCP proxy in front of `targetPort`. mode(n) decides connection n's fault (n from 0).
async function startFaultyRelay(targetPort, mode, { delayMs = 300 } = {}) {
  const sockets = new Set();
  const connections = [];  // { mode, openedAt, closedAt }
  const server = net.createServer((client) => {
    const info = { mode: mode(connections.length), openedAt: Date.now(), closedAt: null };
    connections.push(info);
    sockets.add(client);
    client.on('error', () => {});
    client.on('close', () => { info.closedAt = Date.now(); sockets.delete(client); });
    if (info.mode === 'silent') return;  // accepts, reads, never answers
    const upstream = net.connect(targetPort, '127.0.0.1');
    sockets.add(upstream);
    upstream.on('error', () => client.destroy());
    upstream.on('close', () => { sockets.delete(upstream); client.end(); });
    client.on('close', () => upstream.destroy());
    client.on('data', (d) => upstream.write(d));
    // Slow: every chunk from the relay is held delayMs, in order.
    let chain = Promise.resolve();
    upstream.on('data', (d) => {
      if (info.mode !== 'slow') return client.write(d);
      chain = chain.then(() => sleep(delayMs)).then(() => { if (!client.destroyed) client.write(d); });
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: server.address().port,
    connections,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

const addressOf = (m) => {
  const to = m.header('to') ?? '';
  return (/<([^>]+)>/.exec(to)?.[1] ?? to).toLowerCase();
};

// One node whose mail goes through the faulty relay; `n` signups; checks and the summary line.
async function relayScenario(label, mode, { signups: count, delayMs, settleMs }) {
  const smtp = await startSmtp();
  const relay = await startFaultyRelay(smtp.port, mode, { delayMs });
  const dir = mkdtempSync(path.join(tmpdir(), 'cohort-faults-smtp-'));
  const config = path.join(dir, 'cohort.toml');
  writeFileSync(config, `[email]\nsmtp_host = "127.0.0.1"\nsmtp_port = ${relay.port}\nsmtp_tls = "none"\nretry_first_seconds = 1\n`);
  let s;
  try {
    s = await startServer({ args: ['--config', config] });
    const w = (await api(s, 'POST', '/api/webinars', { token: s.adminToken, body: {
      title: 'Relay faults', description: '', capacity: null, sessions: [{ starts_at: '2036-06-01T18:00:00Z', duration_minutes: 60 }] } })).body;
    // The first signup's mail makes the sender connect; the rest are signed up while that connection is stuck.
    const people = [];
    const answerMs = [];
    const signup = async (i) => {
      const email = `${label}-${i}-${process.pid}@example.org`;
      const t0 = Date.now();
      const res = await api(s, 'POST', `/api/webinars/${w.id}/registrations`, { body: { name: `Person ${i}`, email, consent: true } });
      answerMs.push(Date.now() - t0);
      assert.equal(res.status, 201, JSON.stringify(res.body));
      people.push(email.toLowerCase());
    };
    await signup(0);
    await until('the sender connected to the relay', 10000, () => relay.connections.length >= 1);
    for (let i = 1; i < count; i += 5) await Promise.all(Array.from({ length: Math.min(5, count - i) }, (_, k) => signup(i + k)));
    const firstStillOpen = relay.connections[0].closedAt === null;

    // Every mail arrives, exactly once; the outbox says sent, nothing failed.
    await until(`${count} mails at the relay`, settleMs, () => people.every((p) => smtp.messages().some((m) => addressOf(m) === p)),
      { detail: () => `${smtp.messages().length} arrived; relay connections ${JSON.stringify(relay.connections.map((c) => c.mode))}` });
    const outbox = await until('outbox settled', 10000, async () => {
      const r = (await api(s, 'GET', `/api/webinars/${w.id}/emails`, { token: s.adminToken })).body;
      return r.counts.queued === 0 && r;
    });
    await sleep(1500);  // anything sent twice would be on its way by now
    const messages = smtp.messages();
    const perRecipient = new Map();
    for (const m of messages) perRecipient.set(addressOf(m), (perRecipient.get(addressOf(m)) ?? 0) + 1);
    const twice = [...perRecipient].filter(([, k]) => k > 1);
    assert.deepEqual(twice, [], 'mail delivered more than once');
    assert.equal(messages.length, count, 'one mail per signup');
    assert.equal(new Set(messages.map((m) => m.header('message-id'))).size, count, 'Message-IDs are unique');
    assert.deepEqual(outbox.counts, { queued: 0, sent: count, failed: 0 });
    const attempts = outbox.emails.reduce((a, e) => a + e.attempts, 0);
    answerMs.sort((a, b) => a - b);
    return { s, relay, outbox, attempts, answerMs, firstStillOpen, messages };
  } catch (err) {
    if (s) err.message += `\n--- cohort stderr tail:\n${s.stderr.slice(-2000)}`;
    throw err;
  } finally {
    if (s) { await s.kill(); s.cleanup(); }
    await relay.close();
    await smtp.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs) => xs[Math.floor(xs.length / 2)];

test('a relay that accepts and never answers: signups unaffected, the sender times out and retries, nothing sent twice', { timeout: 150_000 }, async () => {
  const r = await relayScenario('silent', (n) => (n === 0 ? 'silent' : 'pass'), { signups: 20, settleMs: 110_000 });
  assert.ok(r.firstStillOpen, 'the silent connection was still open while the signups were answered');
  const silent = r.relay.connections[0];
  assert.ok(silent.closedAt !== null, 'the sender gave up the silent connection');
  const timedOutS = ((silent.closedAt - silent.openedAt) / 1000).toFixed(1);
  assert.ok(r.relay.connections.length >= 2, 'the sender connected again');
  assert.ok(r.attempts > r.outbox.emails.length, `some mail needed a retry (attempts ${r.attempts} for ${r.outbox.emails.length} mails)`);
  console.log(`faults: SMTP relay silent on the first connection: signups sent/acked 20/20 (answer median ${median(r.answerMs)} ms, max ${r.answerMs.at(-1)} ms); ` +
    `the sender dropped the silent connection after ${timedOutS} s and retried (${r.relay.connections.length} connections, ${r.attempts} attempts); ` +
    `mail queued/delivered/duplicates 20/${r.messages.length}/0`);
});

test('a relay that answers slowly: signups unaffected, every mail arrives once', { timeout: 120_000 }, async () => {
  const r = await relayScenario('slow', () => 'slow', { signups: 10, delayMs: 300, settleMs: 90_000 });
  console.log(`faults: SMTP relay answering 300 ms late per reply: signups sent/acked 10/10 (answer median ${median(r.answerMs)} ms, max ${r.answerMs.at(-1)} ms); ` +
    `${r.relay.connections.length} connection(s), ${r.attempts} attempts; mail queued/delivered/duplicates 10/${r.messages.length}/0`);
});

test('SIGTERM while the sender waits on a silent relay: exit 0 within 5 s, the mail goes out once after the restart', { timeout: 90_000 }, async () => {
  const smtp = await startSmtp();
  let silent = true;
  const relay = await startFaultyRelay(smtp.port, () => (silent ? 'silent' : 'pass'));
  const dir = mkdtempSync(path.join(tmpdir(), 'cohort-faults-smtp-'));
  const config = path.join(dir, 'cohort.toml');
  writeFileSync(config, `[email]\nsmtp_host = "127.0.0.1"\nsmtp_port = ${relay.port}\nsmtp_tls = "none"\nretry_first_seconds = 1\n`);
  let s, s2;
  try {
    s = await startServer({ args: ['--config', config] });
    const w = (await api(s, 'POST', '/api/webinars', { token: s.adminToken, body: {
      title: 'Relay faults', description: '', capacity: null, sessions: [{ starts_at: '2036-06-01T18:00:00Z', duration_minutes: 60 }] } })).body;
    const people = [];
    for (let i = 0; i < 3; i++) {
      const email = `term-${i}-${process.pid}@example.org`;
      const res = await api(s, 'POST', `/api/webinars/${w.id}/registrations`, { body: { name: `Person ${i}`, email, consent: true } });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      people.push(email.toLowerCase());
    }
    await until('the sender connected to the silent relay', 10000, () => relay.connections.length >= 1);
    const t0 = Date.now();
    const exit = await s.stop('SIGTERM');
    const stopMs = Date.now() - t0;
    assert.deepEqual(exit, { code: 0, signal: null }, s.stderr.slice(-2000));
    assert.ok(stopMs <= 5000, `SIGTERM while the sender waits on a silent relay: exited after ${stopMs} ms, the documented limit is 5 s`);

    silent = false;
    s2 = await startServer({ dataDir: s.dataDir, adminToken: s.adminToken, args: ['--config', config] });
    await until('3 mails at the relay after the restart', 30000, () => people.every((p) => smtp.messages().some((m) => addressOf(m) === p)));
    await sleep(1500);
    assert.equal(smtp.messages().length, 3, 'each mail once');
    const outbox = (await api(s2, 'GET', `/api/webinars/${w.id}/emails`, { token: s2.adminToken })).body;
    assert.deepEqual(outbox.counts, { queued: 0, sent: 3, failed: 0 });
    console.log(`faults: SIGTERM while the sender waits on a silent relay: exit 0 after ${stopMs} ms; after the restart mail queued/delivered/duplicates 3/${smtp.messages().length}/0`);
  } catch (err) {
    if (s) err.message += `\n--- cohort stderr tail:\n${s.stderr.slice(-2000)}`;
    throw err;
  } finally {
    if (s) { await s.kill(); s.cleanup(); }
    if (s2) await s2.kill();
    await relay.close();
    await smtp.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
