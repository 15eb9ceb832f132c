// Console "Email" panel: the series' outbox, newest first — a summary ("12 sent · 0 waiting ·
// 1 failed"), a note when no mail server is configured (messages are written as .eml files instead),
// a table of every message (kind, recipient, subject, state with the last error, attempts, time in
// the viewer's zone) and a "View" button that shows the message's RFC 5322 source in a modal
// dialog (focus moves into it, Escape or "Close" closes it and focus returns to the button).
import { el, clear, focusRegion } from '/assets/dom.js';
import { shortDateTime, parseTime } from '/assets/format.js';
import { api, problem, zoneNote, signedOut } from '/assets/console-common.js';

const $ = (id) => document.getElementById(id);
const PAGE = 100;

const KIND_TEXT = {
  confirmation: 'Confirmation',
  waitlisted: 'Waitlist',
  promoted: 'Off the waitlist',
  rescheduled: 'Rescheduled',
  cancelled: 'Cancellation',
  reminder: 'Reminder',
  drop: 'Bonus drop notice',
};
const STATE_TEXT = { queued: 'Waiting', sent: 'Sent', failed: 'Failed' };

export function summaryText(counts) {
  const n = (k) => (Number.isFinite(counts?.[k]) ? counts[k] : 0);
  return `${n('sent')} sent · ${n('queued')} waiting · ${n('failed')} failed`;
}

const timeNode = (iso) => el('time', { datetime: iso }, shortDateTime(iso));

// When it went out, or when it was queued and (still waiting) when the next try is.
// (One <div> per cell: on a phone each cell is a label/value grid.)
function whenCell(e) {
  const box = el('div');
  if (e.state === 'sent' && parseTime(e.sent_at)) {
    box.append('Sent ', timeNode(e.sent_at));
  } else {
    if (parseTime(e.created_at)) box.append('Queued ', timeNode(e.created_at));
    if (e.state === 'queued' && parseTime(e.next_attempt_at) && e.attempts > 0) {
      box.append(el('span', { class: 'email-sub' }, 'Next try ', timeNode(e.next_attempt_at)));
    }
  }
  return el('td', { 'data-label': 'Time', class: 'email-when' }, box);
}

export function mountEmail({ announce }) {
  const summary = $('email-summary');
  const status = $('email-status');
  const transport = $('email-transport');
  const empty = $('email-empty');
  const table = $('email-table');
  const rows = $('email-rows');
  const more = $('email-more');
  const filter = $('email-filter');
  const refreshButton = $('email-refresh');
  const dialog = $('email-dialog');
  const source = $('email-source');
  const viewTitle = $('email-view-title');
  const viewStatus = $('email-view-status');

  let webinar = null;
  let emails = [];
  let limit = PAGE;
  let loadSeq = 0;
  let viewSeq = 0;
  let lastJson = '';
  let opener = null; // the View button that opened the dialog

  $('email-tz-note').textContent = zoneNote();

  function visible() {
    const state = filter.value;
    return state ? emails.filter((e) => e.state === state) : emails;
  }

  function row(e) {
    const state = String(e.state ?? '');
    const kind = String(e.kind ?? '');
    const to = String(e.to ?? '');
    const subject = String(e.subject ?? '');
    const stateBox = el('div', {}, el('span', { class: `status-pill email-${state}` }, STATE_TEXT[state] ?? state));
    if (typeof e.last_error === 'string' && e.last_error) {
      stateBox.append(el('span', { class: `email-error${state === 'failed' ? '' : ' retrying'}` },
        state === 'failed' ? 'Gave up: ' : 'Last try: ', e.last_error));
    }
    const stateCell = el('td', { 'data-label': 'State', class: 'email-state' }, stateBox);
    const view = el('button', {
      type: 'button', class: 'chat-tool', 'data-testid': 'email-view', 'aria-haspopup': 'dialog',
      'aria-label': `View the ${(KIND_TEXT[kind] ?? kind).toLowerCase()} email to ${to}`,
    }, 'View');
    view.addEventListener('click', () => openView(e, view));
    return el('tr', { 'data-testid': 'email-row', class: state === 'failed' ? 'email-failed' : null, dataset: { id: String(e.id), state } },
      el('td', { 'data-label': 'Kind' }, KIND_TEXT[kind] ?? kind),
      el('th', { scope: 'row', 'data-label': 'To', class: 'reg-email' }, to),
      // A message is composed when it is first sent: until then it has no subject yet.
      el('td', { 'data-label': 'Subject', class: 'email-subject' }, subject || el('span', { class: 'muted' }, 'Written when it is sent')),
      stateCell,
      el('td', { 'data-label': 'Attempts', class: 'num-cell' }, String(Number.isFinite(e.attempts) ? e.attempts : 0)),
      whenCell(e),
      el('td', { 'data-label': '', class: 'reg-actions' }, view));
  }

  function render() {
    // A refresh must not drop the keyboard focus: note which row's button had it.
    const focusedId = rows.contains(document.activeElement) ? document.activeElement.closest('tr')?.dataset.id : null;
    const list = visible();
    const shown = list.slice(0, limit);
    clear(rows).append(...shown.map(row));
    table.hidden = shown.length === 0;
    $('email-tz-note').hidden = shown.length === 0;
    more.hidden = list.length <= shown.length;
    more.textContent = `Show more (${list.length - shown.length} more)`;
    clear(empty);
    if (!emails.length) {
      empty.append(el('p', {}, 'No emails for this series yet — confirmations go out as people register.'));
    } else if (!list.length) {
      empty.append(el('p', {}, `No ${(STATE_TEXT[filter.value] ?? filter.value).toLowerCase()} emails.`));
    }
    empty.hidden = shown.length > 0;
    if (focusedId) rows.querySelector(`tr[data-id="${CSS.escape(focusedId)}"] button`)?.focus();
  }

  function renderTransport(data) {
    clear(transport);
    if (data.transport === 'files') {
      transport.append(
        el('strong', {}, 'No mail server is configured: '),
        'messages are written to ',
        el('code', {}, String(data.outbox_dir ?? 'the outbox folder')),
        ' instead of being sent — read them here.');
      transport.hidden = false;
    } else {
      transport.hidden = true;
    }
  }

  // quiet: a background refresh (no "Loading…", no announcement, nothing re-drawn when unchanged).
  async function load({ quiet = false } = {}) {
    if (!webinar) return;
    const mine = ++loadSeq;
    if (!quiet) table.setAttribute('aria-busy', 'true');
    const res = await api('GET', `/api/webinars/${webinar.id}/emails`);
    if (mine !== loadSeq) return;
    table.removeAttribute('aria-busy');
    if (!res || res.status !== 200 || !Array.isArray(res.data?.emails)) {
      if (res?.status === 401 || quiet) return;
      status.textContent = problem(res, 'The emails could not be loaded');
      return;
    }
    status.textContent = '';
    const json = JSON.stringify(res.data);
    if (quiet && json === lastJson) return;
    lastJson = json;
    emails = res.data.emails;
    // The server lists the newest ones (500); the counts cover them all.
    const counts = res.data.counts ?? {};
    const total = ['queued', 'sent', 'failed'].reduce((sum, k) => sum + (Number.isFinite(counts[k]) ? counts[k] : 0), 0);
    summary.textContent = !emails.length ? '' : `${summaryText(counts)}${total > emails.length ? ` — the newest ${emails.length} are listed` : ''}`;
    summary.classList.toggle('has-failed', (res.data.counts?.failed ?? 0) > 0);
    renderTransport(res.data);
    render();
  }

  async function openView(e, button) {
    const mine = ++viewSeq;
    opener = button;
    const kind = KIND_TEXT[e.kind] ?? String(e.kind ?? '');
    viewTitle.textContent = `${kind} email to ${String(e.to ?? '')}`;
    dialog.dataset.id = String(e.id);
    source.textContent = '';
    source.hidden = true;
    viewStatus.textContent = 'Loading the message…';
    if (!dialog.open) dialog.showModal();
    focusRegion(viewTitle);
    const res = await fetchSource(e.id);
    if (mine !== viewSeq || !dialog.open) return;
    if (typeof res === 'string') {
      viewStatus.textContent = 'The message as it is sent (RFC 5322 source).';
      source.textContent = res;
      source.hidden = false;
      source.scrollTop = 0;
      source.focus();
    } else {
      viewStatus.textContent = problem(res, 'The message could not be loaded');
    }
  }

  // The source as text, or { status, data } / null (unreachable) for problem().
  async function fetchSource(id) {
    let res;
    try {
      res = await fetch(`/api/emails/${encodeURIComponent(id)}/message`, { credentials: 'same-origin', cache: 'no-store', headers: { accept: 'text/plain' } });
    } catch {
      return null;
    }
    if (res.status === 200) return res.text();
    let data = null;
    if ((res.headers.get('content-type') || '').includes('application/json')) {
      try { data = await res.json(); } catch { data = null; }
    }
    // Same as every other console call: back to the sign-in form.
    if (res.status === 401) signedOut();
    return { status: res.status, data };
  }

  function closeView() {
    if (dialog.open) dialog.close();
  }

  dialog.addEventListener('close', () => {
    viewSeq += 1;
    delete dialog.dataset.id;
    const back = opener;
    opener = null;
    if (!back) return; // closed by a series switch or sign-out: focus is theirs
    if (back.isConnected) back.focus();
    else if (!$('panel-email').hidden) focusRegion($('email-heading'));
  });
  // A click on the backdrop (outside the dialog's box) closes it too.
  dialog.addEventListener('click', (event) => {
    if (event.target !== dialog) return;
    const r = dialog.getBoundingClientRect();
    const inside = event.clientX >= r.left && event.clientX <= r.right && event.clientY >= r.top && event.clientY <= r.bottom;
    if (!inside) closeView();
  });
  $('email-view-close').addEventListener('click', closeView);
  filter.addEventListener('change', () => {
    limit = PAGE;
    render();
  });
  more.addEventListener('click', () => {
    const before = rows.children.length;
    limit += PAGE;
    render();
    const first = rows.children[before]?.querySelector('th');
    if (first) focusRegion(first);
  });
  refreshButton.addEventListener('click', async () => {
    refreshButton.disabled = true;
    await load();
    refreshButton.disabled = false;
    if (webinar && !status.textContent) announce(`Emails refreshed: ${summary.textContent || 'none yet'}.`);
  });

  return {
    show(w) {
      if (!webinar || String(webinar.id) !== String(w.id)) {
        emails = [];
        lastJson = '';
        limit = PAGE;
        filter.value = '';
        clear(rows);
        table.hidden = true;
        empty.hidden = true;
        more.hidden = true;
        transport.hidden = true;
        summary.textContent = '';
        status.textContent = 'Loading emails…';
      }
      webinar = w;
      load();
    },
    // The periodic refresh while the panel is open.
    poll() {
      if (webinar && !dialog.open) load({ quiet: true });
    },
    reset() {
      webinar = null;
      loadSeq += 1;
      opener = null;
      closeView();
      emails = [];
      lastJson = '';
      clear(rows);
      clear(empty);
      table.hidden = true;
      empty.hidden = true;
      more.hidden = true;
      transport.hidden = true;
      summary.textContent = '';
      status.textContent = '';
    },
  };
}
