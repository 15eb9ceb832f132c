// Console "Recordings" panel: every recording of the series (oldest first, as the API lists them)
// with its session, start, duration and size in segments; delete asks first (two clicks).
import { el, clear, focusRegion } from '/assets/dom.js';
import { shortDateTime, parseTime } from '/assets/format.js';
import { api, problem, twoStep } from '/assets/console-common.js';

const $ = (id) => document.getElementById(id);

// 3725000 ms → "1 h 2 min 5 s"; under a minute "42 s".
export function durationText(ms) {
  const total = Math.max(0, Math.round((Number(ms) || 0) / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const parts = [];
  if (h) parts.push(`${h} h`);
  if (m || h) parts.push(`${m} min`);
  if (!h) parts.push(`${s} s`);
  return parts.join(' ');
}

export function mountRecordings({ announce }) {
  const list = $('rec-list');
  const status = $('rec-status');
  const empty = $('rec-empty');
  let webinar = null;
  let loadSeq = 0;

  function item(rec) {
    const label = Number.isFinite(rec.session) ? `Session ${rec.session}` : 'Stream outside a session';
    const what = Number.isFinite(rec.session) ? `session ${rec.session}` : 'a stream outside a session';
    const live = !parseTime(rec.ended_at);
    const del = el('button', { type: 'button', class: 'chat-tool danger', 'data-testid': 'recording-delete', 'aria-label': `Delete the recording of ${what}` }, 'Delete');
    twoStep(del, {
      label: 'Delete',
      confirmLabel: 'Confirm delete',
      ariaLabel: `Delete the recording of ${what}`,
      confirmAriaLabel: `Confirm: delete the recording of ${what} for good`,
    }, () => remove(rec, what, del));
    return el('li', { class: 'rec-item', 'data-testid': 'recording-item', dataset: { id: String(rec.id) } },
      el('div', { class: 'rec-head' },
        el('h4', { class: 'rec-title' }, label),
        live ? el('span', { class: 'dm-state scheduled' }, 'Recording now') : null),
      el('p', { class: 'dm-facts' },
        el('span', {}, 'Started ', parseTime(rec.started_at) ? el('time', { datetime: rec.started_at }, shortDateTime(rec.started_at)) : '—'),
        el('span', {}, `Duration ${durationText(rec.duration_ms)}`),
        Number.isFinite(rec.segments) ? el('span', {}, `${rec.segments} segments`) : null),
      live ? null : el('div', { class: 'chat-tools' }, del));
  }

  async function remove(rec, what, button) {
    button.disabled = true;
    const res = await api('DELETE', `/api/webinars/${webinar.id}/recordings/${rec.id}`);
    button.disabled = false;
    if (res && (res.status === 204 || res.status === 404)) {
      announce(`The recording of ${what} was deleted.`);
      await load();
      focusRegion($('rec-heading'));
      return;
    }
    if (res?.status === 401) return;
    status.textContent = res?.status === 409
      ? 'This recording is still being written (the stream is live). Delete it after the stream ends.'
      : problem(res, 'The recording was not deleted');
  }

  async function load() {
    if (!webinar) return;
    const mine = ++loadSeq;
    const res = await api('GET', `/api/webinars/${webinar.id}/recordings`);
    if (mine !== loadSeq) return;
    if (!res || res.status !== 200 || !Array.isArray(res.data?.recordings)) {
      if (res?.status === 401) return;
      status.textContent = problem(res, 'The recordings could not be loaded');
      return;
    }
    const recs = res.data.recordings;
    clear(list).append(...recs.map(item));
    status.textContent = '';
    empty.hidden = recs.length > 0;
  }

  return {
    show(w) {
      if (!webinar || String(webinar.id) !== String(w.id)) {
        clear(list);
        empty.hidden = true;
        status.textContent = 'Loading recordings…';
      }
      webinar = w;
      load();
    },
    reset() {
      webinar = null;
      loadSeq += 1;
      clear(list);
      empty.hidden = true;
      status.textContent = '';
    },
  };
}
