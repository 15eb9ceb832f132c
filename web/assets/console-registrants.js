// Console "Registrants" panel: a table of the series' registrations, searchable by name or email
// (`q`, case-insensitive substring, asked of the server as you type), filtered by status, paged
// with "Show more" (`after` = next_after); a Cancel button per active registration (asks first;
// the server promotes the first waitlisted person); the CSV export link. `onLoaded` runs after every
// (re)load, so the series' counts follow; `poll()` reloads quietly when that disturbs nobody.
import { el, clear, focusRegion } from '/assets/dom.js';
import { shortDateTime } from '/assets/format.js';
import { api, problem } from '/assets/console-common.js';

const $ = (id) => document.getElementById(id);
const PAGE = 100;
const SEARCH_DELAY_MS = 300;
const STATUS_TEXT = { registered: 'Registered', waitlisted: 'Waitlisted', cancelled: 'Cancelled' };

export function mountRegistrants({ announce, onLoaded }) {
  const search = $('reg-search');
  const statusSelect = $('reg-status');
  const rows = $('reg-rows');
  const table = $('reg-table');
  const summary = $('reg-summary');
  const empty = $('reg-empty');
  const more = $('reg-more');
  const csv = $('reg-csv');

  let webinar = null;
  let nextAfter = null;
  let loadSeq = 0;
  let searchTimer = null;
  let shown = 0;
  let pages = 0; // pages shown: "Show more" was used when > 1
  let lastJson = '';

  function query(after) {
    const params = new URLSearchParams({ limit: String(PAGE) });
    const q = search.value.trim();
    if (q) params.set('q', q);
    if (statusSelect.value) params.set('status', statusSelect.value);
    if (after !== null && after !== undefined) params.set('after', String(after));
    return `/api/webinars/${webinar.id}/registrations?${params}`;
  }

  function filterText() {
    const q = search.value.trim();
    const status = statusSelect.value;
    const parts = [];
    if (status) parts.push(status === 'waitlisted' ? 'on the waitlist' : status);
    if (q) parts.push(`matching “${q}”`);
    return parts.join(' ');
  }

  function renderEmpty() {
    clear(empty);
    const filtered = Boolean(search.value.trim() || statusSelect.value);
    if (filtered) {
      empty.append(el('p', {}, `No registrants ${filterText()}.`));
      return;
    }
    const path = `/w/${webinar.id}`;
    empty.append(el('p', {}, 'No registrants yet — share the signup link ',
      el('a', { href: path }, `${location.origin}${path}`), '.'));
  }

  function row(r) {
    const name = String(r.name ?? '');
    const status = String(r.status ?? '');
    const actions = el('td', { class: 'reg-actions', 'data-label': 'Actions' });
    if (status === 'registered' || status === 'waitlisted') {
      const cancel = el('button', {
        type: 'button', class: 'chat-tool danger', 'data-testid': 'registrant-cancel', 'aria-label': `Cancel the registration of ${name}`, 'aria-expanded': 'false',
      }, 'Cancel');
      cancel.addEventListener('click', () => askCancel(r, actions, cancel));
      actions.append(cancel);
    }
    return el('tr', { 'data-testid': 'registrant-row', dataset: { id: String(r.id), status } },
      el('th', { scope: 'row', 'data-label': 'Name', class: 'reg-name' }, name),
      el('td', { 'data-label': 'Email', class: 'reg-email' }, String(r.email ?? '')),
      el('td', { 'data-label': 'Profession' }, String(r.profession ?? '') || el('span', { class: 'muted' }, '—')),
      el('td', { 'data-label': 'Status' }, el('span', { class: `status-pill ${status}` }, STATUS_TEXT[status] ?? status)),
      el('td', { 'data-label': 'Registered' }, r.created_at ? el('time', { datetime: r.created_at }, shortDateTime(r.created_at)) : ''),
      actions);
  }

  function askCancel(r, cell, button) {
    const name = String(r.name ?? '');
    const waitlisted = r.status === 'waitlisted';
    const text = el('p', { class: 'reg-confirm-text', tabindex: '-1' },
      waitlisted ? `Take ${name} off the waitlist?` : `Cancel ${name}’s registration? The seat goes to the first person on the waitlist.`);
    const yes = el('button', { type: 'button', class: 'button danger small', 'data-testid': 'registrant-cancel-confirm' }, waitlisted ? 'Yes, remove' : 'Yes, cancel it');
    const no = el('button', { type: 'button', class: 'button secondary small' }, 'Keep');
    const error = el('p', { class: 'field-error', role: 'alert' });
    const box = el('div', { class: 'reg-confirm' }, text, el('div', { class: 'actions' }, yes, no), error);
    const close = () => {
      box.remove();
      button.hidden = false;
      button.setAttribute('aria-expanded', 'false');
      button.focus();
    };
    no.addEventListener('click', close);
    box.addEventListener('keydown', (e) => { if (e.key === 'Escape') close(); });
    yes.addEventListener('click', async () => {
      yes.disabled = true;
      const res = await api('DELETE', `/api/webinars/${webinar.id}/registrations/${r.id}`);
      yes.disabled = false;
      if (!res || (res.status !== 204 && res.status !== 200)) {
        if (res?.status === 401) return;
        error.textContent = problem(res, 'The registration was not cancelled');
        return;
      }
      announce(waitlisted ? `${name} was taken off the waitlist.` : `${name}’s registration was cancelled.`);
      await load();
      focusRegion($('reg-heading'));
    });
    button.hidden = true;
    button.setAttribute('aria-expanded', 'true');
    cell.append(box);
    focusRegion(text);
  }

  // quiet: a background refresh (nothing re-drawn when nothing changed, errors not shown).
  async function load({ append = false, quiet = false } = {}) {
    if (!webinar) return;
    const mine = ++loadSeq;
    if (!append && !quiet) {
      table.setAttribute('aria-busy', 'true');
    }
    more.disabled = true;
    const res = await api('GET', query(append ? nextAfter : null));
    if (mine !== loadSeq) return;
    table.removeAttribute('aria-busy');
    more.disabled = false;
    if (!res || res.status !== 200 || !Array.isArray(res.data?.registrations)) {
      if (res?.status === 401 || quiet) return;
      summary.textContent = problem(res, 'The registrants could not be loaded');
      return;
    }
    onLoaded?.();
    const list = res.data.registrations;
    if (!append) {
      const json = JSON.stringify(res.data);
      if (quiet && json === lastJson) return;
      lastJson = json;
      clear(rows);
      shown = 0;
      pages = 0;
    }
    pages += 1;
    rows.append(...list.map(row));
    shown += list.length;
    nextAfter = res.data.next_after ?? null;
    const total = Number.isFinite(res.data.total) ? res.data.total : shown;
    const filter = filterText();
    const noun = total === 1 ? 'registrant' : 'registrants';
    const text = total === 0 ? '' : `${total} ${noun}${filter ? ` ${filter}` : ''}${shown < total ? ` — showing ${shown}` : ''}.`;
    if (summary.textContent !== text) summary.textContent = text; // a live region: only news
    table.hidden = shown === 0;
    empty.hidden = shown > 0;
    if (shown === 0) renderEmpty();
    more.hidden = nextAfter === null || nextAfter === undefined;
  }

  search.addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => load(), SEARCH_DELAY_MS);
  });
  search.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      e.preventDefault();
      clearTimeout(searchTimer);
      load();
    }
  });
  statusSelect.addEventListener('change', () => load());
  more.addEventListener('click', async () => {
    const before = shown;
    await load({ append: true });
    // Focus the first new row so keyboard users continue where the list grew.
    rows.children[before]?.querySelector('th')?.setAttribute('tabindex', '-1');
    rows.children[before]?.querySelector('th')?.focus();
  });

  return {
    show(w) {
      if (!webinar || String(webinar.id) !== String(w.id)) {
        search.value = '';
        statusSelect.value = '';
        clear(rows);
        table.hidden = true;
        empty.hidden = true;
        more.hidden = true;
        summary.textContent = 'Loading registrants…';
      }
      webinar = w;
      csv.href = `/api/webinars/${w.id}/registrations.csv`;
      load();
    },
    // The periodic refresh: the table is reloaded only when that moves nobody's place (first page
    // only, no cancel question open, the keyboard not in the table); the counts always follow.
    poll() {
      if (!webinar) return;
      const busy = pages > 1 || rows.querySelector('.reg-confirm') || table.contains(document.activeElement) || more.contains(document.activeElement);
      if (busy) onLoaded?.();
      else load({ quiet: true });
    },
    reset() {
      webinar = null;
      lastJson = '';
      pages = 0;
      loadSeq += 1;
      clearTimeout(searchTimer);
      search.value = '';
      statusSelect.value = '';
      clear(rows);
      clear(empty);
      table.hidden = true;
      empty.hidden = true;
      more.hidden = true;
      summary.textContent = '';
    },
  };
}
