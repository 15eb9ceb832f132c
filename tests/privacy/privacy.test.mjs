// Registrant data against a real build/cohort: the export after real activity (signup, chat and
// Q&A over the WebSocket, live-room minutes, a drop opened) has every part; erasure by the
// registrant (token dead, CSVs keep rows without the person, seat freed, waitlist moved up, no
// queued mail sent, CE certificate kept) and by the organizer (idempotent); the privacy notice;
// retention at start-up (a series that ended 40 days ago with retention_days = 30) and the
// records policy on an old certificate, both unchanged by a restart.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServer, api } from '../support/server.mjs';
import { assertError, sleep, until } from '../support/http.mjs';
import { connect } from '../support/ws.mjs';
import { parseCsv } from '../support/csv.mjs';

let server;
before(async () => { server = await startServer(); });
after(async () => { await server?.stop(); server?.cleanup(); });

const iso = (ms) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
const sql = (s, statement) => execFileSync('sqlite3', [path.join(s.dataDir, 'cohort.db'), statement]).toString().trim();

async function webinarNow(s, extra = {}) {
  const res = await api(s, 'POST', '/api/webinars', {
    token: s.adminToken,
    body: { title: 'Sensory processing series', sessions: [{ starts_at: iso(Date.now() - 120_000), duration_minutes: 60 }], ...extra },
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

async function register(s, webinarId, name, email) {
  const res = await api(s, 'POST', `/api/webinars/${webinarId}/registrations`, { body: { name, email, consent: true } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

async function csv(s, pathname) {
  const res = await fetch(`${s.url}${pathname}`, { headers: { authorization: `Bearer ${s.adminToken}` } });
  assert.equal(res.status, 200);
  return parseCsv(await res.text());
}

test('the export after real activity has every part, then the registrant erases their data', async () => {
  const w = await webinarNow(server, { capacity: 1 });
  const maya = await register(server, w.id, 'Maya Ortiz', 'maya@example.org');
  const omar = await register(server, w.id, 'Omar Said', 'omar@example.org');
  assert.equal(omar.status, 'waitlisted');

  const c = await connect(server, { token: maya.token, origin: new URL(server.url).origin });
  await c.next('hello');
  c.send({ type: 'chat.send', text: 'Hello from Maya' });
  c.send({ type: 'qa.ask', text: 'Will the slides be shared?' });
  const drop = await api(server, 'POST', `/api/webinars/${w.id}/drops`, { token: server.adminToken, body: { title: 'Handout', release: 'now' } });
  assert.equal(drop.status, 201, JSON.stringify(drop.body));
  await until('the drop released', 10_000, async () =>
    (await api(server, 'GET', `/api/webinars/${w.id}/drops`, { token: server.adminToken })).body.drops.find((d) => d.id === drop.body.id)?.state === 'released');
  assert.equal((await api(server, 'POST', `/api/drops/${drop.body.id}/opened`, { token: maya.token })).status, 204);

  let doc;
  await until('chat, Q&A and a minute in the export', 10_000, async () => {
    const res = await api(server, 'GET', '/api/me/export', { token: maya.token });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.match(res.headers.get('content-disposition'), /^attachment; filename="cohort-registration-\d+\.json"$/);
    doc = res.body;
    return doc.chat_messages.length === 1 && doc.qa_questions.length === 1 && doc.attendance[0]?.minutes >= 1;
  });
  await c.close();
  assert.deepEqual([doc.registration.name, doc.registration.email, doc.registration.status], ['Maya Ortiz', 'maya@example.org', 'registered']);
  assert.equal(doc.chat_messages[0].text, 'Hello from Maya');
  assert.equal(doc.qa_questions[0].text, 'Will the slides be shared?');
  assert.equal(doc.drop_opens[0].title, 'Handout');
  assert.ok(doc.mail.length >= 1 && doc.mail.every((m) => m.to === 'maya@example.org'), JSON.stringify(doc.mail));
  for (const part of ['answers', 'replay_views', 'qa_votes', 'poll_answers', 'drop_seen', 'email_prefs', 'ce_attempts', 'ce_evaluations',
    'ce_attestations', 'ce_certificates', 'chat_bans', 'chat_mutes', 'join_link', 'erasures'])
    assert.ok(Array.isArray(doc[part]), `export part ${part}`);
  assert.equal(JSON.stringify(doc).includes(maya.token), false);
  // The organizer gets the same document.
  const org = await api(server, 'GET', `/api/webinars/${w.id}/registrations/${maya.id}/export`, { token: server.adminToken });
  assert.equal(org.status, 200);
  assert.equal(org.body.registration.email, 'maya@example.org');

  // Mail queued for later, and a CE certificate already issued.
  const now = Math.floor(Date.now() / 1000);
  sql(server, `INSERT INTO outbox (message_id, dedupe_key, kind, webinar_id, registration_id, to_addr, subject, mime, next_attempt_at, created_at, args)
    VALUES ('<later-${maya.id}@test>', 'later:${maya.id}', 'reminder', ${w.id}, ${maya.id}, 'maya@example.org', 'Starts soon', '', ${now + 3600}, ${now}, '{"name":"Maya"}');
    INSERT INTO ce_certificates (code, webinar_id, registration_id, session_number, kind, name, license_number, course_title, session_starts_at, contact_hours, ceus, issued_at)
    VALUES ('CERT-${maya.id}', ${w.id}, ${maya.id}, 1, 'live', 'Maya Ortiz', 'OT-12345', 'Sensory processing series', ${now - 120}, 1, 0.1, ${now});`);

  const c2 = await connect(server, { token: maya.token, origin: new URL(server.url).origin });
  await c2.next('hello');
  assertError(await api(server, 'POST', '/api/me/erase', { token: maya.token, body: {} }), 422, 'validation_failed', 'confirm');
  const erased = await api(server, 'POST', '/api/me/erase', { token: maya.token, body: { confirm: 'erase' } });
  assert.equal(erased.status, 200, JSON.stringify(erased.body));
  assert.deepEqual([erased.body.registration_id, erased.body.name, erased.body.status], [maya.id, 'Erased registrant', 'cancelled']);
  assert.equal((await c2.closed).code, 4001);
  assert.match(server.stdout, new RegExp(`cohort: privacy: erased registration ${maya.id} of series ${w.id}`));

  assertError(await api(server, 'GET', '/api/me', { token: maya.token }), 401, 'unauthorized');
  assertError(await api(server, 'GET', '/api/me/export', { token: maya.token }), 401, 'unauthorized');
  assertError(await api(server, 'POST', '/api/me/erase', { token: maya.token, body: { confirm: 'erase' } }), 410, 'erased');

  const regs = await csv(server, `/api/webinars/${w.id}/registrations.csv`);
  const row = regs.find((r) => r[0] === String(maya.id));
  assert.ok(row, JSON.stringify(regs));
  assert.ok(row.includes('Erased registrant') && !row.join(',').includes('maya@example.org'), JSON.stringify(row));
  const chat = await csv(server, `/api/webinars/${w.id}/chat.csv`);
  const header = chat[0];
  const line = chat.find((r) => r[header.indexOf('from_id')] === String(maya.id));
  assert.ok(line, 'the chat row stays');
  assert.deepEqual([line[header.indexOf('from_name')], line[header.indexOf('text')]], ['[erased]', '[erased]']);

  const series = (await api(server, 'GET', `/api/webinars/${w.id}`)).body;
  assert.deepEqual([series.registered, series.waitlisted], [1, 0]);
  assert.equal((await api(server, 'GET', '/api/me', { token: omar.token })).body.status, 'registered');
  assert.equal(sql(server, `SELECT state || '|' || last_error || '|' || to_addr || '|' || args FROM outbox WHERE dedupe_key = 'later:${maya.id}'`),
    'failed|erased||{}');
  assert.equal(sql(server, `SELECT count(*) FROM outbox WHERE registration_id = ${maya.id} AND (to_addr <> '' OR state = 'queued')`), '0');
  assert.equal(sql(server, `SELECT name || '|' || license_number FROM ce_certificates WHERE code = 'CERT-${maya.id}'`), 'Maya Ortiz|OT-12345');
  assert.equal(sql(server, `SELECT reason FROM erasures WHERE registration_id = ${maya.id}`), 'registrant');
  // The organizer's export now shows what is left.
  const after = (await api(server, 'GET', `/api/webinars/${w.id}/registrations/${maya.id}/export`, { token: server.adminToken })).body;
  assert.equal(after.registration.name, 'Erased registrant');
  assert.equal(after.answers.length, 0);
  assert.equal(after.ce_certificates[0].license_number, 'OT-12345');
});

test('the organizer erases a registration; a repeat answers the same; access is checked', async () => {
  const w = await webinarNow(server);
  const ana = await register(server, w.id, 'Ana Lima', 'ana@example.org');
  const other = await webinarNow(server);
  const url = `/api/webinars/${w.id}/registrations/${ana.id}/erase`;
  assertError(await api(server, 'POST', url), 401, 'unauthorized');
  assertError(await api(server, 'POST', url, { token: ana.token }), 403, 'forbidden');
  assertError(await api(server, 'POST', `/api/webinars/${other.id}/registrations/${ana.id}/erase`, { token: server.adminToken }), 404, 'not_found');
  assertError(await api(server, 'GET', `/api/webinars/${other.id}/registrations/${ana.id}/export`, { token: server.adminToken }), 404, 'not_found');
  assertError(await api(server, 'GET', `/api/webinars/${w.id}/registrations/${ana.id}/export`, { token: ana.token }), 403, 'forbidden');
  const first = await api(server, 'POST', url, { token: server.adminToken });
  assert.equal(first.status, 200, JSON.stringify(first.body));
  const again = await api(server, 'POST', url, { token: server.adminToken });
  assert.equal(again.status, 200);
  assert.deepEqual(again.body, first.body);
  assertError(await api(server, 'GET', '/api/me', { token: ana.token }), 401, 'unauthorized');
  assert.equal(sql(server, `SELECT count(*) || '|' || max(reason) FROM erasures WHERE registration_id = ${ana.id}`), '1|organizer');
  assert.equal((await api(server, 'GET', `/api/webinars/${w.id}`)).body.registered, 0);
});

test('the privacy notice: the default from the configuration, the organizer\'s text, and back', async () => {
  const w = await webinarNow(server);
  const url = `/api/webinars/${w.id}/privacy-notice`;
  const def = await api(server, 'GET', url);
  assert.equal(def.status, 200);
  assert.equal(def.body.custom, false);
  assert.match(def.body.text, /until the organizer deletes the series/);
  assert.match(def.body.text, /6 years after they are issued/);
  assert.match(def.body.text, /verification code/);
  assertError(await api(server, 'PUT', url, { body: { text: 'x' } }), 401, 'unauthorized');
  assertError(await api(server, 'PUT', url, { token: server.adminToken, body: { text: 'x'.repeat(4001) } }), 422, 'validation_failed', 'text');
  assertError(await api(server, 'PUT', url, { token: server.adminToken, body: {} }), 422, 'validation_failed', 'text');
  const put = await api(server, 'PUT', url, { token: server.adminToken, body: { text: 'We keep your name for the certificate.\nAsk us anything.' } });
  assert.equal(put.status, 200, JSON.stringify(put.body));
  assert.deepEqual((await api(server, 'GET', url)).body, { webinar_id: w.id, text: 'We keep your name for the certificate.\nAsk us anything.', custom: true });
  assert.equal((await api(server, 'PUT', url, { token: server.adminToken, body: { text: '' } })).body.custom, false);
  assert.deepEqual((await api(server, 'GET', url)).body, def.body);
  assertError(await api(server, 'GET', '/api/webinars/999999/privacy-notice'), 404, 'not_found');
});

test('retention erases a series 40 days past its last session at start; a recent one and a restart change nothing', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'cohort-privacy-'));
  const config = path.join(dir, 'cohort.toml');
  writeFileSync(config, '[privacy]\nretention_days = 30\n\n[ce]\nrecords_years = 6\n');
  let s = await startServer({ args: ['--config', config] });
  try {
    const old = await webinarNow(s);
    const recent = await webinarNow(s);
    const a = await register(s, old.id, 'Old One', 'old1@example.org');
    await register(s, old.id, 'Old Two', 'old2@example.org');
    const r = await register(s, recent.id, 'Recent', 'recent@example.org');
    await s.stop();
    const now = Math.floor(Date.now() / 1000);
    sql(s, `UPDATE sessions SET starts_at = starts_at - 40 * 86400 WHERE webinar_id = ${old.id};
      INSERT INTO ce_certificates (code, webinar_id, registration_id, session_number, kind, name, license_number, course_title, session_starts_at, contact_hours, ceus, issued_at)
      VALUES ('OLD-CERT', ${old.id}, ${a.id}, 1, 'live', 'Old One', 'OT-1', 'Old', ${now - 7 * 366 * 86400}, 1, 0.1, ${now - 7 * 366 * 86400}),
             ('NEW-CERT', ${old.id}, ${a.id}, 1, 'live', 'Old One', 'OT-1', 'Old', ${now - 86400}, 1, 0.1, ${now - 86400});`);
    s = await startServer({ args: ['--config', config], dataDir: s.dataDir, adminToken: s.adminToken });
    await until('the retention log line', 10_000, () => /cohort: privacy: cleared name and license number of 1 CE certificates/.test(s.stdout));
    assert.match(s.stdout, new RegExp(`cohort: privacy: erased 2 registrations of series ${old.id} \\(retention_days=30\\)`));
    assertError(await api(s, 'GET', '/api/me', { token: a.token }), 401, 'unauthorized');
    assert.equal((await api(s, 'GET', '/api/me', { token: r.token })).body.status, 'registered');
    assert.equal(sql(s, `SELECT group_concat(name, '|') FROM registrations WHERE webinar_id = ${old.id}`), 'Erased registrant|Erased registrant');
    assert.equal(sql(s, `SELECT rows FROM erasures WHERE webinar_id = ${old.id} AND reason = 'retention' AND registration_id IS NULL`), '2');
    assert.equal(sql(s, "SELECT code || ':' || name || ':' || license_number || ':' || (personal_erased_at IS NOT NULL) FROM ce_certificates ORDER BY code"),
      'NEW-CERT:Old One:OT-1:0\nOLD-CERT:::1');
    const before = sql(s, 'SELECT count(*) || ' + "'|'" + ' || max(id) FROM erasures');
    await s.stop();
    s = await startServer({ args: ['--config', config], dataDir: s.dataDir, adminToken: s.adminToken });
    // The sweep runs a second after start; a request after it finished shows nothing new.
    await sleep(2500);
    assert.equal(sql(s, 'SELECT count(*) || ' + "'|'" + ' || max(id) FROM erasures'), before);
    assert.doesNotMatch(s.stdout, /cohort: privacy: (erased|cleared)/);
    assert.equal((await api(s, 'GET', '/api/me', { token: r.token })).body.status, 'registered');
  } finally {
    await s.stop();
    s.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
});
