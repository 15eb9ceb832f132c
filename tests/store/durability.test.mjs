// Durability of the SQLite store through a real build/cohort: every acknowledged (201) signup survives kill -9,
// the database passes PRAGMA integrity_check afterwards, and data survives a normal restart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import path from 'node:path';
import { startServer, api } from '../support/server.mjs';
import { sleep } from '../support/http.mjs';

const run = promisify(execFile);
const SESSIONS = [{ starts_at: '2036-07-01T16:00:00Z', duration_minutes: 60 }];

async function createWebinar(s, extra = {}) {
  const res = await api(s, 'POST', '/api/webinars', { token: s.adminToken,
    body: { title: 'Durability', description: 'Survives crashes', capacity: null, sessions: SESSIONS, ...extra } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

// Every registration of a webinar, following next_after.
async function listAll(s, webinarId) {
  const all = [];
  let after = null;
  for (;;) {
    const res = await api(s, 'GET', `/api/webinars/${webinarId}/registrations?limit=500${after ? `&after=${after}` : ''}`, { token: s.adminToken });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    all.push(...res.body.registrations);
    if (res.body.next_after === null) return { registrations: all, total: res.body.total };
    after = res.body.next_after;
  }
}

async function integrityCheck(dataDir) {
  const { stdout } = await run('sqlite3', [path.join(dataDir, 'cohort.db'), 'PRAGMA integrity_check']);
  return stdout.trim();
}

test('kill -9 during a signup burst loses no acknowledged signup and leaves an intact database', { timeout: 30000 }, async (t) => {
  const s = await startServer();
  let s2;
  try {
    const w = await createWebinar(s);
    const acked = [];
    let killed = false, n = 0;
    const client = async (c) => {
      while (!killed) {
        const email = `crash-${c}-${n++}@example.com`;
        let res;
        try {
          res = await api(s, 'POST', `/api/webinars/${w.id}/registrations`, { body: { name: `Crash ${c}`, email, consent: true } });
        } catch {
          return; // the server is gone
        }
        if (res.status === 201) acked.push({ id: res.body.id, email });
        else assert.fail(`signup answered ${res.status}: ${JSON.stringify(res.body)}`);
      }
    };
    const clients = Array.from({ length: 40 }, (_, c) => client(c));
    // About 300 ms in, and not before a few commits went through, so the kill lands mid-burst on a slow machine too.
    await sleep(300);
    for (let waited = 0; acked.length < 20 && waited < 5000; waited += 20) await sleep(20);
    await s.kill();
    killed = true;
    await Promise.all(clients);
    assert.ok(acked.length >= 10, `only ${acked.length} signups were acknowledged before the kill; the burst proves nothing`);

    s2 = await startServer({ dataDir: s.dataDir, adminToken: s.adminToken });
    const { registrations, total } = await listAll(s2, w.id);
    t.diagnostic(`${acked.length} signups acknowledged before kill -9, ${total} stored`);
    assert.equal(registrations.length, total);
    assert.equal(new Set(registrations.map((r) => r.id)).size, registrations.length, 'duplicate ids in the organizer list');
    const stored = new Map(registrations.map((r) => [r.id, r.email]));
    const lost = acked.filter((a) => stored.get(a.id) !== a.email);
    assert.deepEqual(lost, [], `${lost.length} of ${acked.length} acknowledged signups are missing after kill -9`);
    assert.ok(total >= acked.length);
    const webinar = (await api(s2, 'GET', `/api/webinars/${w.id}`)).body;
    assert.equal(webinar.registered, total, 'the webinar counter disagrees with its registrations');
    assert.deepEqual((await s2.stop()), { code: 0, signal: null });
    assert.equal(await integrityCheck(s.dataDir), 'ok');
  } finally {
    await s.kill();
    if (s2) await s2.kill();
    s.cleanup();
  }
});

test('data survives a normal restart: webinars, registrations, and registrant tokens', async () => {
  const s = await startServer();
  let s2;
  try {
    const w = await createWebinar(s, { capacity: 2, weekly: { first_starts_at: '2036-08-03T18:00:00+01:00', count: 4, duration_minutes: 75 }, sessions: undefined });
    const people = [];
    for (const name of ['Ana', 'Bo', 'Cy']) {
      const res = await api(s, 'POST', `/api/webinars/${w.id}/registrations`, { body: { name, email: `${name.toLowerCase()}@example.com`, profession: 'SLP', consent: true } });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      people.push(res.body);
    }
    const cancelled = await api(s, 'DELETE', '/api/me', { token: people[0].token });
    assert.equal(cancelled.status, 200);
    const beforeWebinar = (await api(s, 'GET', `/api/webinars/${w.id}`)).body;
    const beforeList = await listAll(s, w.id);
    assert.deepEqual(await s.stop(), { code: 0, signal: null });

    s2 = await startServer({ dataDir: s.dataDir, adminToken: s.adminToken });
    assert.deepEqual((await api(s2, 'GET', `/api/webinars/${w.id}`)).body, beforeWebinar);
    assert.deepEqual(await listAll(s2, w.id), beforeList);
    assert.deepEqual(beforeList.registrations.map((r) => r.status), ['cancelled', 'registered', 'registered']);
    // Join links handed out before the restart keep working.
    const m = await api(s2, 'GET', '/api/me', { token: people[2].token });
    assert.equal(m.status, 200, JSON.stringify(m.body));
    assert.equal(m.body.email, 'cy@example.com');
    assert.equal(m.body.status, 'registered');
    // Ids keep growing after a restart.
    const next = await api(s2, 'POST', `/api/webinars/${w.id}/registrations`, { body: { name: 'Di', email: 'di@example.com', consent: true } });
    assert.equal(next.status, 201);
    assert.ok(next.body.id > people[2].id);
    assert.equal(next.body.status, 'waitlisted');
    assert.deepEqual(await s2.stop(), { code: 0, signal: null });
    assert.equal(await integrityCheck(s.dataDir), 'ok');
  } finally {
    await s.kill();
    if (s2) await s2.kill();
    s.cleanup();
  }
});

test('--demo seeds the demo series once, into an empty database only', async () => {
  const s = await startServer({ args: ['--demo'] });
  let s2;
  try {
    const list = (await api(s, 'GET', '/api/webinars')).body.webinars;
    assert.equal(list.length, 1);
    const demo = list[0];
    assert.equal(demo.title, 'Level Up Your Skillset: 5 Ways Infant Massage Supports Your Pediatric Therapy Goals');
    assert.equal(demo.capacity, 500);
    assert.equal(demo.sessions.length, 5);
    const firstIn = Date.parse(demo.sessions[0].starts_at) - Date.now();
    assert.ok(firstIn > 6 * 86_400_000 && firstIn <= 8 * 86_400_000, `first demo session in ${firstIn / 3_600_000} h`);
    for (let i = 1; i < 5; i++) {
      assert.equal(Date.parse(demo.sessions[i].starts_at) - Date.parse(demo.sessions[i - 1].starts_at), 7 * 86_400_000);
    }
    assert.deepEqual(await s.stop(), { code: 0, signal: null });

    s2 = await startServer({ dataDir: s.dataDir, adminToken: s.adminToken, args: ['--demo'] });
    const again = (await api(s2, 'GET', '/api/webinars')).body.webinars;
    assert.deepEqual(again.map((w) => w.id), [demo.id]);
  } finally {
    await s.kill();
    if (s2) await s2.stop();
    s.cleanup();
  }
});
