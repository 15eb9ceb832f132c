// Shared by the assessment tests: a series whose session 1 has ended (and a session 2 still ahead),
// its CE settings and attendance written with the sqlite3 CLI into the running server's database
// (the ce slice's settings route is not on this branch; WAL mode, the server reads them on the
// next request), and small API helpers.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { api } from '../support/server.mjs';

export const iso = (ms) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

export function sql(server, statement) {
  return execFileSync('sqlite3', ['-cmd', '.timeout 10000', path.join(server.dataDir, 'cohort.db'), statement]).toString().trim();
}

// Session 1: 60 minutes that ended `endedMinutesAgo` ago; session 2: tomorrow.
export async function endedSeries(server, { title = 'Feeding therapy', endedMinutesAgo = 10, ce = {} } = {}) {
  const start = Date.now() - (60 + endedMinutesAgo) * 60_000;
  const res = await api(server, 'POST', '/api/webinars', {
    token: server.adminToken,
    body: { title, sessions: [{ starts_at: iso(start), duration_minutes: 60 }, { starts_at: iso(Date.now() + 86_400_000), duration_minutes: 60 }] },
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  const w = res.body;
  if (ce !== null) setCe(server, w.id, ce);
  w.session1Start = Number(sql(server, `SELECT starts_at FROM sessions WHERE webinar_id = ${w.id} AND number = 1`));
  return w;
}

export function setCe(server, webinarId, { offered = 1, attempts_max = 3, pass_percent = 80, min_percent = 85, shuffle = 1, recorded_credit = 0 } = {}) {
  sql(server, `INSERT INTO ce_series (webinar_id, offered, attempts_max, pass_percent, min_percent, shuffle, recorded_credit, updated_at)
               VALUES (${webinarId}, ${offered}, ${attempts_max}, ${pass_percent}, ${min_percent}, ${shuffle}, ${recorded_credit}, 0)
               ON CONFLICT (webinar_id) DO UPDATE SET offered = excluded.offered, attempts_max = excluded.attempts_max,
               pass_percent = excluded.pass_percent, min_percent = excluded.min_percent, shuffle = excluded.shuffle,
               recorded_credit = excluded.recorded_credit`);
}

// `minutes` distinct minutes of session 1 from its start.
export function attend(server, w, registrationId, minutes, fromMinute = 0) {
  if (minutes <= 0) return;
  const first = w.session1Start / 60 + fromMinute;
  sql(server, `WITH RECURSIVE m(x) AS (SELECT ${first} UNION ALL SELECT x + 1 FROM m WHERE x < ${first + minutes - 1})
               INSERT OR IGNORE INTO attendance (webinar_id, registration_id, minute) SELECT ${w.id}, ${registrationId}, x FROM m`);
}

export async function register(server, webinarId, name, email) {
  const res = await api(server, 'POST', `/api/webinars/${webinarId}/registrations`, { body: { name, email, consent: true } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

export const bank = {
  questions: [
    { kind: 'single', prompt: 'Which reflex matters most for early feeding?', options: ['Rooting', 'Moro', 'Babinski'], correct: [0] },
    { kind: 'multiple', prompt: 'Which are signs of aspiration?', options: ['Coughing', 'Wet voice', 'Smiling', 'Watery eyes'], correct: [0, 1, 3] },
    { kind: 'single', prompt: 'Thickened liquids need a prescription from…', options: ['No one', 'An SLP or physician'], correct: [1] },
    { kind: 'single', prompt: 'Is positioning part of feeding therapy?', options: ['Yes', 'No'], correct: [0] },
  ],
};

// The right option ids of each shown question, looked up by its prompt and option texts in `bank`.
export function rightAnswers(questions, source = bank) {
  const answers = {};
  for (const q of questions) {
    const b = source.questions.find((x) => x.prompt === q.prompt);
    answers[q.id] = q.options.filter((o) => b.correct.includes(b.options.indexOf(o.text))).map((o) => o.id);
  }
  return answers;
}

export function wrongAnswers(questions, source = bank) {
  const answers = {};
  for (const q of questions) {
    const b = source.questions.find((x) => x.prompt === q.prompt);
    answers[q.id] = [q.options.find((o) => !b.correct.includes(b.options.indexOf(o.text))).id];
  }
  return answers;
}
