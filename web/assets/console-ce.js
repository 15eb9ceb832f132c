// Console "CE credit" panel: the series' CE settings (GET/PUT /api/webinars/{id}/ce) as a form —
// provider, level, objectives, statement, credit kinds, the completion rule and one row per
// session (title, approval number, contact hours) — and the CE report (per registrant and
// session, totals for the whole series) with its CSV export. Builds its own DOM in #ce-slot.
import { el, clear } from '/assets/dom.js';
import { shortDateTime } from '/assets/format.js';
import { api, problem, errorOf } from '/assets/console-common.js';

const $ = (id) => document.getElementById(id);
const progressText = { upcoming: 'Upcoming', in_progress: 'In progress', complete: 'Complete', failed: 'Not passed' };
const pillClass = { complete: 'registered', in_progress: 'waitlisted', failed: 'cancelled', upcoming: 'cancelled' };
const fmt = (n, digits = 2) => Number(n ?? 0).toLocaleString(undefined, { maximumFractionDigits: digits });

function field(id, label, input, hint) {
  const hintNode = hint ? el('span', { class: 'hint', id: `${id}-hint`, text: hint }) : null;
  if (hintNode) input.setAttribute('aria-describedby', `${id}-hint`);
  return el('div', { class: 'field' }, el('label', { for: id, text: label }), input, hintNode, el('span', { class: 'field-error', id: `${id}-error` }));
}

function checkbox(id, label) {
  return el('div', { class: 'field checkbox' }, el('input', { type: 'checkbox', id, 'data-testid': id }), el('label', { for: id, text: label }));
}

const text = (id, max) => el('input', { type: 'text', id, maxlength: String(max), autocomplete: 'off', 'data-testid': id });
const number = (id, min, max, step = '1') => el('input', { type: 'number', id, min, max, step, inputmode: step === '1' ? 'numeric' : 'decimal', 'data-testid': id });
const area = (id, rows, max) => el('textarea', { id, rows: String(rows), maxlength: String(max), 'data-testid': id });

function buildPanel(slot) {
  clear(slot).append(
    el('h3', { id: 'ce-settings-heading', tabindex: '-1', text: 'CE settings' }),
    el('form', { id: 'ce-form', class: 'card ce-form', novalidate: true, 'aria-labelledby': 'ce-settings-heading' },
      checkbox('ce-offered', 'Offer continuing-education credit for this series'),
      el('div', { class: 'ce-grid' },
        field('ce-provider-name', 'Provider name', text('ce-provider-name', 200)),
        field('ce-provider-number', 'Provider number', text('ce-provider-number', 100)),
        field('ce-level', 'Instructional level', text('ce-level', 100), 'e.g. Introductory, Intermediate, Advanced'),
        field('ce-ceu', 'CEUs per contact hour', number('ce-ceu', '0.01', '10', '0.01'), 'AOTA: 0.1 (1 CEU = 10 contact hours)')),
      field('ce-objectives', 'Learning objectives', area('ce-objectives', 3, 10000), 'One per line.'),
      field('ce-statement', 'Statement printed on the certificate', area('ce-statement', 3, 4000)),
      el('fieldset', { class: 'field ce-rule' },
        el('legend', { text: 'Completion rule' }),
        checkbox('ce-live', 'Live credit (attending the session)'),
        checkbox('ce-recorded', 'Recorded credit (watching the replay)'),
        el('div', { class: 'ce-grid' },
          field('ce-min-percent', 'Share of the session or replay (%)', number('ce-min-percent', '1', '100')),
          field('ce-pass-percent', 'Post-test pass mark (%)', number('ce-pass-percent', '1', '100')),
          field('ce-attempts', 'Post-test attempts', number('ce-attempts', '1', '20'))),
        checkbox('ce-test', 'Post-test required'),
        checkbox('ce-shuffle', 'Shuffle questions and options'),
        checkbox('ce-evaluation', 'Evaluation required'),
        field('ce-attestation', 'Attestation the learner ticks', area('ce-attestation', 2, 1000), 'Leave empty to ask for none.')),
      el('div', { class: 'table-wrap' },
        el('table', { class: 'data-table ce-session-table', 'data-testid': 'ce-session-table' },
          el('caption', { class: 'visually-hidden', text: 'CE details per session' }),
          el('thead', {}, el('tr', {}, ...['Session', 'Title', 'Approval number', 'Contact hours'].map((h) => el('th', { scope: 'col', text: h })))),
          el('tbody', { id: 'ce-session-rows' }))),
      el('p', { class: 'hint', text: 'Contact hours left empty are the session’s length.' }),
      el('p', { id: 'ce-form-error', class: 'notice error', role: 'alert', tabindex: '-1', hidden: true }),
      el('div', { class: 'actions' },
        el('button', { type: 'submit', class: 'button', id: 'ce-save', 'data-testid': 'ce-save', text: 'Save CE settings' }),
        el('span', { id: 'ce-save-status', class: 'panel-summary', role: 'status', 'aria-live': 'polite' }))),
    el('h3', { id: 'ce-report-heading', text: 'CE report' }),
    el('div', { class: 'panel-tools' },
      el('div', { class: 'field grow' }, el('label', { for: 'ce-report-session', text: 'Session' }),
        el('select', { id: 'ce-report-session', 'data-testid': 'ce-report-session' })),
      el('div', { class: 'field tool-link' },
        el('a', { id: 'ce-csv', class: 'button secondary small', href: '#', download: true, 'data-testid': 'ce-csv', text: 'Export CSV' }))),
    el('p', { id: 'ce-report-status', class: 'panel-summary', role: 'status', 'aria-live': 'polite' }),
    el('p', { id: 'ce-report-empty', class: 'empty-state', hidden: true }),
    el('div', { class: 'table-wrap ce-scroll', tabindex: '0', 'aria-label': 'CE report (scrolls sideways)' },
      el('table', { id: 'ce-report-table', class: 'data-table ce-report-table', 'data-testid': 'ce-report-table', hidden: true },
        el('caption', { class: 'visually-hidden', text: 'CE report' }),
        el('thead', {}, el('tr', {}, ...['Name', 'License', 'Discipline', 'Session', 'Minutes', 'Replay', 'Best score', 'Attempts', 'Evaluation',
          'Attested', 'Progress', 'Hours', 'CEUs', 'Certificate'].map((h) => el('th', { scope: 'col', text: h })))),
        el('tbody', { id: 'ce-report-rows' }))),
    el('div', { class: 'table-wrap' },
      el('table', { id: 'ce-totals-table', class: 'data-table', 'data-testid': 'ce-totals-table', hidden: true },
        el('caption', { text: 'Earned per registrant (whole series)' }),
        el('thead', {}, el('tr', {}, ...['Name', 'Sessions complete', 'Contact hours', 'CEUs'].map((h) => el('th', { scope: 'col', text: h })))),
        el('tbody', { id: 'ce-totals-rows' }))));
}

// Which input a 422's `field` names.
const FIELD_INPUT = {
  provider_name: 'ce-provider-name', provider_number: 'ce-provider-number', instructional_level: 'ce-level', ceu_per_hour: 'ce-ceu',
  statement: 'ce-statement', min_percent: 'ce-min-percent', pass_percent: 'ce-pass-percent', attempts_max: 'ce-attempts',
  attestation: 'ce-attestation', live_credit: 'ce-live', recorded_credit: 'ce-recorded',
};
function inputForField(name) {
  if (FIELD_INPUT[name]) return FIELD_INPUT[name];
  if (name.startsWith('objectives')) return 'ce-objectives';
  const m = /^sessions\[(\d+)\]\.(\w+)$/.exec(name);
  if (m) return `ce-s${m[1]}-${m[2]}`;
  return null;
}

export function mountCe(slot) {
  let webinar = null;
  let settings = null;
  let seq = 0;
  let built = false;

  function ensureBuilt() {
    if (built) return;
    buildPanel(slot);
    built = true;
    $('ce-form').addEventListener('submit', (e) => { e.preventDefault(); save(); });
    $('ce-report-session').addEventListener('change', loadReport);
  }

  function clearErrors() {
    slot.querySelectorAll('.field-error').forEach((n) => { n.textContent = ''; });
    slot.querySelectorAll('[aria-invalid]').forEach((n) => n.removeAttribute('aria-invalid'));
    $('ce-form-error').hidden = true;
  }

  function fill(s) {
    settings = s;
    $('ce-offered').checked = s.offered === true;
    $('ce-provider-name').value = s.provider_name ?? '';
    $('ce-provider-number').value = s.provider_number ?? '';
    $('ce-level').value = s.instructional_level ?? '';
    $('ce-ceu').value = String(s.ceu_per_hour ?? 0.1);
    $('ce-objectives').value = (s.objectives ?? []).join('\n');
    $('ce-statement').value = s.statement ?? '';
    $('ce-live').checked = s.live_credit !== false;
    $('ce-recorded').checked = s.recorded_credit === true;
    $('ce-min-percent').value = String(s.min_percent ?? 85);
    $('ce-pass-percent').value = String(s.pass_percent ?? 80);
    $('ce-attempts').value = String(s.attempts_max ?? 3);
    $('ce-test').checked = s.test_required !== false;
    $('ce-shuffle').checked = s.shuffle !== false;
    $('ce-evaluation').checked = s.evaluation_required === true;
    $('ce-attestation').value = s.attestation ?? '';
    const rows = (s.sessions ?? []).map((x, i) => el('tr', { dataset: { number: String(x.number) } },
      el('th', { scope: 'row' }, `Session ${x.number}`, el('br'), el('span', { class: 'muted', text: `${shortDateTime(x.starts_at)} · ${x.duration_minutes} min` })),
      el('td', {}, el('input', { type: 'text', id: `ce-s${i}-title`, maxlength: '200', value: x.title ?? '', 'aria-label': `Session ${x.number} title` }),
        el('span', { class: 'field-error', id: `ce-s${i}-title-error` })),
      el('td', {}, el('input', { type: 'text', id: `ce-s${i}-approval_number`, maxlength: '100', value: x.approval_number ?? '', 'aria-label': `Session ${x.number} approval number` }),
        el('span', { class: 'field-error', id: `ce-s${i}-approval_number-error` })),
      el('td', {}, el('input', { type: 'number', id: `ce-s${i}-contact_hours`, min: '0.05', max: '24', step: '0.05', inputmode: 'decimal',
        value: x.contact_hours === null || x.contact_hours === undefined ? '' : String(x.contact_hours),
        placeholder: fmt(x.duration_minutes / 60), 'aria-label': `Session ${x.number} contact hours` }),
      el('span', { class: 'field-error', id: `ce-s${i}-contact_hours-error` }))));
    clear($('ce-session-rows')).append(...rows);
  }

  function collect() {
    const num = (id) => ($(id).value.trim() === '' ? null : Number($(id).value));
    return {
      offered: $('ce-offered').checked,
      provider_name: $('ce-provider-name').value,
      provider_number: $('ce-provider-number').value,
      instructional_level: $('ce-level').value,
      ceu_per_hour: num('ce-ceu'),
      objectives: $('ce-objectives').value.split('\n').map((l) => l.trim()).filter(Boolean),
      statement: $('ce-statement').value,
      live_credit: $('ce-live').checked,
      recorded_credit: $('ce-recorded').checked,
      min_percent: num('ce-min-percent'),
      test_required: $('ce-test').checked,
      pass_percent: num('ce-pass-percent'),
      attempts_max: num('ce-attempts'),
      shuffle: $('ce-shuffle').checked,
      evaluation_required: $('ce-evaluation').checked,
      attestation: $('ce-attestation').value,
      sessions: (settings?.sessions ?? []).map((x, i) => ({
        number: x.number, title: $(`ce-s${i}-title`).value, approval_number: $(`ce-s${i}-approval_number`).value,
        contact_hours: num(`ce-s${i}-contact_hours`),
      })),
    };
  }

  async function save() {
    if (!webinar) return;
    clearErrors();
    const status = $('ce-save-status');
    status.textContent = 'Saving…';
    $('ce-save').disabled = true;
    const res = await api('PUT', `/api/webinars/${webinar.id}/ce`, collect());
    $('ce-save').disabled = false;
    if (res && res.status === 200 && res.data) {
      fill(res.data);
      status.textContent = 'Saved.';
      loadReport();
      return;
    }
    status.textContent = '';
    const error = errorOf(res?.data);
    const input = res?.status === 422 && typeof error.field === 'string' ? inputForField(error.field) : null;
    if (input && $(input)) {
      $(input).setAttribute('aria-invalid', 'true');
      const errorNode = $(`${input}-error`);
      if (errorNode) errorNode.textContent = String(error.message ?? '');
      $(input).focus();
    }
    $('ce-form-error').textContent = problem(res, 'The CE settings were not saved');
    $('ce-form-error').hidden = false;
    if (!input) $('ce-form-error').focus();
  }

  function fillPicker(sessions, keep) {
    const picker = $('ce-report-session');
    clear(picker).append(el('option', { value: '', text: 'All sessions (series totals)' }),
      ...sessions.map((s) => el('option', { value: String(s.number), text: `Session ${s.number} — ${shortDateTime(s.starts_at)}` })));
    picker.value = keep && [...picker.options].some((o) => o.value === keep) ? keep : '';
  }

  const yesNo = (b) => (b ? 'Yes' : 'No');

  function reportRow(r) {
    const cert = r.certificate;
    return el('tr', { 'data-testid': 'ce-report-row', dataset: { id: String(r.registration_id), session: String(r.session) } },
      el('th', { scope: 'row' }, String(r.name ?? ''), el('br'), el('span', { class: 'muted reg-email', text: String(r.email ?? '') })),
      el('td', { text: String(r.license_number ?? '') }),
      el('td', { text: String(r.discipline ?? '') }),
      el('td', { class: 'num-cell', text: String(r.session) }),
      el('td', { class: 'num-cell', text: String(r.minutes) }),
      el('td', { class: 'num-cell', text: `${r.replay_percent} %` }),
      el('td', { class: 'num-cell', text: r.best_score === null ? '—' : `${r.best_score} %` }),
      el('td', { class: 'num-cell', text: String(r.attempts) }),
      el('td', { text: yesNo(r.evaluation_submitted) }),
      el('td', { text: yesNo(r.attested) }),
      el('td', {}, el('span', { class: `status-pill ${pillClass[r.progress] ?? ''}`, text: `${progressText[r.progress] ?? r.progress}${r.kind !== 'none' ? ` (${r.kind})` : ''}` })),
      el('td', { class: 'num-cell', text: fmt(r.contact_hours) }),
      el('td', { class: 'num-cell', text: fmt(r.ceus) }),
      el('td', {}, cert ? el('a', { href: `/verify/${encodeURIComponent(cert.code)}`, text: `${cert.code}${cert.revoked ? ' (revoked)' : ''}` }) : el('span', { class: 'muted', text: '—' })));
  }

  async function loadReport() {
    if (!webinar) return;
    const picker = $('ce-report-session');
    const session = picker.value;
    const query = session ? `?session=${encodeURIComponent(session)}` : '';
    $('ce-csv').href = `/api/webinars/${webinar.id}/ce/report.csv${query}`;
    const mine = ++seq;
    $('ce-report-status').textContent = 'Loading the CE report…';
    const res = await api('GET', `/api/webinars/${webinar.id}/ce/report${query}`);
    if (mine !== seq) return;
    const table = $('ce-report-table');
    const totals = $('ce-totals-table');
    const empty = $('ce-report-empty');
    table.hidden = true;
    totals.hidden = true;
    empty.hidden = true;
    if (!res || res.status !== 200 || !res.data) {
      if (res?.status === 401) return;
      $('ce-report-status').textContent = problem(res, 'The CE report could not be loaded');
      return;
    }
    const rows = Array.isArray(res.data.rows) ? res.data.rows : [];
    const complete = rows.filter((r) => r.progress === 'complete').length;
    $('ce-report-status').textContent = res.data.offered
      ? `${complete} of ${rows.length} registrant-sessions complete.`
      : 'CE credit is not offered for this series: tick “Offer continuing-education credit” above to start.';
    if (!rows.length) {
      empty.textContent = 'No registrants yet.';
      empty.hidden = false;
      return;
    }
    clear($('ce-report-rows')).append(...rows.map(reportRow));
    table.hidden = false;
    if (!session) {
      const names = new Map(rows.map((r) => [r.registration_id, r.name]));
      clear($('ce-totals-rows')).append(...(res.data.totals ?? []).map((t) => el('tr', { 'data-testid': 'ce-total-row' },
        el('th', { scope: 'row', text: String(names.get(t.registration_id) ?? '') }),
        el('td', { class: 'num-cell', text: String(t.sessions_complete) }),
        el('td', { class: 'num-cell', text: fmt(t.contact_hours) }),
        el('td', { class: 'num-cell', text: fmt(t.ceus) }))));
      totals.hidden = false;
    }
  }

  return {
    async show(w) {
      ensureBuilt();
      const same = webinar && String(webinar.id) === String(w.id);
      const keep = same ? $('ce-report-session').value : '';
      webinar = w;
      fillPicker(Array.isArray(w.sessions) ? w.sessions : [], keep);
      if (!same) clearErrors();
      const res = await api('GET', `/api/webinars/${w.id}/ce`);
      if (!webinar || String(webinar.id) !== String(w.id)) return;
      if (res && res.status === 200 && res.data) fill(res.data);
      else $('ce-save-status').textContent = problem(res, 'The CE settings could not be loaded');
      loadReport();
    },
    reset() {
      webinar = null;
      settings = null;
      seq += 1;
      if (built) {
        clear($('ce-report-rows'));
        clear($('ce-totals-rows'));
        $('ce-report-status').textContent = '';
        $('ce-save-status').textContent = '';
      }
    },
  };
}
