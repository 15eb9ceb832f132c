#include "store/migrations.hpp"

#include <array>
#include <string>

namespace cohort::store {
namespace {

// Append only: a released step is never edited, a change is a new step.
constexpr std::array<const char*, 16> steps{
    // 1: webinar series, their sessions and the registrations (signups).
    R"sql(
CREATE TABLE webinars (
  id          INTEGER PRIMARY KEY,
  title       TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  capacity    INTEGER CHECK (capacity IS NULL OR capacity > 0),
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
);
CREATE TABLE sessions (
  id               INTEGER PRIMARY KEY,
  webinar_id       INTEGER NOT NULL REFERENCES webinars(id) ON DELETE CASCADE,
  number           INTEGER NOT NULL,
  starts_at        INTEGER NOT NULL,
  duration_minutes INTEGER NOT NULL,
  UNIQUE (webinar_id, number)
);
CREATE TABLE registrations (
  id          INTEGER PRIMARY KEY,
  webinar_id  INTEGER NOT NULL REFERENCES webinars(id) ON DELETE CASCADE,
  name        TEXT NOT NULL,
  email       TEXT NOT NULL,
  email_key   TEXT NOT NULL,
  profession  TEXT NOT NULL DEFAULT '',
  status      TEXT NOT NULL CHECK (status IN ('registered', 'waitlisted', 'cancelled')),
  token_hash  BLOB NOT NULL,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
);
-- One active signup per email and webinar; a cancelled one may register again.
CREATE UNIQUE INDEX registrations_active_email ON registrations (webinar_id, email_key) WHERE status <> 'cancelled';
CREATE INDEX registrations_by_status ON registrations (webinar_id, status, id);
)sql",
    // 2: the live chat's transcript (the organizer's export) and bans that outlive a restart.
    R"sql(
CREATE TABLE chat_messages (
  rowid       INTEGER PRIMARY KEY,
  webinar_id  INTEGER NOT NULL REFERENCES webinars(id) ON DELETE CASCADE,
  message_id  TEXT NOT NULL,
  seq         INTEGER NOT NULL,
  sent_at     INTEGER NOT NULL,
  from_id     INTEGER NOT NULL,
  from_name   TEXT NOT NULL,
  role        TEXT NOT NULL,
  text        TEXT NOT NULL,
  deleted     INTEGER NOT NULL DEFAULT 0,
  UNIQUE (webinar_id, message_id)
);
CREATE TABLE chat_bans (
  webinar_id      INTEGER NOT NULL REFERENCES webinars(id) ON DELETE CASCADE,
  registration_id INTEGER NOT NULL,
  created_at      INTEGER NOT NULL,
  PRIMARY KEY (webinar_id, registration_id)
);
)sql",
    // 3: mutes that outlive a restart, bonus drops with their schedule, audience and readers,
    // and live-room attendance by minute (what "attended a session" is computed from).
    R"sql(
CREATE TABLE chat_mutes (
  webinar_id      INTEGER NOT NULL REFERENCES webinars(id) ON DELETE CASCADE,
  registration_id INTEGER NOT NULL,
  until           INTEGER NOT NULL,
  PRIMARY KEY (webinar_id, registration_id)
);
CREATE TABLE drops (
  id                     INTEGER PRIMARY KEY,
  webinar_id             INTEGER NOT NULL REFERENCES webinars(id) ON DELETE CASCADE,
  title                  TEXT NOT NULL,
  body                   TEXT NOT NULL DEFAULT '',
  url                    TEXT,
  release_at             INTEGER,            -- absolute release time, or NULL when relative:
  release_session        INTEGER,            -- session number of the series ...
  release_offset_minutes INTEGER,            -- ... and minutes from its start (negative: before);
                                             -- neither: a draft, never due
  audience               TEXT NOT NULL DEFAULT 'all' CHECK (audience IN ('all', 'attended', 'missed')),
  audience_session       INTEGER,            -- attended/missed: the session; NULL: the release's session
  file_sha256            TEXT,
  file_name              TEXT,
  file_type              TEXT,
  file_size              INTEGER,
  released_at            INTEGER,            -- set once, by the release; never cleared
  audience_ids           TEXT,               -- attended/missed: JSON array of registration ids, fixed at release
  created_at             INTEGER NOT NULL,
  updated_at             INTEGER NOT NULL,
  CHECK (release_at IS NULL OR release_session IS NULL)
);
CREATE INDEX drops_unreleased ON drops (released_at, webinar_id);
CREATE TABLE drop_opens (
  drop_id         INTEGER NOT NULL REFERENCES drops(id) ON DELETE CASCADE,
  registration_id INTEGER NOT NULL,
  opened_at       INTEGER NOT NULL,
  PRIMARY KEY (drop_id, registration_id)
) WITHOUT ROWID;
CREATE TABLE drop_seen (
  webinar_id      INTEGER NOT NULL REFERENCES webinars(id) ON DELETE CASCADE,
  registration_id INTEGER NOT NULL,
  seen_until      INTEGER NOT NULL,
  PRIMARY KEY (webinar_id, registration_id)
) WITHOUT ROWID;
CREATE TABLE attendance (
  webinar_id      INTEGER NOT NULL REFERENCES webinars(id) ON DELETE CASCADE,
  registration_id INTEGER NOT NULL,
  minute          INTEGER NOT NULL,          -- unix time / 60
  PRIMARY KEY (webinar_id, registration_id, minute)
) WITHOUT ROWID;
)sql",
    // 4: live streaming: each series' secret stream key (what OBS sends), and the recordings
    // that become replays.
    R"sql(
ALTER TABLE webinars ADD COLUMN stream_key TEXT;
CREATE UNIQUE INDEX webinars_stream_key ON webinars (stream_key) WHERE stream_key IS NOT NULL;
CREATE TABLE recordings (
  id              INTEGER PRIMARY KEY,
  webinar_id      INTEGER NOT NULL REFERENCES webinars(id) ON DELETE CASCADE,
  session_number  INTEGER,                   -- the session of the series; NULL: ad hoc (outside every window)
  started_at      INTEGER NOT NULL,
  ended_at        INTEGER,                   -- NULL while live
  duration_ms     INTEGER NOT NULL DEFAULT 0,
  segments        INTEGER NOT NULL DEFAULT 0,
  dir             TEXT NOT NULL,             -- under the data dir: recordings/<webinar>/<dir>
  UNIQUE (webinar_id, dir)
);
CREATE INDEX recordings_by_webinar ON recordings (webinar_id, session_number);
)sql",
    // 5: organizer accounts for the console (argon2id password hashes) and their login
    // sessions, kept server-side by the SHA-256 of the cookie so a logout or a removed
    // account ends them at once.
    R"sql(
CREATE TABLE organizers (
  id            INTEGER PRIMARY KEY,
  email         TEXT NOT NULL,
  email_key     TEXT NOT NULL UNIQUE,        -- lower-cased, for lookups
  password_hash TEXT NOT NULL,               -- libsodium crypto_pwhash_str (argon2id)
  created_at    INTEGER NOT NULL
);
CREATE TABLE organizer_sessions (
  id_hash      TEXT PRIMARY KEY,             -- hex SHA-256 of the cookie value
  organizer_id INTEGER NOT NULL REFERENCES organizers(id) ON DELETE CASCADE,
  created_at   INTEGER NOT NULL,
  expires_at   INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX organizer_sessions_expiry ON organizer_sessions (expires_at);
)sql",
    // 6: email. The outbox holds every message to send, rendered when it is queued (in the
    // transaction of the event that causes it) so every retry sends the same bytes and
    // Message-ID; dedupe_key makes each message once-only, also across restarts. email_prefs
    // holds a registrant's one-click unsubscribe and drop-notice opt-out.
    R"sql(
CREATE TABLE outbox (
  id              INTEGER PRIMARY KEY,
  message_id      TEXT NOT NULL UNIQUE,        -- "<unique@host>", the same on every retry
  dedupe_key      TEXT NOT NULL UNIQUE,        -- e.g. confirm:<registration>, reminder:<registration>:<session>:24h
  kind            TEXT NOT NULL,               -- the template: confirmation, reminder, drop, ...
  webinar_id      INTEGER,                     -- no foreign keys: mail about a deleted series still goes out
  registration_id INTEGER,
  to_addr         TEXT NOT NULL,
  subject         TEXT NOT NULL,
  mime            TEXT NOT NULL,               -- the complete RFC 5322 message
  state           TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'sent', 'failed')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  last_error      TEXT,
  created_at      INTEGER NOT NULL,
  sent_at         INTEGER
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE state = 'queued';
CREATE INDEX outbox_by_webinar ON outbox (webinar_id, id);
CREATE TABLE email_prefs (
  registration_id INTEGER PRIMARY KEY REFERENCES registrations(id) ON DELETE CASCADE,
  unsubscribed_at INTEGER,                     -- set once by the one-click link; never cleared by it
  drop_notices    INTEGER NOT NULL DEFAULT 1,
  updated_at      INTEGER NOT NULL
);
)sql",
    // 7: what later emails need: each registrant's join link (their token, sealed under a key
    // derived from the token secret, so a copy of the database alone opens no room) and the
    // series' calendar SEQUENCE, raised whenever its sessions change. Outbox rows are now
    // composed by the sender on each attempt (off the writer's hot path): `args` holds what the
    // event knew; `mime` stays empty.
    R"sql(
CREATE TABLE registration_links (
  registration_id INTEGER PRIMARY KEY REFERENCES registrations(id) ON DELETE CASCADE,
  sealed          BLOB NOT NULL              -- nonce || XSalsa20-Poly1305(token)
);
ALTER TABLE webinars ADD COLUMN ics_sequence INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN args TEXT NOT NULL DEFAULT '{}';
)sql",
    // 8: the registrant's time zone (IANA name from the signup page; '' = not known), so mail
    // gives session times in it instead of UTC.
    R"sql(
ALTER TABLE registrations ADD COLUMN time_zone TEXT NOT NULL DEFAULT '';
)sql",
    // 9: a deleted series leaves a tombstone, so its id and its registrations' ids are never
    // given out again (SQLite reuses the largest rowid once that row is gone): an old signed
    // token must not fit a new series, nor Redis keep a deleted series' chat for a new one. Edges
    // refuse the tokens of a deleted series (d:<id> on the revocation list).
    R"sql(
CREATE TABLE deleted_webinars (
  id                 INTEGER PRIMARY KEY,   -- the deleted series' id
  registrations_max  INTEGER NOT NULL,      -- the largest registration id at the time
  deleted_at         INTEGER NOT NULL
);
)sql",
    // 10: when a waitlisted registration was promoted to a seat. The revocation list the primary
    // re-publishes after a Redis reconnect must carry the promotion (s:) along with the waitlist
    // entry (w:) Redis may still hold, or edges would go on refusing the promoted.
    R"sql(
ALTER TABLE registrations ADD COLUMN promoted_at INTEGER;
)sql",
    // 11: confirmation by email (registration.confirm_email). An unconfirmed signup holds its
    // place (a seat or its turn on the waitlist) until confirm_by, then lapses (cancelled, and
    // the waitlist moves up); NULL = confirmed. confirm_mailed_at: when the last request to
    // confirm went to this row's address — at most one an hour per address, across series.
    R"sql(
ALTER TABLE registrations ADD COLUMN confirm_by INTEGER;
ALTER TABLE registrations ADD COLUMN confirm_mailed_at INTEGER;
CREATE INDEX registrations_unconfirmed ON registrations (confirm_by) WHERE confirm_by IS NOT NULL;
CREATE INDEX registrations_by_email_key ON registrations (email_key);
)sql",
    // 12: each series' seats taken and waitlist length, kept by triggers in the transaction of
    // every change to a registration (insert, status change, delete, a series' cascade), so a
    // signup into a series with a capacity and GET /api/webinars read two columns instead of
    // counting rows. Unconfirmed holds count: they hold their status. Filled for existing data.
    R"sql(
ALTER TABLE webinars ADD COLUMN registered_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE webinars ADD COLUMN waitlisted_count INTEGER NOT NULL DEFAULT 0;
UPDATE webinars SET
  registered_count = (SELECT count(*) FROM registrations r WHERE r.webinar_id = webinars.id AND r.status = 'registered'),
  waitlisted_count = (SELECT count(*) FROM registrations r WHERE r.webinar_id = webinars.id AND r.status = 'waitlisted');
CREATE TRIGGER registrations_count_insert AFTER INSERT ON registrations BEGIN
  UPDATE webinars SET registered_count = registered_count + (NEW.status = 'registered'),
                      waitlisted_count = waitlisted_count + (NEW.status = 'waitlisted')
   WHERE id = NEW.webinar_id;
END;
CREATE TRIGGER registrations_count_delete AFTER DELETE ON registrations BEGIN
  UPDATE webinars SET registered_count = registered_count - (OLD.status = 'registered'),
                      waitlisted_count = waitlisted_count - (OLD.status = 'waitlisted')
   WHERE id = OLD.webinar_id;
END;
CREATE TRIGGER registrations_count_update AFTER UPDATE OF status, webinar_id ON registrations
  WHEN OLD.status IS NOT NEW.status OR OLD.webinar_id IS NOT NEW.webinar_id BEGIN
  UPDATE webinars SET registered_count = registered_count - (OLD.status = 'registered'),
                      waitlisted_count = waitlisted_count - (OLD.status = 'waitlisted')
   WHERE id = OLD.webinar_id;
  UPDATE webinars SET registered_count = registered_count + (NEW.status = 'registered'),
                      waitlisted_count = waitlisted_count + (NEW.status = 'waitlisted')
   WHERE id = NEW.webinar_id;
END;
)sql",
    // 13: the live room's Q&A. A question's text and asker never change; its status only moves
    // forward (open, answered, dismissed/deleted) and may be written before the question arrives
    // (another node's state frame), so it has its own table. A vote is (question, voter) with
    // the latest change winning (`at`, ms); up = 0 is a withdrawn vote. Per series: whether
    // asking anonymously is allowed and which question is pinned, each with its own `at`.
    // IF NOT EXISTS: a database set back to an older user_version (the migration 12 test).
    R"sql(
CREATE TABLE IF NOT EXISTS qa_questions (
  webinar_id  INTEGER NOT NULL REFERENCES webinars(id) ON DELETE CASCADE,
  question_id TEXT NOT NULL,
  asker_id    INTEGER NOT NULL,
  asker_name  TEXT NOT NULL,
  anonymous   INTEGER NOT NULL DEFAULT 0,
  text        TEXT NOT NULL,
  asked_at    INTEGER NOT NULL,
  PRIMARY KEY (webinar_id, question_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS qa_status (
  webinar_id  INTEGER NOT NULL REFERENCES webinars(id) ON DELETE CASCADE,
  question_id TEXT NOT NULL,
  status      TEXT NOT NULL,
  rank        INTEGER NOT NULL,
  PRIMARY KEY (webinar_id, question_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS qa_votes (
  webinar_id      INTEGER NOT NULL REFERENCES webinars(id) ON DELETE CASCADE,
  question_id     TEXT NOT NULL,
  registration_id INTEGER NOT NULL,
  up              INTEGER NOT NULL,
  at              INTEGER NOT NULL,
  PRIMARY KEY (webinar_id, question_id, registration_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS qa_settings (
  webinar_id   INTEGER PRIMARY KEY REFERENCES webinars(id) ON DELETE CASCADE,
  anonymous    INTEGER NOT NULL DEFAULT 0,
  anonymous_at INTEGER NOT NULL DEFAULT 0,
  pinned       TEXT,
  pinned_at    INTEGER NOT NULL DEFAULT 0
);
)sql",
    // 14: live polls. A poll belongs to one session of a series and goes draft -> open ->
    // closed (results shown to attendees at any point after opening); `rev` grows with every
    // change and orders the room's x.poll state frames. An answer is keyed by (poll,
    // registrant): a repeated vote replaces it, the newest `answered_ms` wins. IF NOT EXISTS: a
    // database set back to an older user_version (the migration 12 test) still has these tables.
    R"sql(
CREATE TABLE IF NOT EXISTS polls (
  id          INTEGER PRIMARY KEY,
  webinar_id  INTEGER NOT NULL REFERENCES webinars(id) ON DELETE CASCADE,
  session     INTEGER NOT NULL,
  question    TEXT NOT NULL,
  kind        TEXT NOT NULL CHECK (kind IN ('single', 'multiple')),
  options     TEXT NOT NULL,                 -- JSON array of 2..8 strings
  state       TEXT NOT NULL DEFAULT 'draft' CHECK (state IN ('draft', 'open', 'closed')),
  shown       INTEGER NOT NULL DEFAULT 0,
  rev         INTEGER NOT NULL DEFAULT 0,
  created_at  INTEGER NOT NULL,
  opened_ms   INTEGER,
  closed_ms   INTEGER
);
CREATE INDEX IF NOT EXISTS polls_by_webinar ON polls (webinar_id, session);
CREATE TABLE IF NOT EXISTS poll_answers (
  poll_id          INTEGER NOT NULL REFERENCES polls(id) ON DELETE CASCADE,
  registration_id  INTEGER NOT NULL,
  choices          TEXT NOT NULL,            -- JSON array of option indexes
  answered_ms      INTEGER NOT NULL,
  PRIMARY KEY (poll_id, registration_id)
) WITHOUT ROWID;
)sql",
    // 15: continuing-education (CE) credit, registration questions and privacy.
    // - ce_series: a series' CE settings and completion rule (no row: CE not offered);
    //   ce_sessions: per-session title, approval number and contact hours (NULL: its length).
    // - ce_questions: the post-test bank per session (answers stay on the server); ce_attempts:
    //   every attempt, with the order it was shown in, graded on submission.
    // - ce_evaluation_items (session NULL: the whole series) and ce_evaluations (one per
    //   registrant and session); ce_attestations: "I attended ..." ticked.
    // - replay_views: the replay segments a registrant fetched (recorded credit is measured on
    //   the server from these, never from a client's claim).
    // - ce_certificates: what was printed, copied at issue time (a record, not a view), and no
    //   foreign keys: a provider keeps CE records for ce.records_years, past the series and past
    //   an erasure of the registration.
    // - registration_questions / registration_answers: the organizer's signup fields.
    // - privacy: the notice on the signup form, and when a registration's personal data was
    //   erased (the row stays for counts); erasures is the log of who erased what, and when.
    // IF NOT EXISTS: a database set back to an older user_version (the migration 12 test).
    R"sql(
CREATE TABLE IF NOT EXISTS ce_series (
  webinar_id          INTEGER PRIMARY KEY REFERENCES webinars(id) ON DELETE CASCADE,
  offered             INTEGER NOT NULL DEFAULT 0,
  ceu_per_hour        REAL NOT NULL DEFAULT 0.1,      -- AOTA: 1 CEU = 10 contact hours
  provider_name       TEXT NOT NULL DEFAULT '',
  provider_number     TEXT NOT NULL DEFAULT '',
  instructional_level TEXT NOT NULL DEFAULT '',
  objectives          TEXT NOT NULL DEFAULT '[]',     -- JSON array of strings
  statement           TEXT NOT NULL DEFAULT '',
  live_credit         INTEGER NOT NULL DEFAULT 1,
  recorded_credit     INTEGER NOT NULL DEFAULT 0,
  min_percent         INTEGER NOT NULL DEFAULT 85,    -- of the session (live) or of the replay (recorded)
  test_required       INTEGER NOT NULL DEFAULT 1,
  pass_percent        INTEGER NOT NULL DEFAULT 80,
  attempts_max        INTEGER NOT NULL DEFAULT 3,
  shuffle             INTEGER NOT NULL DEFAULT 1,
  evaluation_required INTEGER NOT NULL DEFAULT 0,
  attestation         TEXT NOT NULL DEFAULT '',       -- '' : no attestation asked
  updated_at          INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS ce_sessions (
  webinar_id      INTEGER NOT NULL REFERENCES webinars(id) ON DELETE CASCADE,
  session_number  INTEGER NOT NULL,
  title           TEXT NOT NULL DEFAULT '',
  approval_number TEXT NOT NULL DEFAULT '',
  contact_hours   REAL,
  PRIMARY KEY (webinar_id, session_number)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ce_questions (
  id             INTEGER PRIMARY KEY,
  webinar_id     INTEGER NOT NULL REFERENCES webinars(id) ON DELETE CASCADE,
  session_number INTEGER NOT NULL,
  position       INTEGER NOT NULL,
  kind           TEXT NOT NULL CHECK (kind IN ('single', 'multiple')),
  prompt         TEXT NOT NULL,
  options        TEXT NOT NULL,                  -- JSON array of strings
  correct        TEXT NOT NULL                   -- JSON array of option indexes
);
CREATE INDEX IF NOT EXISTS ce_questions_by_session ON ce_questions (webinar_id, session_number, position);
CREATE TABLE IF NOT EXISTS ce_attempts (
  id              INTEGER PRIMARY KEY,
  webinar_id      INTEGER NOT NULL REFERENCES webinars(id) ON DELETE CASCADE,
  registration_id INTEGER NOT NULL,
  session_number  INTEGER NOT NULL,
  started_at      INTEGER NOT NULL,
  shown           TEXT NOT NULL,                 -- JSON: the questions and option order as shown
  submitted_at    INTEGER,                       -- NULL: open
  answers         TEXT,                          -- JSON, as submitted
  score_percent   INTEGER,
  passed          INTEGER
);
CREATE INDEX IF NOT EXISTS ce_attempts_by_registrant ON ce_attempts (registration_id, session_number, id);
CREATE TABLE IF NOT EXISTS ce_evaluation_items (
  id             INTEGER PRIMARY KEY,
  webinar_id     INTEGER NOT NULL REFERENCES webinars(id) ON DELETE CASCADE,
  session_number INTEGER,                        -- NULL: asked after every session of the series
  position       INTEGER NOT NULL,
  kind           TEXT NOT NULL CHECK (kind IN ('scale', 'text')),
  prompt         TEXT NOT NULL,
  required       INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX IF NOT EXISTS ce_evaluation_items_by_webinar ON ce_evaluation_items (webinar_id, session_number, position);
CREATE TABLE IF NOT EXISTS ce_evaluations (
  webinar_id      INTEGER NOT NULL REFERENCES webinars(id) ON DELETE CASCADE,
  registration_id INTEGER NOT NULL,
  session_number  INTEGER NOT NULL,
  answers         TEXT NOT NULL,                 -- JSON object: item id -> 1..5 or text
  submitted_at    INTEGER NOT NULL,
  PRIMARY KEY (webinar_id, registration_id, session_number)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ce_attestations (
  webinar_id      INTEGER NOT NULL REFERENCES webinars(id) ON DELETE CASCADE,
  registration_id INTEGER NOT NULL,
  session_number  INTEGER NOT NULL,
  attested_at     INTEGER NOT NULL,
  PRIMARY KEY (webinar_id, registration_id, session_number)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS replay_views (
  recording_id    INTEGER NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,
  registration_id INTEGER NOT NULL,
  segment         INTEGER NOT NULL,              -- the segment's index in the recording's playlist
  webinar_id      INTEGER NOT NULL,
  first_at        INTEGER NOT NULL,
  PRIMARY KEY (recording_id, registration_id, segment)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS replay_views_by_registrant ON replay_views (registration_id);
CREATE TABLE IF NOT EXISTS ce_certificates (
  id                  INTEGER PRIMARY KEY,
  code                TEXT NOT NULL UNIQUE,      -- the verification code (/verify/{code})
  webinar_id          INTEGER NOT NULL,
  registration_id     INTEGER NOT NULL,
  session_number      INTEGER NOT NULL,
  kind                TEXT NOT NULL CHECK (kind IN ('live', 'recorded')),
  name                TEXT NOT NULL,
  license_number      TEXT NOT NULL DEFAULT '',
  course_title        TEXT NOT NULL,
  session_title       TEXT NOT NULL DEFAULT '',
  session_starts_at   INTEGER NOT NULL,
  contact_hours       REAL NOT NULL,
  ceus                REAL NOT NULL,
  provider_name       TEXT NOT NULL DEFAULT '',
  provider_number     TEXT NOT NULL DEFAULT '',
  approval_number     TEXT NOT NULL DEFAULT '',
  instructional_level TEXT NOT NULL DEFAULT '',
  statement           TEXT NOT NULL DEFAULT '',
  score_percent       INTEGER,
  issued_at           INTEGER NOT NULL,
  revoked_at          INTEGER,
  revoked_reason      TEXT,
  replaced_by         TEXT,                      -- the code of the re-issued certificate
  personal_erased_at  INTEGER                    -- records_years passed: only what the policy keeps
);
CREATE INDEX IF NOT EXISTS ce_certificates_by_registrant ON ce_certificates (registration_id, session_number);
CREATE INDEX IF NOT EXISTS ce_certificates_by_webinar ON ce_certificates (webinar_id, session_number);
CREATE TABLE IF NOT EXISTS registration_questions (
  id          INTEGER PRIMARY KEY,
  webinar_id  INTEGER NOT NULL REFERENCES webinars(id) ON DELETE CASCADE,
  position    INTEGER NOT NULL,
  key         TEXT NOT NULL,                     -- stable name: license_number, state, discipline, q<id>
  label       TEXT NOT NULL,
  kind        TEXT NOT NULL CHECK (kind IN ('text', 'choice', 'checkbox')),
  options     TEXT NOT NULL DEFAULT '[]',        -- JSON array of strings (choice)
  required    INTEGER NOT NULL DEFAULT 0,
  UNIQUE (webinar_id, key)
);
CREATE TABLE IF NOT EXISTS registration_answers (
  registration_id INTEGER NOT NULL REFERENCES registrations(id) ON DELETE CASCADE,
  question_id     INTEGER NOT NULL REFERENCES registration_questions(id) ON DELETE CASCADE,
  value           TEXT NOT NULL,
  PRIMARY KEY (registration_id, question_id)
) WITHOUT ROWID;
ALTER TABLE webinars ADD COLUMN privacy_notice TEXT NOT NULL DEFAULT '';
ALTER TABLE registrations ADD COLUMN erased_at INTEGER;
CREATE TABLE IF NOT EXISTS erasures (
  id              INTEGER PRIMARY KEY,
  webinar_id      INTEGER NOT NULL,
  registration_id INTEGER,                       -- NULL: the whole series (retention sweep)
  reason          TEXT NOT NULL CHECK (reason IN ('registrant', 'organizer', 'retention', 'records_policy')),
  erased_at       INTEGER NOT NULL,
  rows            INTEGER NOT NULL DEFAULT 0
);
)sql",
    // 16: the session's date as the certificate prints it, in the registrant's time zone at issue
    // ("YYYY-MM-DD"; '' = the UTC date of session_starts_at): an evening session in the Americas
    // starts on the next day in UTC, and a certificate must not say so.
    R"sql(
ALTER TABLE ce_certificates ADD COLUMN session_date TEXT NOT NULL DEFAULT '';
)sql",
};

int user_version(database& db) {
  auto st = db.prepare("PRAGMA user_version");
  st.step();
  return static_cast<int>(st.int64(0));
}

}  // namespace

int schema_version() { return static_cast<int>(steps.size()); }

void migrate(database& db) {
  const int current = user_version(db);
  if (current > schema_version())
    throw std::runtime_error("database schema version " + std::to_string(current) +
                             " is newer than this build supports (" + std::to_string(schema_version()) + ")");
  for (int v = current; v < schema_version(); ++v) {
    transaction tx(db);
    db.exec(steps[static_cast<std::size_t>(v)]);
    db.exec("PRAGMA user_version = " + std::to_string(v + 1));
    tx.commit();
  }
}

}  // namespace cohort::store
