// Registrant email against a real build/cohort and a real SMTP server (aiosmtpd, tests/support/smtp.mjs): the
// confirmation with its calendar invitation and personal join link, the waitlist mail, no header injection through
// a name, signups that never wait for a relay that is down and whose mail arrives exactly once when it comes back,
// a reminder that fell due while the server was stopped (sent once, also across a second restart), one-click
// unsubscribe stopping reminders and drop notices (but not the updated invitation), and the .eml fallback.
// Each test starts its own servers and stops them by pid.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServer, api } from '../support/server.mjs';
import { assertError, sleep } from '../support/http.mjs';
import { startSmtp, freePort, parseIcs, decodeWords, parseMessage } from '../support/smtp.mjs';

const MIN = 60 * 1000;
// RFC 3339 at whole seconds (the API's precision) and the iCalendar UTC form of the same instant.
const rfc3339 = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const icsUtc = (iso) => iso.replace(/[-:]/g, '');
let mailboxes = 0;
const uniqueEmail = (who) => `${who}.${process.pid}.${++mailboxes}.${randomBytes(3).toString('hex')}@example.org`;

// --- a per-test harness: servers, aiosmtpd, temp dirs; diagnostics on failure, everything stopped after --------------

class Harness {
  constructor() { this.servers = []; this.smtps = []; this.dirs = []; }

  dir(prefix = 'cohort-email-') {
    const d = mkdtempSync(path.join(tmpdir(), prefix));
    this.dirs.push(d);
    return d;
  }

  async smtp(opts) {
    const s = await startSmtp(opts);
    this.smtps.push(s);
    return s;
  }

  // A server with email through the relay on smtpPort (none: .eml files), fast retries. Same dataDir + adminToken
  // (and the same config) restart the same node.
  async server({ smtpPort, dataDir, adminToken, extraConfig = '' } = {}) {
    const config = path.join(this.dir('cohort-email-cfg-'), 'cohort.toml');
    const email = smtpPort
      ? `[email]\nsmtp_host = "127.0.0.1"\nsmtp_port = ${smtpPort}\nsmtp_tls = "none"\nretry_first_seconds = 1\n`
      : '[email]\nretry_first_seconds = 1\n';
    writeFileSync(config, email + extraConfig);
    dataDir ??= this.dir('cohort-email-data-');
    // The lead may be relinking build/cohort: a spawn that fails with ETXTBSY/EACCES is retried a moment later.
    for (let attempt = 0; ; attempt++) {
      try {
        const s = await startServer({ args: ['--config', config], dataDir, adminToken });
        this.servers.push(s);
        return s;
      } catch (e) {
        if (attempt < 10 && /ETXTBSY|EACCES/.test(String(e?.code ?? e?.message))) { await sleep(500); continue; }
        throw e;
      }
    }
  }

  diagnostics() {
    let out = '';
    for (const [i, s] of this.servers.entries()) {
      const status = s.proc.exitCode ?? s.proc.signalCode ?? 'running';
      out += `\n--- cohort #${i} (${s.url}, ${status}) stderr tail:\n${s.stderr.slice(-3000)}`;
    }
    for (const [i, m] of this.smtps.entries()) {
      out += `\n--- aiosmtpd #${i} (port ${m.port}): ${m.messages().length} message(s): ${m.messages().map((x) => `[${toAddress(x)}] ${x.subject}`).join('; ')}`;
      if (m.stderr.trim()) out += `\n    stderr tail: ${m.stderr.slice(-1000)}`;
    }
    return out;
  }

  async close() {
    for (const s of this.servers) await s.kill();
    for (const m of this.smtps) await m.stop();
    for (const d of this.dirs) rmSync(d, { recursive: true, force: true });
  }
}

function scenario(name, fn) {
  test(name, async () => {
    const h = new Harness();
    try {
      await fn(h);
    } catch (e) {
      if (e && typeof e === 'object' && typeof e.message === 'string') e.message += h.diagnostics();
      throw e;
    } finally {
      await h.close();
    }
  });
}

// --- API helpers -----------------------------------------------------------------------------------------------------

async function createWebinar(server, { title = 'Email test series', capacity = null, sessions }) {
  const res = await api(server, 'POST', '/api/webinars', {
    token: server.adminToken, body: { title, description: 'Infant massage for pediatric therapists', capacity, sessions },
  });
  assert.equal(res.status, 201, `create webinar: ${JSON.stringify(res.body)}`);
  return res.body;
}

async function register(server, webinarId, name, email, status = 'registered') {
  const res = await api(server, 'POST', `/api/webinars/${webinarId}/registrations`,
    { body: { name, email, profession: 'occupational therapist', consent: true } });
  assert.equal(res.status, 201, `signup of ${email}: ${JSON.stringify(res.body)}`);
  assert.equal(res.body.status, status, `signup of ${email}: ${JSON.stringify(res.body)}`);
  return { ...res.body, name, email };
}

async function emails(server, webinarId) {
  const res = await api(server, 'GET', `/api/webinars/${webinarId}/emails`, { token: server.adminToken });
  assert.equal(res.status, 200, `emails of webinar ${webinarId}: ${JSON.stringify(res.body)}`);
  return res.body;
}

// Polls fn() until it returns something truthy.
async function poll(fn, timeoutMs, what) {
  const end = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await fn();
    if (last?.ok ?? last) return last?.value ?? last;
    if (Date.now() > end) throw new Error(`${what}: not within ${timeoutMs} ms${last?.detail ? `; last: ${last.detail}` : ''}`);
    await sleep(100);
  }
}

// Waits until the webinar's outbox has `count` rows (at least) and none of them is still queued.
async function outboxSettled(server, webinarId, count, timeoutMs = 10000) {
  return poll(async () => {
    const list = await emails(server, webinarId);
    const ok = list.emails.length >= count && list.counts.queued === 0;
    return { ok, value: list, detail: JSON.stringify({ counts: list.counts, n: list.emails.length }) };
  }, timeoutMs, `outbox of webinar ${webinarId} settled with ${count} email(s)`);
}

// --- message helpers -------------------------------------------------------------------------------------------------

// The address inside To (or another address header).
function toAddress(m, name = 'to') {
  const v = m.header(name) ?? '';
  return (/<([^>]+)>\s*$/.exec(v)?.[1] ?? v).trim().toLowerCase();
}
const to = (addr) => (ms) => ms.filter((m) => toAddress(m) === addr.toLowerCase());
const textPart = (m) => m.leaves().find((p) => p.contentType === 'text/plain');
const htmlPart = (m) => m.leaves().find((p) => p.contentType === 'text/html');
const calendarPart = (m) => m.leaves().find((p) => p.contentType === 'text/calendar');

// Waits for the first message to addr whose subject matches.
async function mailTo(smtp, addr, subject, timeoutMs = 10000) {
  return smtp.waitFor((ms) => to(addr)(ms).find((m) => subject.test(m.subject)), timeoutMs, `mail to ${addr} with subject ${subject}`);
}

function listUnsubscribeUrl(m) {
  const v = m.header('list-unsubscribe');
  assert.ok(v, `List-Unsubscribe header present (headers: ${m.headers.map((h) => h.name).join(', ')})`);
  const url = /^<([^>]+)>$/.exec(v)?.[1];
  assert.ok(url, `List-Unsubscribe is one <URL>: ${v}`);
  return new URL(url);
}

function checkInvitation(m, { method, webinar, joinUrl, sequence, attendee }) {
  const cal = calendarPart(m);
  assert.ok(cal, `a text/calendar part (parts: ${m.leaves().map((p) => p.contentType).join(', ')})`);
  assert.equal((cal.params.method ?? '').toUpperCase(), method, `Content-Type method parameter: ${cal.header('content-type')}`);
  assert.match(cal.header('content-transfer-encoding') ?? '', /^base64$/i);
  const ics = cal.text();
  assert.ok(ics.includes('\r\n'), 'iCalendar lines end in CRLF');
  for (const line of ics.split('\r\n')) assert.ok(Buffer.byteLength(line) <= 75, `iCalendar line folded at 75 octets: ${line}`);
  const parsed = parseIcs(ics);
  assert.ok(parsed.balanced, `BEGIN/END balanced:\n${ics}`);
  assert.equal(parsed.lines[0], 'BEGIN:VCALENDAR');
  assert.equal(parsed.top.VERSION, '2.0');
  assert.equal(parsed.top.METHOD, method);
  assert.equal(parsed.events.length, webinar.sessions.length, `one VEVENT per session:\n${ics}`);
  for (const [i, s] of webinar.sessions.entries()) {
    const ev = parsed.events[i];
    assert.equal(ev.UID, `cohort-w${webinar.id}-s${s.number}@localhost`, 'UID of the form cohort-w<webinar>-s<session>@<host>');
    assert.equal(ev.DTSTART, icsUtc(s.starts_at), `DTSTART of session ${s.number} (starts_at ${s.starts_at})`);
    assert.equal(ev.DTEND, icsUtc(s.ends_at), `DTEND of session ${s.number}`);
    assert.equal(ev.SEQUENCE, String(sequence), `SEQUENCE of session ${s.number}`);
    assert.match(ev.DTSTAMP, /^\d{8}T\d{6}Z$/);
    if (joinUrl) assert.equal(ev.URL, joinUrl, 'URL of the event is the personal join link');
    if (attendee) assert.equal(ev.ATTENDEE?.toLowerCase(), `mailto:${attendee.toLowerCase()}`);
  }
  return parsed;
}

// --- 1 ---------------------------------------------------------------------------------------------------------------

scenario('signup: one confirmation with a valid invitation and the personal join link; waitlist mail; no header injection', async (h) => {
  const smtp = await h.smtp();
  const server = await h.server({ smtpPort: smtp.port });
  // A title with non-ASCII (an encoded-word Subject) and sessions at odd minutes, so a wrong DTSTART would show.
  const title = 'Level Up — 5 Ways Infant Massage Supports Your Pediatric Therapy Goals';
  const webinar = await createWebinar(server, {
    title, capacity: 1,
    sessions: [{ starts_at: '2036-06-01T18:07:00Z', duration_minutes: 60 }, { starts_at: '2036-06-08T17:45:30Z', duration_minutes: 90 }],
  });

  const ada = await register(server, webinar.id, 'Ada Lovelace', uniqueEmail('ada'));
  assert.match(ada.join_url, /#token=/, `join_url: ${ada.join_url}`);
  const bob = await register(server, webinar.id, 'Bob Brown', uniqueEmail('bob'), 'waitlisted');
  const list = await outboxSettled(server, webinar.id, 2);
  const messages = smtp.messages();

  // Ada: exactly one message, the confirmation.
  const toAda = to(ada.email)(messages);
  assert.equal(toAda.length, 1, `exactly one message to ${ada.email}: ${toAda.map((m) => m.subject).join('; ')}`);
  const m = toAda[0];
  assert.equal(m.subject, `You're registered: ${title}`);
  assert.equal(m.headerAll('subject').length, 1);
  assert.equal(m.headerAll('to').length, 1);
  assert.equal(decodeWords(m.header('to')), `"Ada Lovelace" <${ada.email}>`);
  assert.equal(toAddress(m, 'from'), 'webinars@localhost');
  assert.match(m.header('message-id') ?? '', /^<[^<>@\s]+@localhost>$/);
  assert.match(m.header('date') ?? '', /^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000$/);
  assert.equal(m.header('mime-version'), '1.0');
  assert.equal(m.contentType, 'multipart/mixed');
  const unsubscribe = listUnsubscribeUrl(m);
  assert.equal(unsubscribe.origin + unsubscribe.pathname, `${server.url}/api/unsubscribe`);  // the one-click POST target
  assert.equal(unsubscribe.searchParams.get('r'), String(ada.id));
  assert.match(unsubscribe.searchParams.get('sig') ?? '', /^[A-Za-z0-9_-]{16,}$/);
  assert.equal(m.header('list-unsubscribe-post'), 'List-Unsubscribe=One-Click');

  // The text part (quoted-printable) carries the personal join link exactly as the signup returned it.
  const text = textPart(m);
  assert.ok(text, 'a text/plain part');
  assert.match(text.header('content-transfer-encoding') ?? '', /^quoted-printable$/i);
  assert.match(text.params.charset ?? '', /^utf-8$/i);
  const body = text.text();
  assert.ok(body.split(/\r?\n/).includes(ada.join_url), `the join link ${ada.join_url} on a line of its own in:\n${body}`);
  assert.ok(body.includes('Ada Lovelace'), 'greets by name');
  // The body links to the unsubscribe page (same signature as the header's one-click URL).
  assert.ok(body.includes(`${server.url}/unsubscribe${unsubscribe.search}`), 'the unsubscribe page link is in the text');
  for (const line of text.body.split('\r\n')) assert.ok(line.length <= 76, `quoted-printable line ≤ 76: ${line}`);
  assert.ok(htmlPart(m)?.text().includes(ada.join_url.replace(/&/g, '&amp;')), 'the HTML part has the join link too');
  const cal = calendarPart(m);
  assert.match(cal.header('content-disposition') ?? '', /^attachment;.*filename="invite\.ics"/);
  checkInvitation(m, { method: 'REQUEST', webinar, joinUrl: ada.join_url, sequence: 0, attendee: ada.email });

  // What the relay got is what the organizer API shows (aiosmtpd adds only its X-Peer line).
  const row = list.emails.find((e) => e.to.toLowerCase() === ada.email.toLowerCase());
  assert.deepEqual({ kind: row.kind, state: row.state, attempts: row.attempts, last_error: row.last_error, registration_id: row.registration_id },
    { kind: 'confirmation', state: 'sent', attempts: 1, last_error: null, registration_id: ada.id });
  assert.equal(row.subject, m.subject);
  const source = await api(server, 'GET', `/api/emails/${row.id}/message`, { token: server.adminToken });
  assert.equal(source.status, 200);
  // The organizer sees the message composed as it was sent, with the registrant's secrets redacted.
  const shown = parseMessage(source.body);
  for (const h of ['subject', 'to', 'from', 'message-id', 'date']) assert.equal(shown.header(h), m.header(h), `the ${h} header`);
  const shownText = textPart(shown).text();
  assert.ok(!shownText.includes(ada.token) && !source.body.includes(ada.token.slice(0, 40)), 'no token in the organizer\'s view');
  assert.ok(shownText.includes(`/live/${webinar.id}#token=REDACTED`), 'the join link is shown redacted');

  // Bob: the waitlist mail, no confirmation, no invitation.
  const toBob = to(bob.email)(messages);
  assert.equal(toBob.length, 1, `exactly one message to ${bob.email}: ${toBob.map((x) => x.subject).join('; ')}`);
  assert.equal(toBob[0].subject, `You're on the waitlist: ${title}`);
  assert.equal(calendarPart(toBob[0]), undefined, 'no invitation for the waitlist');
  assert.ok(!textPart(toBob[0]).text().includes('#token='), 'no join link for the waitlist');
  assert.deepEqual(list.emails.filter((e) => e.to.toLowerCase() === bob.email.toLowerCase()).map((e) => e.kind), ['waitlisted']);
  assert.equal(messages.length, 2, 'nothing else was sent');

  // CR/LF in the name cannot add a header: refused (422), or sent with no Bcc.
  const other = await createWebinar(server, { title: 'Injection', sessions: [{ starts_at: '2036-07-01T18:00:00Z', duration_minutes: 60 }] });
  const eveEmail = uniqueEmail('eve');
  const evil = 'Eve\r\nBcc: evil@example.org';
  const res = await api(server, 'POST', `/api/webinars/${other.id}/registrations`, { body: { name: evil, email: eveEmail, consent: true } });
  if (res.status === 422) {
    assertError(res, 422, undefined, 'name', 'signup with CR/LF in the name');
  } else {
    assert.equal(res.status, 201, `signup with CR/LF in the name: 422 or 201, got ${res.status} ${JSON.stringify(res.body)}`);
    const eve = await mailTo(smtp, eveEmail, /^You're registered/);
    const head = eve.raw.slice(0, eve.raw.indexOf('\r\n\r\n'));
    assert.deepEqual(eve.headerAll('bcc'), [], `no Bcc header:\n${head}`);
    assert.equal(eve.headerAll('to').length, 1);
    assert.ok(!/^bcc:/im.test(head), `no line starting with Bcc:\n${head}`);
  }
  for (const name of ['Eve\nCc: evil@example.org', 'Eve\rBcc: evil@example.org']) {
    const r = await api(server, 'POST', `/api/webinars/${other.id}/registrations`, { body: { name, email: uniqueEmail('eve'), consent: true } });
    assert.ok(r.status === 422 || r.status === 201, `name ${JSON.stringify(name)}: ${r.status}`);
  }
  await outboxSettled(server, other.id, 0);
  await sleep(300);
  for (const x of smtp.messages()) {
    const head = x.raw.slice(0, x.raw.indexOf('\r\n\r\n'));
    assert.ok(!/^(bcc|cc):/im.test(head), `no Cc/Bcc header in any message:\n${head}`);
  }
});

// --- 2 ---------------------------------------------------------------------------------------------------------------

scenario('relay down: 50 concurrent signups succeed at once; every confirmation arrives exactly once when the relay comes up', async (h) => {
  const port = await freePort();  // nothing listens here yet
  const server = await h.server({ smtpPort: port });
  const webinar = await createWebinar(server, { title: 'Relay outage', sessions: [{ starts_at: '2036-09-01T18:00:00Z', duration_minutes: 60 }] });
  const N = 50;
  const people = Array.from({ length: N }, (_, i) => ({ name: `Therapist ${i + 1}`, email: uniqueEmail(`t${i + 1}`) }));

  const started = Date.now();
  const results = await Promise.all(people.map((p) => api(server, 'POST', `/api/webinars/${webinar.id}/registrations`,
    { body: { name: p.name, email: p.email, consent: true } })));
  const elapsed = Date.now() - started;
  assert.deepEqual(results.map((r) => r.status), Array(N).fill(201), `all signups 201: ${JSON.stringify(results.find((r) => r.status !== 201)?.body)}`);
  assert.ok(results.every((r) => r.body.status === 'registered'));
  assert.ok(elapsed < 5000, `${N} signups took ${elapsed} ms with the relay down (they must not wait for it)`);

  // Each one tried (connection refused) and waits for its retry.
  const failing = await poll(async () => {
    const list = await emails(server, webinar.id);
    const ok = list.emails.length === N && list.emails.every((e) => e.state === 'queued' && e.attempts >= 1 && e.last_error);
    return { ok, value: list, detail: JSON.stringify(list.emails.find((e) => !(e.attempts >= 1 && e.last_error)) ?? list.counts) };
  }, 8000, `all ${N} confirmations queued with a failed attempt`);
  assert.equal(failing.transport, 'smtp');
  assert.deepEqual(failing.counts, { queued: N, sent: 0, failed: 0 });
  assert.ok(failing.emails.every((e) => e.kind === 'confirmation' && typeof e.next_attempt_at === 'string'));

  // The relay comes up on that port: all arrive, each exactly once.
  const smtp = await h.smtp({ port });
  const upAt = Date.now();
  await smtp.waitFor((ms) => ms.length >= N, 15000, `${N} confirmations`);
  const arrivedIn = Date.now() - upAt;
  const sent = await outboxSettled(server, webinar.id, N, 5000);
  assert.deepEqual(sent.counts, { queued: 0, sent: N, failed: 0 });
  assert.ok(sent.emails.every((e) => e.state === 'sent' && e.sent_at && e.next_attempt_at === null));
  await sleep(1500);  // a duplicate would show up here
  const messages = smtp.messages();
  assert.equal(messages.length, N, `exactly ${N} messages at the relay`);
  const ids = new Set(messages.map((m) => m.header('message-id')));
  assert.equal(ids.size, N, 'distinct Message-IDs');
  const recipients = messages.map((m) => toAddress(m)).sort();
  assert.deepEqual(recipients, people.map((p) => p.email.toLowerCase()).sort(), 'one confirmation per signup');
  assert.ok(messages.every((m) => m.subject === "You're registered: Relay outage"));
  // The join link in each mail is the one its signup returned.
  for (const [i, p] of people.entries()) {
    const m = to(p.email)(messages)[0];
    assert.ok(textPart(m).text().includes(results[i].body.join_url), `join link of ${p.email}`);
  }
  assert.ok(arrivedIn < 12000, `all arrived ${arrivedIn} ms after the relay came up`);
});

// --- 3 ---------------------------------------------------------------------------------------------------------------

scenario('a reminder that fell due while the server was stopped is sent once after the restart, and not again after another', async (h) => {
  const smtp = await h.smtp();
  const dataDir = h.dir('cohort-email-data-');
  const adminToken = randomBytes(24).toString('hex');
  let server = await h.server({ smtpPort: smtp.port, dataDir, adminToken });
  const title = 'Reminder while stopped';
  const now = Date.now();
  const webinar = await createWebinar(server, {
    title,
    sessions: [{ starts_at: rfc3339(now + 120 * MIN), duration_minutes: 60 }, { starts_at: rfc3339(now + 7 * 24 * 60 * MIN), duration_minutes: 60 }],
  });
  const ada = await register(server, webinar.id, 'Ada Lovelace', uniqueEmail('ada'));
  await mailTo(smtp, ada.email, /^You're registered/);
  await outboxSettled(server, webinar.id, 1);
  assert.deepEqual(await server.stop(), { code: 0, signal: null }, 'clean stop on SIGTERM');

  // While it is down, session 1 moves to 50 minutes from now: the 1 h reminder is due.
  const dbPath = path.join(dataDir, 'cohort.db');
  execFileSync('sqlite3', [dbPath, `UPDATE sessions SET starts_at = CAST(strftime('%s','now') AS INTEGER) + 3000 WHERE webinar_id = ${webinar.id} AND number = 1;`]);
  const startsAt = Number(execFileSync('sqlite3', [dbPath, `SELECT starts_at FROM sessions WHERE webinar_id = ${webinar.id} AND number = 1;`]).toString().trim());
  assert.ok(Math.abs(startsAt * 1000 - (Date.now() + 50 * MIN)) < 10000, `session moved: ${startsAt}`);

  server = await h.server({ smtpPort: smtp.port, dataDir, adminToken });
  const reminder = await mailTo(smtp, ada.email, /^Starts in/);
  assert.match(reminder.subject, new RegExp(`^Starts in (49|50|51) minutes: ${title}, session 1$`));
  // The personal join link, unsealed after the restart (on the restarted node's URL: public_url follows the listen port).
  const joinLink = new URL(ada.join_url);
  const expectedLink = server.url + joinLink.pathname + joinLink.hash;
  const reminderText = textPart(reminder).text();
  assert.ok(reminderText.split(/\r?\n/).includes(expectedLink), `the reminder has the join link ${expectedLink}:\n${reminderText}`);
  assert.equal(calendarPart(reminder), undefined);
  listUnsubscribeUrl(reminder);
  let list = await outboxSettled(server, webinar.id, 2);
  assert.deepEqual(list.emails.map((e) => e.kind).sort(), ['confirmation', 'reminder'], JSON.stringify(list.emails));
  assert.ok(list.emails.every((e) => e.state === 'sent'));

  // Another restart: the start-up sweep finds nothing new.
  assert.deepEqual(await server.stop(), { code: 0, signal: null });
  server = await h.server({ smtpPort: smtp.port, dataDir, adminToken });
  await sleep(2500);  // the start-up sweep ran, the sender polled (every second) at least twice
  list = await emails(server, webinar.id);
  assert.deepEqual(list.emails.map((e) => e.kind).sort(), ['confirmation', 'reminder'], `no new rows: ${JSON.stringify(list.emails)}`);
  const reminders = to(ada.email)(smtp.messages()).filter((m) => /^Starts in/.test(m.subject));
  assert.equal(reminders.length, 1, `exactly one reminder in total: ${reminders.map((m) => m.subject).join('; ')}`);
  assert.ok(!reminders.some((m) => /hour/.test(m.subject)), 'no 24 h reminder');
  assert.equal(smtp.messages().length, 2, 'confirmation + one reminder, nothing else');
});

// --- 4 ---------------------------------------------------------------------------------------------------------------

scenario('unsubscribe: no more reminders or drop notices, but the updated invitation still comes; a bad signature is 403', async (h) => {
  const smtp = await h.smtp();
  const dataDir = h.dir('cohort-email-data-');
  const adminToken = randomBytes(24).toString('hex');
  let server = await h.server({ smtpPort: smtp.port, dataDir, adminToken });
  const title = 'Unsubscribe test';
  const later = { starts_at: rfc3339(Date.now() + 8 * 24 * 60 * MIN), duration_minutes: 60 };
  const webinar = await createWebinar(server, { title, sessions: [{ starts_at: rfc3339(Date.now() + 120 * MIN), duration_minutes: 60 }, later] });
  const a = await register(server, webinar.id, 'Ann Unsubscribed', uniqueEmail('ann'));
  const b = await register(server, webinar.id, 'Ben Subscribed', uniqueEmail('ben'));
  const c = await register(server, webinar.id, 'Cat NoDrops', uniqueEmail('cat'));
  await outboxSettled(server, webinar.id, 3);
  const confirmationA = await mailTo(smtp, a.email, /^You're registered/);
  const firstUid = parseIcs(calendarPart(confirmationA).text()).events[0].UID;
  const url = listUnsubscribeUrl(confirmationA);
  const prefs = (who) => api(server, 'GET', '/api/me/email', { token: who.token });

  // Bad signatures: 403, nothing changes.
  const sig = url.searchParams.get('sig');
  const flipped = (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1);
  for (const q of [`r=${a.id}&sig=${flipped}`, `r=${b.id}&sig=${sig}`, `r=${a.id}`, `r=${a.id}&sig=`, `sig=${sig}`, `r=${a.id}x&sig=${sig}`]) {
    const res = await api(server, 'POST', `/api/unsubscribe?${q}`, {
      raw: 'List-Unsubscribe=One-Click', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assertError(res, 403, 'forbidden', undefined, `POST /api/unsubscribe?${q}`);
  }
  assert.deepEqual((await prefs(a)).body, { unsubscribed: false, drop_notices: true });

  // A: one-click (the query of the List-Unsubscribe URL). C: drop notices off in the preferences.
  const res = await api(server, 'POST', `/api/unsubscribe${url.search}`, {
    raw: 'List-Unsubscribe=One-Click', headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  assert.equal(res.status, 200, `one-click unsubscribe: ${JSON.stringify(res.body)}`);
  assert.equal(res.body.unsubscribed, true);
  assert.equal((await prefs(a)).body.unsubscribed, true);
  const again = await api(server, 'POST', `/api/unsubscribe${url.search}`);  // the page posts without a body; idempotent
  assert.equal(again.status, 200, JSON.stringify(again.body));
  const put = await api(server, 'PUT', '/api/me/email', { token: c.token, body: { drop_notices: false } });
  assert.equal(put.status, 200, JSON.stringify(put.body));
  assert.deepEqual((await prefs(c)).body, { unsubscribed: false, drop_notices: false });
  assert.deepEqual((await prefs(b)).body, { unsubscribed: false, drop_notices: true });
  // The registration itself stays active.
  const me = await api(server, 'GET', '/api/me', { token: a.token });
  assert.equal(me.status, 200, JSON.stringify(me.body));
  assert.equal(me.body.status ?? me.body.registration?.status, 'registered', JSON.stringify(me.body));

  // Session 1 moves into the 1 h window: everyone registered (A too) gets the updated invitation.
  const moved = rfc3339(Date.now() + 50 * MIN);
  const patch = await api(server, 'PATCH', `/api/webinars/${webinar.id}`, {
    token: adminToken, body: { sessions: [{ starts_at: moved, duration_minutes: 60 }, later] },
  });
  assert.equal(patch.status, 200, JSON.stringify(patch.body));
  const updated = patch.body;
  assert.equal(updated.sessions[0].starts_at, moved);
  for (const who of [a, b, c]) {
    const m = await mailTo(smtp, who.email, /^Schedule change/);
    assert.equal(m.subject, `Schedule change: ${title}`);
    const ics = checkInvitation(m, { method: 'REQUEST', webinar: updated, joinUrl: who.join_url, sequence: 1, attendee: who.email });
    assert.equal(ics.events[0].UID, firstUid, 'the same UID as the confirmation, so calendars update the event');
    assert.equal(ics.events[0].DTSTART, icsUtc(moved));
  }

  // The reminder sweep (at start-up; it also runs every 30 s): B and C get the 1 h reminder, A does not.
  await outboxSettled(server, webinar.id, 6);
  assert.deepEqual(await server.stop(), { code: 0, signal: null });
  server = await h.server({ smtpPort: smtp.port, dataDir, adminToken });
  await mailTo(smtp, b.email, /^Starts in/);
  await mailTo(smtp, c.email, /^Starts in/);
  let list = await outboxSettled(server, webinar.id, 8);
  assert.deepEqual(list.emails.filter((e) => e.kind === 'reminder').map((e) => e.to).sort(), [b.email, c.email].sort(),
    'reminders only to those still subscribed');

  // A drop released now: a notice to B only (A unsubscribed, C turned drop notices off).
  const drop = await api(server, 'POST', `/api/webinars/${webinar.id}/drops`, {
    token: adminToken, body: { title: 'Week 1 handout', release: 'now' },
  });
  assert.equal(drop.status, 201, JSON.stringify(drop.body));
  const notice = await mailTo(smtp, b.email, /^New bonus material/);
  assert.equal(notice.subject, 'New bonus material: Week 1 handout');
  assert.ok(textPart(notice).text().includes(`/materials/${webinar.id}#token=${b.token}`), 'the materials link with B\'s token');
  list = await outboxSettled(server, webinar.id, 9);
  await sleep(1200);
  list = await emails(server, webinar.id);
  assert.deepEqual(list.emails.filter((e) => e.kind === 'drop').map((e) => e.to), [b.email], 'drop notice only to B');
  const gotA = to(a.email)(smtp.messages()).map((m) => m.subject);
  assert.deepEqual(gotA, [`You're registered: ${title}`, `Schedule change: ${title}`], 'A got only the confirmation and the update');
  const gotC = to(c.email)(smtp.messages()).map((m) => m.subject.replace(/^Starts in .*/, 'Starts in …'));
  assert.deepEqual(gotC, [`You're registered: ${title}`, `Schedule change: ${title}`, 'Starts in …'], 'C: no drop notice');
  assert.equal(to(b.email)(smtp.messages()).length, 4, 'B: confirmation, update, reminder, drop notice');
});

// RFC 8058: the mail client POSTs "List-Unsubscribe=One-Click" to the List-Unsubscribe URL itself.
scenario('one-click unsubscribe (RFC 8058): a POST to the List-Unsubscribe URL itself unsubscribes', async (h) => {
  const smtp = await h.smtp();
  const server = await h.server({ smtpPort: smtp.port });
  const webinar = await createWebinar(server, { title: 'RFC 8058', sessions: [{ starts_at: '2036-06-01T18:00:00Z', duration_minutes: 60 }] });
  const a = await register(server, webinar.id, 'Ann', uniqueEmail('ann'));
  const url = listUnsubscribeUrl(await mailTo(smtp, a.email, /^You're registered/));
  const res = await fetch(url, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click',
  });
  const body = await res.text();
  assert.ok(res.status >= 200 && res.status < 300,
    `POST ${url.pathname}${url.search.replace(/sig=[^&]+/, 'sig=…')} (the List-Unsubscribe URL, as a mail client does) answered ${res.status}: ${body.slice(0, 300)}`);
  const prefs = await api(server, 'GET', '/api/me/email', { token: a.token });
  assert.equal(prefs.body.unsubscribed, true, 'unsubscribed by the one-click POST');
});

// --- 5 ---------------------------------------------------------------------------------------------------------------

scenario('without smtp_host a signup writes one .eml file under <data-dir>/outbox; the organizer sees it with the secrets redacted', async (h) => {
  const server = await h.server();
  const webinar = await createWebinar(server, { title: 'Files only', sessions: [{ starts_at: '2036-06-01T18:00:00Z', duration_minutes: 60 }] });
  const ada = await register(server, webinar.id, 'Ada Lovelace', uniqueEmail('ada'));
  const list = await outboxSettled(server, webinar.id, 1);
  assert.equal(list.transport, 'files');
  const outbox = path.join(server.dataDir, 'outbox');
  assert.equal(realpathSync(list.outbox_dir), realpathSync(outbox), `outbox_dir ${list.outbox_dir}`);
  assert.equal(list.emails.length, 1);
  const row = list.emails[0];
  assert.deepEqual({ kind: row.kind, to: row.to, state: row.state }, { kind: 'confirmation', to: ada.email, state: 'sent' });
  const files = readdirSync(outbox);
  assert.equal(files.length, 1, `exactly one file in ${outbox}: ${files.join(', ')}`);
  assert.match(files[0], /\.eml$/);
  const file = readFileSync(path.join(outbox, files[0]));
  const res = await fetch(`${server.url}/api/emails/${row.id}/message`, { headers: { authorization: `Bearer ${server.adminToken}` } });
  assert.equal(res.status, 200);
  const shown = parseMessage((await res.text()));
  const written = parseMessage(file.toString('utf8'));
  for (const h of ['subject', 'to', 'message-id']) assert.equal(shown.header(h), written.header(h), `GET /api/emails/${row.id}/message shows the file's ${h}`);
  assert.ok(textPart(written).text().includes(ada.token), 'the .eml file is the message itself, join link included');
  assert.ok(!textPart(shown).text().includes(ada.token), 'the organizer\'s view redacts it');
  assert.ok(file.toString('latin1').includes(`To: "Ada Lovelace" <${ada.email}>\r\n`));
  const missing = await api(server, 'GET', '/api/emails/999999/message', { token: server.adminToken });
  assertError(missing, 404, 'not_found');
  assertError(await api(server, 'GET', `/api/emails/${row.id}/message`), 401);
  assertError(await api(server, 'GET', `/api/webinars/${webinar.id}/emails`, { token: ada.token }), 403);
});

// --- series deleted --------------------------------------------------------------------------------------------------

scenario('deleting a series mails everyone still signed up: the registered a calendar CANCEL for every session, the waitlisted a notice', async (h) => {
  const smtp = await h.smtp();
  const server = await h.server({ smtpPort: smtp.port });
  const webinar = await createWebinar(server, {
    title: 'Series to be cancelled', capacity: 1,
    sessions: [{ starts_at: '2036-07-01T18:00:00Z', duration_minutes: 60 }, { starts_at: '2036-07-08T18:00:00Z', duration_minutes: 45 }],
  });
  const ada = await register(server, webinar.id, 'Ada Lovelace', uniqueEmail('ada'));
  const bob = await register(server, webinar.id, 'Bob Brown', uniqueEmail('bob'), 'waitlisted');
  const cy = await register(server, webinar.id, 'Cy Young', uniqueEmail('cy'), 'waitlisted');
  const cancel = await api(server, 'DELETE', '/api/me', { token: cy.token });
  assert.equal(cancel.status, 200, JSON.stringify(cancel.body));
  await outboxSettled(server, webinar.id, 4);  // Ada's confirmation, two waitlist mails, Cy's cancellation
  const left = await mailTo(smtp, cy.email, /^You left the waitlist: Series to be cancelled$/);
  assert.equal(calendarPart(left), undefined, 'leaving the waitlist takes nothing out of a calendar');

  const del = await api(server, 'DELETE', `/api/webinars/${webinar.id}`, { token: server.adminToken });
  assert.equal(del.status, 204, JSON.stringify(del.body));

  const toAda = await mailTo(smtp, ada.email, /^Cancelled: Series to be cancelled$/);
  checkInvitation(toAda, { method: 'CANCEL', webinar, sequence: 1, attendee: ada.email });
  assert.equal(parseIcs(calendarPart(toAda).text()).events[0].STATUS, 'CANCELLED');
  const adaText = textPart(toAda).text();
  assert.ok(adaText.includes('Ada Lovelace') && adaText.includes('Session 2:'), `greets and lists the sessions:\n${adaText}`);
  const toBob = await mailTo(smtp, bob.email, /^Cancelled: Series to be cancelled$/);
  assert.equal(calendarPart(toBob), undefined, 'no calendar for someone who was never invited');
  // Cy cancelled before: nothing more for her; and each message exactly once.
  await sleep(500);
  assert.equal(to(cy.email)(smtp.messages()).filter((m) => /^Cancelled:/.test(m.subject)).length, 0);
  assert.equal(to(ada.email)(smtp.messages()).filter((m) => /^Cancelled:/.test(m.subject)).length, 1);
  assert.equal(to(bob.email)(smtp.messages()).filter((m) => /^Cancelled:/.test(m.subject)).length, 1);
});

// --- the registrant's time zone --------------------------------------------------------------------------------------

scenario('session times in mail are in the zone the signup page sent (DST included), else UTC; a zone the server does not know is ignored', async (h) => {
  const smtp = await h.smtp();
  const server = await h.server({ smtpPort: smtp.port });
  // One session in Chicago's summer (CDT, UTC-5) and one in its winter (CST, UTC-6).
  const webinar = await createWebinar(server, {
    title: 'Zones', sessions: [{ starts_at: '2036-06-01T18:07:00Z', duration_minutes: 60 }, { starts_at: '2036-12-07T18:07:00Z', duration_minutes: 60 }],
  });
  const signup = async (name, email, timeZone) => {
    const res = await api(server, 'POST', `/api/webinars/${webinar.id}/registrations`,
      { body: { name, email, consent: true, ...(timeZone === undefined ? {} : { time_zone: timeZone }) } });
    return res;
  };
  const wrongType = await signup('Typo', uniqueEmail('typo'), 42);
  assertError(wrongType, 422, 'validation_failed', 'time_zone');

  const chicago = { name: 'Chi', email: uniqueEmail('chi') };
  const unknown = { name: 'Mars', email: uniqueEmail('mars') };
  const none = { name: 'None', email: uniqueEmail('none') };
  const a = await signup(chicago.name, chicago.email, 'America/Chicago');
  const b = await signup(unknown.name, unknown.email, 'Mars/Olympus_Mons');
  const c = await signup(none.name, none.email);
  for (const r of [a, b, c]) assert.equal(r.status, 201, JSON.stringify(r.body));
  assert.equal((await api(server, 'GET', '/api/me', { token: a.body.token })).body.time_zone, 'America/Chicago');
  assert.equal((await api(server, 'GET', '/api/me', { token: b.body.token })).body.time_zone, null);

  const lines = async (who) => textPart(await mailTo(smtp, who.email, /registered/i)).text().split(/\r?\n/).filter((l) => l.startsWith('Session '));
  assert.deepEqual(await lines(chicago), ['Session 1: Sun 1 Jun 2036, 13:07 CDT (60 min)', 'Session 2: Sun 7 Dec 2036, 12:07 CST (60 min)']);
  assert.deepEqual(await lines(unknown), ['Session 1: Sun 1 Jun 2036, 18:07 UTC (60 min)', 'Session 2: Sun 7 Dec 2036, 18:07 UTC (60 min)']);
  assert.deepEqual(await lines(none), await lines(unknown));
});
