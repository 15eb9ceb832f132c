// Console "Certificates" panel: every CE certificate of the series (any state), optionally one
// session's, with its name, license, credit, hours and code (linked to its public verification
// page); the PDF to download, Re-issue (two clicks: a new certificate with the facts as they are
// now, the old one replaced, the registrant mailed again) and Revoke (asks for a reason inline).
// The CSV export is the provider's yearly report. The panel builds its own DOM in
// #certificates-slot, so console.html only holds the tab and the slot.
//
// data-testid hooks: certificates-session, certificates-csv, certificates-status,
// certificates-empty, certificates-table, certificate-row (data-code, data-status),
// certificate-pdf, certificate-reissue, certificate-revoke, certificate-revoke-reason,
// certificate-revoke-confirm, certificate-revoke-cancel.
import { el, clear, focusRegion } from '/assets/dom.js';
import { shortDateTime } from '/assets/format.js';
import { api, problem, twoStep } from '/assets/console-common.js';

const number = (n) => String(Math.round(Number(n) * 100) / 100);
const creditText = (kind) => (kind === 'recorded' ? 'Recorded' : 'Live');

export function mountCertificates({ announce }) {
  const slot = document.getElementById('certificates-slot');
  const heading = el('h3', { id: 'cert-heading', tabindex: '-1' }, 'CE certificates');
  const session = el('select', { id: 'cert-session', 'data-testid': 'certificates-session' });
  const csv = el('a', { id: 'cert-csv', class: 'button secondary small', href: '#', download: true, 'data-testid': 'certificates-csv' }, 'Export CSV');
  const status = el('p', { class: 'panel-summary', role: 'status', 'aria-live': 'polite', 'data-testid': 'certificates-status' });
  const empty = el('p', { class: 'empty-state', 'data-testid': 'certificates-empty', hidden: true },
    'No certificates yet. A certificate is issued when a registrant completes a session\'s CE requirements.');
  const rows = el('tbody');
  const table = el('table', { class: 'data-table cert-table', 'data-testid': 'certificates-table', hidden: true },
    el('caption', { class: 'visually-hidden' }, 'CE certificates of this series'),
    el('thead', {}, el('tr', {}, ...['Name · license', 'Session · credit', 'Hours · CEUs', 'Code · issued', 'Status']
      .map((h) => el('th', { scope: 'col' }, h)), el('th', { scope: 'col' }, el('span', { class: 'visually-hidden' }, 'Actions')))),
    rows);
  slot.append(heading,
    el('div', { class: 'panel-tools' },
      el('div', { class: 'field grow' }, el('label', { for: 'cert-session' }, 'Session'), session),
      el('div', { class: 'field tool-link' }, csv)),
    status, empty, el('div', { class: 'table-wrap' }, table),
    el('p', { class: 'hint' }, 'Re-issue after correcting a name or license number: the new certificate reads them again, the old one is marked as replaced on its verification page, and the registrant gets the new one by email.'));

  let webinar = null;
  let loadSeq = 0;

  function cell(label, ...children) {
    return el('td', { 'data-label': label }, ...children);
  }

  function actions(c) {
    const box = el('div', { class: 'chat-tools' });
    if (c.status !== 'valid') return box;
    const who = c.name || 'this registrant';
    const pdf = el('a', { class: 'chat-tool cert-pdf', href: c.pdf_url, download: true, 'data-testid': 'certificate-pdf', 'aria-label': `PDF of ${who}'s certificate ${c.code}` }, 'PDF');
    const reissue = el('button', { type: 'button', class: 'chat-tool', 'data-testid': 'certificate-reissue' }, 'Re-issue');
    twoStep(reissue, { label: 'Re-issue', confirmLabel: 'Confirm re-issue', ariaLabel: `Re-issue ${who}'s certificate`,
      confirmAriaLabel: `Confirm: re-issue ${who}'s certificate with the facts as they are now` }, () => reissueOne(c, reissue));
    const revoke = el('button', { type: 'button', class: 'chat-tool danger', 'data-testid': 'certificate-revoke', 'aria-label': `Revoke ${who}'s certificate` }, 'Revoke');
    revoke.addEventListener('click', () => box.replaceWith(revokeForm(c, box)));
    box.append(pdf, reissue, revoke);
    return box;
  }

  // The reason is kept on the record (not on the public page); the form replaces the buttons.
  function revokeForm(c, buttons) {
    const id = `cert-reason-${c.code}`;
    const reason = el('input', { id, maxlength: '500', required: true, autocomplete: 'off', 'data-testid': 'certificate-revoke-reason' });
    const confirm = el('button', { type: 'submit', class: 'chat-tool danger', 'data-testid': 'certificate-revoke-confirm' }, 'Confirm revoke');
    const cancel = el('button', { type: 'button', class: 'chat-tool', 'data-testid': 'certificate-revoke-cancel' }, 'Cancel');
    const form = el('form', { class: 'cert-revoke' }, el('label', { for: id }, 'Why revoke it?'), reason, el('div', { class: 'chat-tools' }, confirm, cancel));
    cancel.addEventListener('click', () => form.replaceWith(buttons));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      if (!reason.value.trim()) { reason.focus(); return; }
      confirm.disabled = true;
      const res = await api('POST', `/api/certificates/${encodeURIComponent(c.code)}/revoke`, { reason: reason.value.trim() });
      confirm.disabled = false;
      if (res?.status === 200 || res?.status === 409) {
        announce(`Certificate ${c.code} was revoked.`);
        await load();
        focusRegion(heading);
        return;
      }
      if (res?.status !== 401) status.textContent = problem(res, 'The certificate was not revoked');
    });
    queueMicrotask(() => reason.focus());
    return form;
  }

  async function reissueOne(c, button) {
    button.disabled = true;
    const res = await api('POST', `/api/certificates/${encodeURIComponent(c.code)}/reissue`);
    button.disabled = false;
    if (res?.status === 201) {
      announce(`Certificate ${c.code} was replaced by ${res.data.code}; the registrant is emailed the new one.`);
      await load();
      focusRegion(heading);
      return;
    }
    if (res?.status !== 401) status.textContent = problem(res, 'The certificate was not re-issued');
  }

  function row(c) {
    const valid = c.status === 'valid';
    const state = [el('span', { class: `status-pill ${valid ? 'registered' : 'cancelled'}` }, valid ? 'Valid' : c.replaced_by ? 'Replaced' : 'Revoked'),
      c.replaced_by ? el('span', { class: 'cert-sub' }, 'by ', el('a', { class: 'cert-code', href: `/verify/${encodeURIComponent(c.replaced_by)}`, target: '_blank', rel: 'noopener' }, c.replaced_by)) : null];
    return el('tr', { 'data-testid': 'certificate-row', dataset: { code: c.code, status: c.status } },
      el('th', { scope: 'row' }, c.name || '(erased)', el('span', { class: 'cert-sub' }, c.license_number ? `License ${c.license_number}` : 'No license number')),
      cell('Session', `${c.session_number}: ${c.session_title}`, el('span', { class: 'cert-sub' }, creditText(c.kind))),
      cell('Hours · CEUs', el('span', { class: 'num-cell' }, `${number(c.contact_hours)} · ${number(c.ceus)}`)),
      cell('Code', el('a', { class: 'cert-code', href: `/verify/${encodeURIComponent(c.code)}`, target: '_blank', rel: 'noopener' }, c.code),
        el('span', { class: 'cert-sub' }, el('time', { datetime: c.issued_at }, shortDateTime(c.issued_at)))),
      cell('Status', ...state),
      el('td', { class: 'reg-actions' }, actions(c)));
  }

  function query() {
    return session.value ? `?session=${encodeURIComponent(session.value)}` : '';
  }

  async function load() {
    if (!webinar) return;
    const mine = ++loadSeq;
    csv.href = `/api/webinars/${webinar.id}/certificates.csv${query()}`;
    const res = await api('GET', `/api/webinars/${webinar.id}/certificates${query()}`);
    if (mine !== loadSeq) return;
    if (!res || res.status !== 200 || !Array.isArray(res.data?.certificates)) {
      if (res?.status !== 401) status.textContent = problem(res, 'The certificates could not be loaded');
      return;
    }
    const list = res.data.certificates;
    clear(rows).append(...list.map(row));
    table.hidden = list.length === 0;
    empty.hidden = list.length > 0;
    const valid = list.filter((c) => c.status === 'valid');
    const hours = valid.reduce((sum, c) => sum + Number(c.contact_hours || 0), 0);
    status.textContent = list.length
      ? `${valid.length} valid ${valid.length === 1 ? 'certificate' : 'certificates'} (${number(hours)} contact hours)${list.length > valid.length ? `, ${list.length - valid.length} revoked or replaced` : ''}.`
      : '';
  }

  session.addEventListener('change', load);

  function fillSessions(w) {
    const keep = session.value;
    clear(session).append(el('option', { value: '' }, 'All sessions'),
      ...(w.sessions || []).map((s, i) => el('option', { value: String(s.number ?? i + 1) }, `Session ${s.number ?? i + 1} — ${shortDateTime(s.starts_at)}`)));
    session.value = [...session.options].some((o) => o.value === keep) ? keep : '';
  }

  return {
    show(w) {
      if (!webinar || String(webinar.id) !== String(w.id)) {
        clear(rows);
        table.hidden = true;
        empty.hidden = true;
        session.value = '';
        status.textContent = 'Loading certificates…';
      }
      webinar = w;
      fillSessions(w);
      load();
    },
    reset() {
      webinar = null;
      loadSeq += 1;
      clear(rows);
      table.hidden = true;
      empty.hidden = true;
      status.textContent = '';
    },
  };
}
