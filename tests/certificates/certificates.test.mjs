// CE certificates against a real build/cohort: the public verification answer (valid, revoked,
// replaced, erased, unknown; only the facts it may show), the PDF for its owner and the organizer
// only (read back with pdftotext, rendered with pdftoppm into build/test-artifacts), revoke → 410,
// re-issue → a new code with the facts read again and the "ready" mail in the outbox, the
// organizer's list and CSV. How the first certificate is made: see support.mjs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServer, api, repoRoot } from '../support/server.mjs';
import { assertError } from '../support/http.mjs';
import { parseCsv } from '../support/csv.mjs';
import { ceSeries, register, insertCertificate, setLicense, sql, mailsMentioning } from './support.mjs';

let server, scratch;
const artifacts = path.join(repoRoot, 'build', 'test-artifacts');

before(async () => {
  server = await startServer();
  scratch = mkdtempSync(path.join(tmpdir(), 'cohort-cert-test-'));
  mkdirSync(artifacts, { recursive: true });
});
after(async () => {
  await server?.stop();
  server?.cleanup();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

async function getPdf(pathname, token) {
  const res = await fetch(server.url + pathname, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  const body = Buffer.from(await res.arrayBuffer());
  return { status: res.status, headers: res.headers, body };
}

function pdfToText(bytes) {
  const file = path.join(scratch, `c${Date.now()}.pdf`);
  writeFileSync(file, bytes);
  return execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
}

test('verification: a valid certificate shows the credit and nothing personal beyond the name', async () => {
  const w = await ceSeries(server);
  const zoe = await register(server, w, 'Zoë Łukasz-Ñúñez', 'zoe@example.org', 'OT-12345');
  const code = insertCertificate(server, w, zoe, { license: 'OT-12345' });
  // Case, spaces and dashes do not matter; O reads as 0.
  const typed = code.toLowerCase().replaceAll('-', '').replace('0', 'o');
  const res = await api(server, 'GET', `/api/verify/${typed}`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.headers.get('x-robots-tag'), 'noindex');
  assert.deepEqual(Object.keys(res.body).sort(),
    ['ceus', 'code', 'contact_hours', 'course_title', 'date', 'issued_at', 'kind', 'name', 'session_title', 'status']);
  assert.equal(res.body.code, code);
  assert.equal(res.body.status, 'valid');
  assert.equal(res.body.name, 'Zoë Łukasz-Ñúñez');
  assert.equal(res.body.course_title, 'Feeding in the NICU');
  assert.equal(res.body.session_title, 'Oral motor readiness');
  assert.equal(res.body.contact_hours, 1.5);
  assert.equal(res.body.ceus, 0.15);
  assert.equal(res.body.kind, 'live');
  assert.doesNotMatch(JSON.stringify(res.body), /OT-12345|zoe@example\.org/);
});

test('verification: unknown and malformed codes are 404', async () => {
  assertError(await api(server, 'GET', '/api/verify/ZZZZ-ZZZZ-ZZZZ'), 404, 'not_found');
  assertError(await api(server, 'GET', '/api/verify/not-a-code'), 404, 'not_found');
  assertError(await api(server, 'GET', '/api/verify/7K3M-9QX2-ABCU'), 404, 'not_found');
});

test('verification: once the records policy erased the personal fields, no name and a note', async () => {
  const w = await ceSeries(server, 'Erased series');
  const r = await register(server, w, 'Ana Ruiz', 'ana@example.org');
  const code = insertCertificate(server, w, r);
  sql(server, `UPDATE ce_certificates SET name = '', license_number = '', personal_erased_at = strftime('%s','now') WHERE code = '${code}'`);
  const res = await api(server, 'GET', `/api/verify/${code}`);
  assert.equal(res.status, 200);
  assert.equal(res.body.name, null);
  assert.match(res.body.note, /records policy/);
  assert.equal(res.body.contact_hours, 1.5);
});

test('the PDF: its owner and the organizer get it, nobody else', async () => {
  const w = await ceSeries(server, 'PDF series');
  const zoe = await register(server, w, 'Zoë Łukasz-Ñúñez', 'zoe.pdf@example.org', 'OT-12345');
  const other = await register(server, w, 'Ben Okafor', 'ben.pdf@example.org');
  const code = insertCertificate(server, w, zoe, { license: 'OT-12345' });

  const mine = await getPdf(`/api/me/certificates/${code}.pdf`, zoe.token);
  assert.equal(mine.status, 200);
  assert.equal(mine.headers.get('content-type'), 'application/pdf');
  assert.equal(mine.headers.get('content-disposition'), `attachment; filename="ce-certificate-${code}.pdf"`);
  assert.equal(mine.body.subarray(0, 5).toString(), '%PDF-');
  const text = pdfToText(mine.body);
  for (const fact of ['Certificate of Completion', 'Zoë Łukasz-Ñúñez', 'License number: OT-12345', 'PDF series', 'Oral motor readiness',
    '1.5 contact hours', '0.15 CEUs', 'Approval no. APP-0042', 'AOTA 1234', 'Intermediate', 'AOTA Approved Provider', code,
    `${server.url}/verify/${code}`]) assert.ok(text.includes(fact), `the PDF text has "${fact}":\n${text}`);

  // What it looks like: build/test-artifacts/certificate-pdf-1.png (look at it).
  const pdfFile = path.join(artifacts, 'certificate.pdf');
  writeFileSync(pdfFile, mine.body);
  execFileSync('pdftoppm', ['-png', '-r', '80', '-singlefile', pdfFile, path.join(artifacts, 'certificate-pdf')], { stdio: 'ignore' });

  const organizer = await getPdf(`/api/certificates/${code.toLowerCase()}.pdf`, server.adminToken);
  assert.equal(organizer.status, 200);
  assert.equal(organizer.body.subarray(0, 5).toString(), '%PDF-');

  assert.equal((await getPdf(`/api/me/certificates/${code}.pdf`, other.token)).status, 404, 'another registrant: as if unknown');
  assert.equal((await getPdf(`/api/me/certificates/${code}.pdf`)).status, 401);
  assert.equal((await getPdf(`/api/certificates/${code}.pdf`)).status, 401);
  assert.equal((await getPdf(`/api/certificates/${code}.pdf`, zoe.token)).status, 403, 'a registrant may not use the organizer route');
  assert.equal((await getPdf(`/api/me/certificates/${code}.pdf`, server.adminToken)).status, 403);
  assert.equal((await getPdf(`/api/me/certificates/${code}`, zoe.token)).status, 404);
  assert.equal((await getPdf('/api/me/certificates/ZZZZ-ZZZZ-ZZZZ.pdf', zoe.token)).status, 404);

  const list = await api(server, 'GET', '/api/me/certificates', { token: zoe.token });
  assert.equal(list.status, 200);
  assert.equal(list.body.certificates.length, 1);
  assert.equal(list.body.certificates[0].code, code);
  assert.equal(list.body.certificates[0].pdf_url, `/api/me/certificates/${code}.pdf`);
  assert.equal(list.body.certificates[0].verify_url, `${server.url}/verify/${code}`);
  assert.deepEqual((await api(server, 'GET', '/api/me/certificates', { token: other.token })).body, { certificates: [] });
});

test('revoke: the verification says so and the PDF is gone; twice is a conflict', async () => {
  const w = await ceSeries(server, 'Revoke series');
  const r = await register(server, w, 'Noor Haddad', 'noor@example.org');
  const code = insertCertificate(server, w, r);
  assertError(await api(server, 'POST', `/api/certificates/${code}/revoke`, { token: server.adminToken, body: {} }), 422, 'validation_failed', 'reason');
  assertError(await api(server, 'POST', `/api/certificates/${code}/revoke`, { token: r.token, body: { reason: 'x' } }), 403, 'forbidden');
  const revoked = await api(server, 'POST', `/api/certificates/${code}/revoke`, { token: server.adminToken, body: { reason: 'attendance corrected' } });
  assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
  assert.equal(revoked.body.status, 'revoked');
  assert.equal(revoked.body.revoked_reason, 'attendance corrected');
  const v = await api(server, 'GET', `/api/verify/${code}`);
  assert.equal(v.body.status, 'revoked');
  assert.ok(v.body.revoked_at);
  assert.equal(v.body.replaced_by, null);
  assert.equal(v.body.revoked_reason, undefined, 'the reason stays with the organizer');
  assertError(await api(server, 'GET', `/api/me/certificates/${code}.pdf`, { token: r.token }), 410, 'revoked');
  assertError(await api(server, 'GET', `/api/certificates/${code}.pdf`, { token: server.adminToken }), 410, 'revoked');
  assertError(await api(server, 'POST', `/api/certificates/${code}/revoke`, { token: server.adminToken, body: { reason: 'again' } }), 409, 'already_revoked');
  assertError(await api(server, 'POST', '/api/certificates/ZZZZ-ZZZZ-ZZZZ/revoke', { token: server.adminToken, body: { reason: 'x' } }), 404, 'not_found');
  assert.equal((await api(server, 'GET', '/api/me/certificates', { token: r.token })).body.certificates[0].pdf_url, null);
});

test('re-issue: a new code with the facts read again, the old one replaced, the mail queued', async () => {
  const w = await ceSeries(server, 'Reissue series');
  const r = await register(server, w, 'Zoe Lukasz', 'zoe.reissue@example.org', 'OT-1');
  const code = insertCertificate(server, w, r, { license: 'OT-1' });
  // The organizer corrects the name and the license, then re-issues.
  sql(server, `UPDATE registrations SET name = 'Zoë Łukasz-Ñúñez' WHERE id = ${r.id}`);
  setLicense(server, w, r.id, 'OT-12345');
  const res = await api(server, 'POST', `/api/certificates/${code}/reissue`, { token: server.adminToken, raw: '' });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  const fresh = res.body;
  assert.notEqual(fresh.code, code);
  assert.match(fresh.code, /^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/);
  assert.equal(fresh.status, 'valid');
  assert.equal(fresh.name, 'Zoë Łukasz-Ñúñez');
  assert.equal(fresh.license_number, 'OT-12345');
  assert.equal(fresh.contact_hours, 1.5, 'no contact hours set: the 90-minute session');
  assert.equal(fresh.ceus, 0.15);
  assert.equal(fresh.score_percent, 90);
  assert.equal(fresh.approval_number, 'APP-0042');

  const old = await api(server, 'GET', `/api/verify/${code}`);
  assert.equal(old.body.status, 'revoked');
  assert.equal(old.body.replaced_by, fresh.code);
  assert.equal(old.body.name, 'Zoe Lukasz', 'the old record keeps what it printed');
  assert.equal((await api(server, 'GET', `/api/verify/${fresh.code}`)).body.status, 'valid');
  assertError(await api(server, 'POST', `/api/certificates/${code}/reissue`, { token: server.adminToken, raw: '' }), 409, 'already_revoked');

  const [mail] = await mailsMentioning(server, `/verify/${fresh.code}`);
  assert.match(mail, /Subject: Your CE certificate is ready: Reissue series/);
  assert.match(mail, /To: .*zoe\.reissue@example\.org/);
  assert.ok(mail.replace(/=\r?\n/g, '').includes(`${server.url}/ce/${w.id}#token=3D`), 'the link to My CE carries the token');
  const outbox = await api(server, 'GET', `/api/webinars/${w.id}/emails`, { token: server.adminToken });
  assert.equal(outbox.body.emails.filter((e) => e.kind === 'certificate').length, 1);
});

test('the organizer lists a series\' certificates as JSON and CSV', async () => {
  const w = await ceSeries(server, 'List series');
  const a = await register(server, w, 'Ana Ruiz', 'ana.list@example.org', 'PT-7');
  const b = await register(server, w, 'Ben Okafor', 'ben.list@example.org');
  const first = insertCertificate(server, w, a, { license: 'PT-7' });
  insertCertificate(server, w, b);
  await api(server, 'POST', `/api/certificates/${first}/revoke`, { token: server.adminToken, body: { reason: 'duplicate' } });

  const list = await api(server, 'GET', `/api/webinars/${w.id}/certificates?session=1`, { token: server.adminToken });
  assert.equal(list.status, 200);
  assert.equal(list.body.certificates.length, 2);
  assert.deepEqual(list.body.certificates.map((c) => c.status), ['revoked', 'valid']);
  assert.equal(list.body.certificates[0].license_number, 'PT-7');
  assert.equal((await api(server, 'GET', `/api/webinars/${w.id}/certificates?session=2`, { token: server.adminToken })).body.certificates.length, 0);
  assertError(await api(server, 'GET', `/api/webinars/${w.id}/certificates?session=x`, { token: server.adminToken }), 400, 'bad_request', 'session');
  assertError(await api(server, 'GET', `/api/webinars/${w.id}/certificates`, { token: a.token }), 403, 'forbidden');

  const csv = await fetch(`${server.url}/api/webinars/${w.id}/certificates.csv`, { headers: { authorization: `Bearer ${server.adminToken}` } });
  assert.equal(csv.status, 200);
  assert.match(csv.headers.get('content-type'), /^text\/csv/);
  assert.match(csv.headers.get('content-disposition'), /certificates\.csv/);
  const rows = parseCsv(await csv.text());
  assert.deepEqual(rows[0].slice(0, 10), ['code', 'session', 'kind', 'name', 'license_number', 'course_title', 'session_title', 'session_date', 'contact_hours', 'ceus']);
  const ana = rows.find((row) => row[0] === first);
  assert.deepEqual([ana[3], ana[4], ana[8], ana[9], ana[16], ana[18]], ['Ana Ruiz', 'PT-7', '1.5', '0.15', 'revoked', 'duplicate']);
  assert.equal(rows.length, 3);
});
