// Shared by the certificate tests: a series with CE settings and registrants made through the API,
// the CE rows no route on this branch writes yet (ce_series, ce_sessions, the license answer) put in
// with the sqlite3 CLI, and a first certificate inserted the same way (the CE completion rule that
// issues one for real is another slice's; re-issue below goes through the real issue path).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { api } from '../support/server.mjs';
import { sleep } from '../support/http.mjs';

export const iso = (ms) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
export const sql = (server, statement) =>
  execFileSync('sqlite3', ['-cmd', '.timeout 5000', path.join(server.dataDir, 'cohort.db'), statement], { encoding: 'utf8' }).trim();
const quote = (s) => `'${String(s).replaceAll("'", "''")}'`;

export const STATEMENT = 'Little Steps Therapy is an AOTA Approved Provider of professional development. The assignment of AOTA CEUs'
  + ' does not imply endorsement of specific course content, products, or clinical procedures by AOTA.';

export async function ceSeries(server, title = 'Feeding in the NICU') {
  const created = await api(server, 'POST', '/api/webinars', {
    token: server.adminToken,
    body: { title, sessions: [{ starts_at: iso(Date.now() - 3 * 3600_000), duration_minutes: 90 }, { starts_at: iso(Date.now() + 86400_000), duration_minutes: 60 }] },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const w = created.body;
  sql(server, `INSERT INTO ce_series (webinar_id, offered, ceu_per_hour, provider_name, provider_number, instructional_level, statement, updated_at)
    VALUES (${w.id}, 1, 0.1, 'Little Steps Therapy', 'AOTA 1234', 'Intermediate', ${quote(STATEMENT)}, strftime('%s','now'));
    INSERT INTO ce_sessions (webinar_id, session_number, title, approval_number) VALUES (${w.id}, 1, 'Oral motor readiness', 'APP-0042');
    INSERT INTO registration_questions (webinar_id, position, key, label, kind) VALUES (${w.id}, 1, 'license_number', 'License number', 'text');`);
  return w;
}

export async function register(server, webinar, name, email, license) {
  const res = await api(server, 'POST', `/api/webinars/${webinar.id}/registrations`, { body: { name, email, consent: true } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  if (license) setLicense(server, webinar, res.body.id, license);
  return { ...res.body, name };
}

export function setLicense(server, webinar, registrationId, license) {
  sql(server, `INSERT OR REPLACE INTO registration_answers (registration_id, question_id, value)
    SELECT ${registrationId}, id, ${quote(license)} FROM registration_questions WHERE webinar_id = ${webinar.id} AND key = 'license_number';`);
}

let codes = 0;
// A certificate as issue() would write it for session 1, live, with a code of its own.
export function insertCertificate(server, webinar, registration, { name = registration.name, license = '' } = {}) {
  const n = String(++codes).padStart(4, '0');
  const code = `7K3M-9QX2-${n}`;
  const startsAt = sql(server, `SELECT starts_at FROM sessions WHERE webinar_id = ${webinar.id} AND number = 1`);
  sql(server, `INSERT INTO ce_certificates (code, webinar_id, registration_id, session_number, kind, name, license_number, course_title,
      session_title, session_starts_at, contact_hours, ceus, provider_name, provider_number, approval_number, instructional_level, statement,
      score_percent, issued_at)
    VALUES ('${code}', ${webinar.id}, ${registration.id}, 1, 'live', ${quote(name)}, ${quote(license)}, ${quote(webinar.title)},
      'Oral motor readiness', ${startsAt}, 1.5, 0.15, 'Little Steps Therapy', 'AOTA 1234', 'APP-0042', 'Intermediate', ${quote(STATEMENT)},
      90, strftime('%s','now'));`);
  return code;
}

// The .eml files of the outbox folder (no relay configured) that mention `needle`.
export async function mailsMentioning(server, needle, timeoutMs = 10000) {
  const dir = path.join(server.dataDir, 'outbox');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = (existsSync(dir) ? readdirSync(dir) : [])
      .map((f) => readFileSync(path.join(dir, f), 'utf8'))
      .filter((text) => text.replace(/=\r?\n/g, '').includes(needle));
    if (found.length) return found;
    if (Date.now() > deadline) throw new Error(`no mail in ${dir} mentions ${needle}`);
    await sleep(100);
  }
}
