// The expected answers of tests/authz/matrix.test.mjs: who gets what from every route, one row
// per route of `cohort routes access` (a new route without a row fails the test), one status per
// caller. The callers' tokens are all minted by the primary; on the edge they are the "edge-only"
// case (an edge verifies with the public key and the revocation list, and cannot mint).
//
// Path parameters (fillFor): {id} series A (CE offered, 2 seats, sessions past and to come);
// {registration_id} Ada's (regA); {drop_id} a real drop of A (not released, no file); {poll_id}
// a real poll of A; {code} Ada's real certificate code; {email_id} the first mail of A's outbox;
// {session}/{session_id} 1; {file} segment_00001.ts (/live, /replay: unsigned, so 401 before any
// lookup) and api.js (/assets); {recording}, {recording_id}, {message}, {question}, {attempt_id}
// ids that do not exist (999999). Organizer-only writes without a JSON body aim at things that do
// not exist (999999, code ZZZZ-ZZZZ-ZZZZ): DELETE series / registration / drop / recording / chat
// message, rotate stream key, poll open/close/show, drop file upload, certificate revoke/reissue,
// erase a registration — the organizer's 404 is the handler's, after admission.
export const CALLERS = {
  none: {},                                         // no credentials
  regA: { token: 'regA' },                          // registrant of series A, seated
  regB: { token: 'regB' },                          // registrant of series B calling A's things
  waitA: { token: 'waitA' },                        // waitlisted on A
  cancelA: { token: 'cancelA' },                    // cancelled their A registration
  bannedA: { token: 'bannedA' },                    // banned from A's chat
  deleted: { token: 'deleted' },                    // registrant of a series since deleted
  bogus: { token: 'bogus' }, forged: { token: 'bogus' },                        // a token-shaped string no key signed
  forged: { token: 'forged' },                      // Ada's claims signed by another Ed25519 key
  admin: { token: 'admin' },                        // the organizer's bearer (admin) token
  cookie: { cookie: true },                         // console cookie, no Origin
  cookieSite: { cookie: true, origin: 'site' },     // console cookie, the node's own Origin
  cookieEvil: { cookie: true, origin: 'foreign' },  // console cookie, another site's Origin
};
const GHOST = 999999;
export function fillFor(key, fx) {
  const f = {
    id: fx.a, registration_id: fx.regA, recording_id: GHOST, recording: GHOST, file: 'segment_00001.ts', message: GHOST,
    question: GHOST, poll_id: fx.poll, drop_id: fx.drop, session: 1, session_id: 1, attempt_id: GHOST, code: fx.code, email_id: fx.email,
  };
  if (key === 'GET /assets/{file}') f.file = 'api.js';
  if (['GET /live/{id}/index.m3u8', 'GET /api/drops/{drop_id}/file', 'GET /ws', 'GET /replay/{id}/{recording}/{file}'].includes(key)) f.query_token = true;
  // Organizer-only writes without a JSON body: on things that do not exist.
  if (['DELETE /api/webinars/{id}', 'POST /api/webinars/{id}/stream-key'].includes(key)) f.id = GHOST;
  if (['DELETE /api/webinars/{id}/registrations/{registration_id}', 'POST /api/webinars/{id}/registrations/{registration_id}/erase'].includes(key)) f.registration_id = GHOST;
  if (/polls\/\{poll_id\}\/(open|close|show)$/.test(key)) f.poll_id = GHOST;
  if (['DELETE /api/webinars/{id}/drops/{drop_id}', 'PUT /api/webinars/{id}/drops/{drop_id}/file'].includes(key)) f.drop_id = GHOST;
  if (/certificates\/\{code\}\/(revoke|reissue)$/.test(key)) f.code = 'ZZZZ-ZZZZ-ZZZZ';
  // The released drop with a file; If-None-Match: * makes an admitted download a 304, which
  // (unlike a 200) records no "opened".
  if (key === 'GET /api/drops/{drop_id}/file') Object.assign(f, { drop_id: fx.releasedDrop, headers: { 'if-none-match': '*' } });
  if (key === 'POST /api/drops/{drop_id}/opened') f.drop_id = fx.releasedDrop;
  // A cancelled or deleted registration's token sends a valid preference change: it must be refused.
  if (key === 'PUT /api/me/email') f.refusedBody = '{"drop_notices":true}';
  return f;
}
// Profiles: every caller the same; an organizer-only read (cookie fine without Origin: a GET
// changes nothing) and write (the console cookie needs the site's own Origin) answering `ok` to
// the organizer. 'skip': not called (a registrant write with no JSON body that this caller may
// make: it would change data; tests/registration, drops, ce and assessment cover it).
const CALLER_NAMES = Object.keys(CALLERS);
const all = (s) => Object.fromEntries(CALLER_NAMES.map((c) => [c, s]));
const orgRead = (ok) => ({ ...all(403), none: 401, bogus: 401, forged: 401, admin: ok, cookie: ok, cookieSite: ok, cookieEvil: ok });
const orgWrite = (ok) => ({ ...orgRead(ok), cookie: 403, cookieEvil: 403 });

// The primary. 400 for an admitted write = the router's bad_json on the sweep's truncated body;
// 404 for an admitted organizer write = the ghost id of fillFor; 426/400 on /ws = no Upgrade header.
// Registrant writes get `{}`: the handler runs and refuses it (422 erase without confirm, 409 no
// evaluation items, 404 no such attempt) — or refuses the token first (401 not active, 403 waitlisted).
// Reviewed: a ban is from the chat (the contract's banFromChat): bannedA is refused by /ws only and
// keeps /api/me, replays, drops, CE and the stream; a cancelled registration keeps /api/me, its
// export and its certificates, but not CE, drops, the stream or its email preference; a waitlisted
// one sees an empty drops list and no room, stream, replays, post-test or evaluation. /ws answers
// 426 to an admitted caller without an Upgrade header (400 for the organizer, who has no room).
export const PRIMARY = {
  'GET /healthz': all(200),
  'GET /readyz': all(200),
  'GET /metrics': all(200),
  'POST /api/session': all(400),
  'GET /api/session': orgRead(200),
  'DELETE /api/session': { none: 204, regA: 204, regB: 204, waitA: 204, cancelA: 204, bannedA: 204, deleted: 204, bogus: 204, forged: 204, admin: 204, cookie: 204, cookieSite: "skip", cookieEvil: 204 },
  'POST /api/webinars/{id}/stream-key': orgWrite(404),
  'GET /api/webinars/{id}/stream-key': orgRead(404),
  'GET /api/webinars/{id}/stream': all(200),
  'GET /live/{id}/index.m3u8': { none: 401, regA: 404, regB: 403, waitA: 403, cancelA: 401, bannedA: 404, deleted: 403, bogus: 401, forged: 401, admin: 404, cookie: 404, cookieSite: 404, cookieEvil: 404 },
  'GET /live/{id}/{file}': all(401),
  'GET /api/webinars/{id}/recordings': { none: 401, regA: 200, regB: 403, waitA: 403, cancelA: 401, bannedA: 200, deleted: 403, bogus: 401, forged: 401, admin: 200, cookie: 200, cookieSite: 200, cookieEvil: 200 },
  'DELETE /api/webinars/{id}/recordings/{recording_id}': orgWrite(404),
  'GET /replay/{id}/{recording}/{file}': all(401),
  'GET /': all(200),
  'GET /w/{id}': all(200),
  'GET /live/{id}': all(200),
  'GET /materials/{id}': all(200),
  'GET /ce/{id}': all(200),
  'GET /console': all(200),
  'GET /unsubscribe': all(200),
  'GET /certificate': all(200),
  'GET /ce/{id}/test': all(200),
  'GET /verify/{code}': all(200),
  'GET /assets/{file}': all(200),
  'GET /api/webinars': all(200),
  'POST /api/webinars': orgWrite(400),
  'GET /api/webinars/{id}': all(200),
  'PATCH /api/webinars/{id}': orgWrite(400),
  'DELETE /api/webinars/{id}': orgWrite(404),
  'POST /api/webinars/{id}/registrations': all(400),
  'GET /api/webinars/{id}/registrations': orgRead(200),
  'GET /api/webinars/{id}/registrations.csv': orgRead(200),
  'DELETE /api/webinars/{id}/registrations/{registration_id}': orgWrite(404),
  'GET /api/me': { none: 401, regA: 200, regB: 200, waitA: 200, cancelA: 200, bannedA: 200, deleted: 401, bogus: 401, forged: 401, admin: 403, cookie: 403, cookieSite: 403, cookieEvil: 403 },
  'POST /api/me/confirm': { none: 401, regA: "skip", regB: "skip", waitA: "skip", cancelA: 401, bannedA: "skip", deleted: 401, bogus: 401, forged: 401, admin: 403, cookie: 403, cookieSite: 403, cookieEvil: 403 },
  'DELETE /api/me': { none: 401, regA: "skip", regB: "skip", waitA: "skip", cancelA: 200, bannedA: "skip", deleted: 401, bogus: 401, forged: 401, admin: 403, cookie: 403, cookieSite: 403, cookieEvil: 403 },
  'GET /api/webinars/{id}/questions': orgRead(200),
  'PUT /api/webinars/{id}/questions': orgWrite(400),
  'GET /ws': { none: 401, regA: 426, regB: 426, waitA: 403, cancelA: 401, bannedA: 403, deleted: 401, bogus: 401, forged: 401, admin: 400, cookie: 400, cookieSite: 400, cookieEvil: 403 },
  'DELETE /api/webinars/{id}/chat/{message}': orgWrite(404),
  'POST /api/webinars/{id}/mutes': orgWrite(400),
  'POST /api/webinars/{id}/bans': orgWrite(400),
  'GET /api/webinars/{id}/chat.csv': orgRead(200),
  'POST /api/webinars/{id}/questions/{question}/status': orgWrite(400),
  'PUT /api/webinars/{id}/questions/pinned': orgWrite(400),
  'PUT /api/webinars/{id}/qa-settings': orgWrite(400),
  'GET /api/webinars/{id}/questions.csv': orgRead(200),
  'POST /api/webinars/{id}/polls': orgWrite(400),
  'GET /api/webinars/{id}/polls': orgRead(200),
  'GET /api/webinars/{id}/polls.csv': orgRead(200),
  'PATCH /api/webinars/{id}/polls/{poll_id}': orgWrite(400),
  'POST /api/webinars/{id}/polls/{poll_id}/open': orgWrite(404),
  'POST /api/webinars/{id}/polls/{poll_id}/close': orgWrite(404),
  'POST /api/webinars/{id}/polls/{poll_id}/show': orgWrite(404),
  'POST /api/webinars/{id}/drops': orgWrite(400),
  'GET /api/webinars/{id}/drops': { none: 401, regA: 200, regB: 403, waitA: 200, cancelA: 401, bannedA: 200, deleted: 403, bogus: 401, forged: 401, admin: 200, cookie: 200, cookieSite: 200, cookieEvil: 200 },
  'PATCH /api/webinars/{id}/drops/{drop_id}': orgWrite(400),
  'DELETE /api/webinars/{id}/drops/{drop_id}': orgWrite(404),
  'POST /api/webinars/{id}/drops/seen': { none: 401, regA: "skip", regB: 403, waitA: "skip", cancelA: 401, bannedA: "skip", deleted: 403, bogus: 401, forged: 401, admin: 403, cookie: 403, cookieSite: 403, cookieEvil: 403 },
  'PUT /api/webinars/{id}/drops/{drop_id}/file': orgWrite(400),
  'POST /api/drops/{drop_id}/opened': { none: 401, regA: "skip", regB: 403, waitA: "skip", cancelA: 401, bannedA: "skip", deleted: 403, bogus: 401, forged: 401, admin: 403, cookie: 403, cookieSite: 403, cookieEvil: 403 },
  'GET /api/drops/{drop_id}/file': { none: 401, regA: 304, regB: 403, waitA: 403, cancelA: 401, bannedA: 304, deleted: 403, bogus: 401, forged: 401, admin: 304, cookie: 304, cookieSite: 304, cookieEvil: 304 },
  'GET /api/webinars/{id}/attendance': orgRead(200),
  'GET /api/webinars/{id}/attendance.csv': orgRead(200),
  'GET /api/webinars/{id}/ce': orgRead(200),
  'PUT /api/webinars/{id}/ce': orgWrite(400),
  'GET /api/webinars/{id}/ce/summary': all(200),
  'GET /api/webinars/{id}/ce/report': orgRead(200),
  'GET /api/webinars/{id}/ce/report.csv': orgRead(200),
  'GET /api/me/ce': { none: 401, regA: 200, regB: 200, waitA: 200, cancelA: 401, bannedA: 200, deleted: 401, bogus: 401, forged: 401, admin: 403, cookie: 403, cookieSite: 403, cookieEvil: 403 },
  'POST /api/me/ce/{session}/attest': { none: 401, regA: "skip", regB: "skip", waitA: "skip", cancelA: 401, bannedA: "skip", deleted: 401, bogus: 401, forged: 401, admin: 403, cookie: 403, cookieSite: 403, cookieEvil: 403 },
  'GET /api/webinars/{id}/sessions/{session_id}/test': orgRead(200),
  'PUT /api/webinars/{id}/sessions/{session_id}/test': orgWrite(400),
  'GET /api/me/ce/{session_id}/test': { none: 401, regA: 200, regB: 200, waitA: 403, cancelA: 401, bannedA: 200, deleted: 401, bogus: 401, forged: 401, admin: 403, cookie: 403, cookieSite: 403, cookieEvil: 403 },
  'POST /api/me/ce/{session_id}/test/attempts': { none: 401, regA: "skip", regB: "skip", waitA: "skip", cancelA: 401, bannedA: "skip", deleted: 401, bogus: 401, forged: 401, admin: 403, cookie: 403, cookieSite: 403, cookieEvil: 403 },
  'POST /api/me/ce/{session_id}/test/attempts/{attempt_id}': { none: 401, regA: 404, regB: 404, waitA: 403, cancelA: 401, bannedA: 404, deleted: 401, bogus: 401, forged: 401, admin: 403, cookie: 403, cookieSite: 403, cookieEvil: 403 },
  'GET /api/webinars/{id}/evaluation': orgRead(200),
  'PUT /api/webinars/{id}/evaluation': orgWrite(400),
  'GET /api/webinars/{id}/evaluation/summary': orgRead(200),
  'GET /api/webinars/{id}/evaluation.csv': orgRead(200),
  'GET /api/me/ce/{session_id}/evaluation': { none: 401, regA: 200, regB: 200, waitA: 403, cancelA: 401, bannedA: 200, deleted: 401, bogus: 401, forged: 401, admin: 403, cookie: 403, cookieSite: 403, cookieEvil: 403 },
  'POST /api/me/ce/{session_id}/evaluation': { none: 401, regA: 409, regB: 403, waitA: 403, cancelA: 401, bannedA: 409, deleted: 401, bogus: 401, forged: 401, admin: 403, cookie: 403, cookieSite: 403, cookieEvil: 403 },
  'GET /api/me/certificates': { none: 401, regA: 200, regB: 200, waitA: 200, cancelA: 200, bannedA: 200, deleted: 401, bogus: 401, forged: 401, admin: 403, cookie: 403, cookieSite: 403, cookieEvil: 403 },
  'GET /api/me/certificates/{code}.pdf': { none: 401, regA: 200, regB: 404, waitA: 404, cancelA: 404, bannedA: 404, deleted: 401, bogus: 401, forged: 401, admin: 403, cookie: 403, cookieSite: 403, cookieEvil: 403 },
  'GET /api/certificates/{code}.pdf': orgRead(200),
  'POST /api/certificates/{code}/revoke': orgWrite(400),
  'POST /api/certificates/{code}/reissue': orgWrite(404),
  'GET /api/verify/{code}': all(200),
  'GET /api/webinars/{id}/certificates': orgRead(200),
  'GET /api/webinars/{id}/certificates.csv': orgRead(200),
  'GET /api/me/export': { none: 401, regA: 200, regB: 200, waitA: 200, cancelA: 200, bannedA: 200, deleted: 401, bogus: 401, forged: 401, admin: 403, cookie: 403, cookieSite: 403, cookieEvil: 403 },
  'POST /api/me/erase': { none: 401, regA: 422, regB: 422, waitA: 422, cancelA: 422, bannedA: 422, deleted: 422, bogus: 401, forged: 401, admin: 403, cookie: 403, cookieSite: 403, cookieEvil: 403 },
  'GET /api/webinars/{id}/registrations/{registration_id}/export': orgRead(200),
  'POST /api/webinars/{id}/registrations/{registration_id}/erase': orgWrite(404),
  'GET /api/webinars/{id}/privacy-notice': all(200),
  'PUT /api/webinars/{id}/privacy-notice': orgWrite(400),
  'POST /api/unsubscribe': all(403),
  'GET /api/me/email': { none: 401, regA: 200, regB: 200, waitA: 200, cancelA: 401, bannedA: 200, deleted: 401, bogus: 401, forged: 401, admin: 403, cookie: 403, cookieSite: 403, cookieEvil: 403 },
  'PUT /api/me/email': { none: 401, regA: 422, regB: 422, waitA: 422, cancelA: 401, bannedA: 422, deleted: 401, bogus: 401, forged: 401, admin: 403, cookie: 403, cookieSite: 403, cookieEvil: 403 },
  'GET /api/webinars/{id}/emails': orgRead(200),
  'GET /api/emails/{email_id}/message': orgRead(200),
};

// An edge: the primary's route table; /api/... is a 307 to the primary for everyone (before any
// check: the primary decides), /live and /replay are not served by an edge (404), the pages are,
// and /ws checks the token against the revocation list; the console cookie means nothing here.
export const EDGE = {
  'GET /healthz': all(200),
  'GET /readyz': all(200),
  'GET /metrics': all(200),
  'POST /api/session': all(307),
  'GET /api/session': all(307),
  'DELETE /api/session': all(307),
  'POST /api/webinars/{id}/stream-key': all(307),
  'GET /api/webinars/{id}/stream-key': all(307),
  'GET /api/webinars/{id}/stream': all(307),
  'GET /live/{id}/index.m3u8': all(404),
  'GET /live/{id}/{file}': all(404),
  'GET /api/webinars/{id}/recordings': all(307),
  'DELETE /api/webinars/{id}/recordings/{recording_id}': all(307),
  'GET /replay/{id}/{recording}/{file}': all(404),
  'GET /': all(200),
  'GET /w/{id}': all(200),
  'GET /live/{id}': all(200),
  'GET /materials/{id}': all(200),
  'GET /ce/{id}': all(200),
  'GET /console': all(200),
  'GET /unsubscribe': all(200),
  'GET /certificate': all(200),
  'GET /ce/{id}/test': all(200),
  'GET /verify/{code}': all(200),
  'GET /assets/{file}': all(200),
  'GET /api/webinars': all(307),
  'POST /api/webinars': all(307),
  'GET /api/webinars/{id}': all(307),
  'PATCH /api/webinars/{id}': all(307),
  'DELETE /api/webinars/{id}': all(307),
  'POST /api/webinars/{id}/registrations': all(307),
  'GET /api/webinars/{id}/registrations': all(307),
  'GET /api/webinars/{id}/registrations.csv': all(307),
  'DELETE /api/webinars/{id}/registrations/{registration_id}': all(307),
  'GET /api/me': all(307),
  'POST /api/me/confirm': all(307),
  'DELETE /api/me': all(307),
  'GET /api/webinars/{id}/questions': all(307),
  'PUT /api/webinars/{id}/questions': all(307),
  'GET /ws': { none: 401, regA: 426, regB: 426, waitA: 403, cancelA: 401, bannedA: 403, deleted: 401, bogus: 401, forged: 401, admin: 400, cookie: 401, cookieSite: 401, cookieEvil: 401 },
  'DELETE /api/webinars/{id}/chat/{message}': all(307),
  'POST /api/webinars/{id}/mutes': all(307),
  'POST /api/webinars/{id}/bans': all(307),
  'GET /api/webinars/{id}/chat.csv': all(307),
  'POST /api/webinars/{id}/questions/{question}/status': all(307),
  'PUT /api/webinars/{id}/questions/pinned': all(307),
  'PUT /api/webinars/{id}/qa-settings': all(307),
  'GET /api/webinars/{id}/questions.csv': all(307),
  'POST /api/webinars/{id}/polls': all(307),
  'GET /api/webinars/{id}/polls': all(307),
  'GET /api/webinars/{id}/polls.csv': all(307),
  'PATCH /api/webinars/{id}/polls/{poll_id}': all(307),
  'POST /api/webinars/{id}/polls/{poll_id}/open': all(307),
  'POST /api/webinars/{id}/polls/{poll_id}/close': all(307),
  'POST /api/webinars/{id}/polls/{poll_id}/show': all(307),
  'POST /api/webinars/{id}/drops': all(307),
  'GET /api/webinars/{id}/drops': all(307),
  'PATCH /api/webinars/{id}/drops/{drop_id}': all(307),
  'DELETE /api/webinars/{id}/drops/{drop_id}': all(307),
  'POST /api/webinars/{id}/drops/seen': all(307),
  'PUT /api/webinars/{id}/drops/{drop_id}/file': all(307),
  'POST /api/drops/{drop_id}/opened': all(307),
  'GET /api/drops/{drop_id}/file': all(307),
  'GET /api/webinars/{id}/attendance': all(307),
  'GET /api/webinars/{id}/attendance.csv': all(307),
  'GET /api/webinars/{id}/ce': all(307),
  'PUT /api/webinars/{id}/ce': all(307),
  'GET /api/webinars/{id}/ce/summary': all(307),
  'GET /api/webinars/{id}/ce/report': all(307),
  'GET /api/webinars/{id}/ce/report.csv': all(307),
  'GET /api/me/ce': all(307),
  'POST /api/me/ce/{session}/attest': all(307),
  'GET /api/webinars/{id}/sessions/{session_id}/test': all(307),
  'PUT /api/webinars/{id}/sessions/{session_id}/test': all(307),
  'GET /api/me/ce/{session_id}/test': all(307),
  'POST /api/me/ce/{session_id}/test/attempts': all(307),
  'POST /api/me/ce/{session_id}/test/attempts/{attempt_id}': all(307),
  'GET /api/webinars/{id}/evaluation': all(307),
  'PUT /api/webinars/{id}/evaluation': all(307),
  'GET /api/webinars/{id}/evaluation/summary': all(307),
  'GET /api/webinars/{id}/evaluation.csv': all(307),
  'GET /api/me/ce/{session_id}/evaluation': all(307),
  'POST /api/me/ce/{session_id}/evaluation': all(307),
  'GET /api/me/certificates': all(307),
  'GET /api/me/certificates/{code}.pdf': all(307),
  'GET /api/certificates/{code}.pdf': all(307),
  'POST /api/certificates/{code}/revoke': all(307),
  'POST /api/certificates/{code}/reissue': all(307),
  'GET /api/verify/{code}': all(307),
  'GET /api/webinars/{id}/certificates': all(307),
  'GET /api/webinars/{id}/certificates.csv': all(307),
  'GET /api/me/export': all(307),
  'POST /api/me/erase': all(307),
  'GET /api/webinars/{id}/registrations/{registration_id}/export': all(307),
  'POST /api/webinars/{id}/registrations/{registration_id}/erase': all(307),
  'GET /api/webinars/{id}/privacy-notice': all(307),
  'PUT /api/webinars/{id}/privacy-notice': all(307),
  'POST /api/unsubscribe': all(307),
  'GET /api/me/email': all(307),
  'PUT /api/me/email': all(307),
  'GET /api/webinars/{id}/emails': all(307),
  'GET /api/emails/{email_id}/message': all(307),
};
