// Console: the list of webinar series, the create/edit form (title, description, capacity, and a
// schedule of weekly sessions or explicit dates entered in the viewer's local time and sent as UTC),
// and the selected series' header: counts, signup link, its sessions (each can be moved: a PATCH
// with the whole sessions list, so drops anchored to a session move with it), edit and delete.
import { el, clear, focusRegion } from '/assets/dom.js';
import { shortDateTime, sessionParts, parseTime } from '/assets/format.js';
import {
  api, problem, errorOf, capitalize, localInputValue, utcFromLocalInput, zoneHint, zoneNote, intFrom, copyText,
} from '/assets/console-common.js';

const $ = (id) => document.getElementById(id);
const DEFAULT_DURATION = 60;

function countsText(w) {
  const parts = [`${w.registered ?? 0} registered`];
  if (w.waitlisted) parts.push(`${w.waitlisted} on the waitlist`);
  if (w.capacity === null || w.capacity === undefined) parts.push('unlimited seats');
  else parts.push(w.seats_left === 1 ? '1 seat left' : `${w.seats_left ?? 0} seats left of ${w.capacity}`);
  return parts.join(' · ');
}

function nextText(w) {
  const sessions = Array.isArray(w.sessions) ? w.sessions : [];
  if (!sessions.length) return 'No sessions scheduled';
  if (w.next_session_at) return `Next: ${shortDateTime(w.next_session_at)}`;
  return `All ${sessions.length === 1 ? 'sessions' : `${sessions.length} sessions`} held`;
}

const listCountsText = (w) => `${w.registered ?? 0} registered${w.waitlisted ? `, ${w.waitlisted} waitlisted` : ''}`;

const sessionInput = (s) => ({ starts_at: s.starts_at, duration_minutes: s.duration_minutes });

export function mountSeries({ announce, onSelect, onChange, onDeleted }) {
  const list = $('series-list');
  const listStatus = $('series-list-status');
  const formSection = $('series-form-section');
  const form = $('series-form');
  const formHeading = $('series-form-heading');
  const formError = $('series-form-error');
  const save = $('series-save');
  const detail = $('series-detail');
  const placeholder = $('series-placeholder');
  const datesList = $('series-dates');

  let webinars = [];
  let selected = null; // the webinar shown in the detail
  let editing = null; // null: the form is closed; 'new'; or the webinar being edited
  let busy = false;
  let selectSeq = 0;

  $('series-zone-hint').textContent = zoneHint();
  $('detail-tz-note').textContent = zoneNote();

  // ---- list ----

  function renderList() {
    clear(list);
    for (const w of webinars) {
      const current = selected && String(selected.id) === String(w.id);
      const button = el('button', {
        type: 'button',
        class: 'series-item',
        'data-testid': 'series-item',
        'data-series-id': String(w.id),
        'aria-current': current ? 'true' : null,
      },
      el('span', { class: 'series-item-title' }, String(w.title ?? '')),
      el('span', { class: 'series-item-meta' }, nextText(w)),
      el('span', { class: 'series-item-meta series-item-counts' }, listCountsText(w)));
      button.addEventListener('click', () => select(w.id, { focus: true }));
      list.append(el('li', {}, button));
    }
    listStatus.textContent = webinars.length ? '' : 'No webinar series yet. Create the first one with “New series”.';
    listStatus.hidden = webinars.length > 0;
    listStatus.classList.remove('loading');
  }

  async function loadList() {
    const res = await api('GET', '/api/webinars');
    if (!res || res.status !== 200 || !Array.isArray(res.data?.webinars)) {
      if (res?.status === 401) return false;
      listStatus.hidden = false;
      listStatus.classList.remove('loading');
      listStatus.textContent = problem(res, 'The series could not be loaded');
      return false;
    }
    webinars = res.data.webinars;
    renderList();
    return true;
  }

  // ---- detail ----

  function renderDetail() {
    const w = selected;
    $('detail-title').textContent = String(w.title ?? '');
    $('detail-meta').textContent = countsText(w);
    const signup = `${location.origin}/w/${w.id}`;
    const link = $('detail-signup');
    link.href = `/w/${w.id}`;
    link.textContent = signup;
    $('detail-copy-status').textContent = '';
    renderSessions();
    closeDeleteConfirm(false);
    placeholder.hidden = true;
    detail.hidden = false;
    document.title = `${String(w.title ?? 'Series')} — Cohort organizer console`;
  }

  function renderSessions() {
    const sessions = Array.isArray(selected.sessions) ? selected.sessions : [];
    const ol = clear($('detail-sessions'));
    $('detail-sessions-empty').hidden = sessions.length > 0;
    ol.classList.toggle('many', sessions.length > 6);
    sessions.forEach((s, index) => {
      const parts = sessionParts(s);
      const past = parts.end ? parts.end.getTime() < Date.now() : false;
      const number = Number.isFinite(s.number) ? s.number : index + 1;
      const move = el('button', {
        type: 'button', class: 'chat-tool', 'data-testid': 'session-move', 'aria-label': `Move session ${number}`, 'aria-expanded': 'false',
      }, 'Move');
      const li = el('li', { class: past ? 'past' : null, dataset: { number: String(number) } },
        el('span', { class: 'num', 'aria-hidden': 'true' }, String(number)),
        el('span', { class: 'when-date' },
          el('span', { class: 'visually-hidden' }, `Session ${number}: `),
          el('time', { datetime: s.starts_at }, parts.date)),
        el('span', { class: 'when-time' }, parts.time, past ? ' · already held' : ''),
        el('span', { class: 'session-actions' }, move));
      move.addEventListener('click', () => openMove(li, move, index, number));
      ol.append(li);
    });
  }

  function openMove(li, button, index, number) {
    const open = li.querySelector('.move-form');
    if (open) {
      open.remove();
      button.setAttribute('aria-expanded', 'false');
      return;
    }
    const s = selected.sessions[index];
    const atId = `move-at-${number}`;
    const durationId = `move-duration-${number}`;
    const errorId = `move-error-${number}`;
    const at = el('input', { id: atId, type: 'datetime-local', required: true, 'data-testid': 'session-move-at', 'aria-describedby': `${atId}-hint` });
    at.value = localInputValue(parseTime(s.starts_at));
    const duration = el('input', { id: durationId, type: 'number', inputmode: 'numeric', min: '1', max: '1440', step: '1', required: true });
    duration.value = String(s.duration_minutes ?? DEFAULT_DURATION);
    const saveButton = el('button', { type: 'submit', class: 'button', 'data-testid': 'session-move-save' }, 'Save new time');
    const cancel = el('button', { type: 'button', class: 'button secondary' }, 'Cancel');
    const error = el('p', { id: errorId, class: 'field-error', role: 'alert' });
    const moveForm = el('form', { class: 'move-form', novalidate: true, 'aria-label': `Move session ${number}` },
      el('div', { class: 'inline-fields move-fields' },
        el('div', {},
          el('label', { for: atId }, `New date and time of session ${number}`),
          at,
          el('span', { id: `${atId}-hint`, class: 'hint' }, zoneHint())),
        el('div', {},
          el('label', { for: durationId }, 'Length (minutes)'),
          duration)),
      error,
      el('div', { class: 'actions' }, saveButton, cancel));
    const close = () => {
      moveForm.remove();
      button.setAttribute('aria-expanded', 'false');
      button.focus();
    };
    cancel.addEventListener('click', close);
    moveForm.addEventListener('keydown', (e) => { if (e.key === 'Escape') close(); });
    moveForm.addEventListener('submit', async (event) => {
      event.preventDefault();
      error.textContent = '';
      at.removeAttribute('aria-invalid');
      duration.removeAttribute('aria-invalid');
      const startsAt = utcFromLocalInput(at.value);
      if (!startsAt) {
        error.textContent = 'Choose the new date and time.';
        at.setAttribute('aria-invalid', 'true');
        at.focus();
        return;
      }
      const minutes = intFrom(duration.value, 1, 1440);
      if (Number.isNaN(minutes)) {
        error.textContent = 'The length must be a whole number of minutes from 1 to 1440.';
        duration.setAttribute('aria-invalid', 'true');
        duration.focus();
        return;
      }
      const sessions = selected.sessions.map(sessionInput);
      sessions[index] = { starts_at: startsAt, duration_minutes: minutes };
      saveButton.disabled = true;
      const res = await api('PATCH', `/api/webinars/${selected.id}`, { sessions });
      saveButton.disabled = false;
      if (!res || res.status !== 200 || !res.data) {
        error.textContent = problem(res, 'The session was not moved');
        at.focus();
        return;
      }
      updated(res.data);
      announce(`Session ${number} now starts ${shortDateTime(startsAt)}. Bonus drops timed from it moved with it.`);
      const again = $('detail-sessions').querySelector(`li time[datetime="${startsAt}"]`);
      focusRegion(again?.closest('li')?.querySelector('button') ?? $('detail-sessions-heading'));
    });
    li.append(moveForm);
    button.setAttribute('aria-expanded', 'true');
    at.focus();
  }

  // A PATCH answered with the new webinar: detail, list entry and the panels follow.
  function updated(webinar) {
    selected = webinar;
    const i = webinars.findIndex((w) => String(w.id) === String(webinar.id));
    if (i >= 0) webinars[i] = webinar;
    renderList();
    renderDetail();
    onChange(webinar);
  }

  async function select(id, { focus = false } = {}) {
    const mine = ++selectSeq;
    closeForm(false);
    const res = await api('GET', `/api/webinars/${encodeURIComponent(id)}`);
    if (mine !== selectSeq) return false;
    if (!res || res.status !== 200 || !res.data) {
      if (res?.status === 404) {
        announce('That series no longer exists.');
        await loadList();
      } else if (res?.status !== 401) {
        announce(problem(res, 'The series could not be opened'));
      }
      return false;
    }
    selected = res.data;
    renderList();
    renderDetail();
    onSelect(selected);
    if (focus) focusRegion($('detail-title'));
    return true;
  }

  // ---- delete ----

  function openDeleteConfirm() {
    const n = (selected.registered ?? 0) + (selected.waitlisted ?? 0);
    const people = n === 0 ? 'Its' : n === 1 ? 'Its 1 active registration,' : `Its ${n} active registrations,`;
    const told = n === 0 ? '' : n === 1 ? ' The registrant is emailed that the series is cancelled.' : ` All ${n} are emailed that the series is cancelled.`;
    $('series-delete-text').textContent = `Delete “${String(selected.title ?? '')}”? ${people} chat transcript, bonus drops and recordings are deleted with it.${told} This cannot be undone.`;
    $('series-delete-box').hidden = false;
    $('series-delete').setAttribute('aria-expanded', 'true');
    $('series-delete-error').textContent = '';
    focusRegion($('series-delete-text'));
  }

  function closeDeleteConfirm(focusBack = true) {
    $('series-delete-box').hidden = true;
    $('series-delete').setAttribute('aria-expanded', 'false');
    if (focusBack) $('series-delete').focus();
  }

  async function confirmDelete() {
    const button = $('series-delete-confirm');
    const title = String(selected.title ?? '');
    button.disabled = true;
    const res = await api('DELETE', `/api/webinars/${selected.id}`);
    button.disabled = false;
    if (!res || (res.status !== 204 && res.status !== 404)) {
      $('series-delete-error').textContent = problem(res, 'The series was not deleted');
      return;
    }
    selected = null;
    detail.hidden = true;
    placeholder.hidden = false;
    closeDeleteConfirm(false);
    onDeleted();
    await loadList();
    announce(`“${title}” was deleted.`);
    focusRegion($('series-heading'));
  }

  // ---- form ----

  const mode = () => form.querySelector('input[name="schedule"]:checked')?.value ?? 'weekly';

  function syncMode() {
    $('series-weekly-fields').hidden = mode() !== 'weekly';
    $('series-dates-fields').hidden = mode() !== 'dates';
  }

  function renumberDates() {
    [...datesList.children].forEach((row, i) => {
      row.querySelector('.date-label').textContent = `Session ${i + 1}: date and time`;
      const remove = row.querySelector('.date-remove');
      remove.setAttribute('aria-label', `Remove session ${i + 1}`);
      remove.disabled = datesList.children.length === 1;
    });
  }

  let rowSeq = 0;
  function addDateRow(startsAt = '', minutes = DEFAULT_DURATION, { focus = false } = {}) {
    const n = ++rowSeq;
    const at = el('input', { id: `series-date-${n}`, type: 'datetime-local', class: 'date-at', 'data-testid': 'series-date', required: true });
    at.value = startsAt;
    const duration = el('input', { id: `series-date-duration-${n}`, type: 'number', class: 'date-duration', inputmode: 'numeric', min: '1', max: '1440', step: '1', 'data-testid': 'series-date-duration' });
    duration.value = String(minutes);
    const remove = el('button', { type: 'button', class: 'chat-tool danger date-remove' }, 'Remove');
    const row = el('li', { class: 'date-row' },
      el('div', {}, el('label', { for: at.id, class: 'date-label' }, 'Date and time'), at),
      el('div', {}, el('label', { for: duration.id }, 'Length (minutes)'), duration),
      el('div', { class: 'date-remove-cell' }, remove));
    remove.addEventListener('click', () => {
      const next = row.nextElementSibling ?? row.previousElementSibling;
      row.remove();
      renumberDates();
      (next?.querySelector('.date-at') ?? $('series-add-date')).focus();
    });
    datesList.append(row);
    renumberDates();
    if (focus) at.focus();
  }

  function clearErrors() {
    for (const span of form.querySelectorAll('.field-error')) span.textContent = '';
    for (const control of form.querySelectorAll('[aria-invalid]')) control.removeAttribute('aria-invalid');
    formError.textContent = '';
    formError.hidden = true;
  }

  function fieldError(control, spanId, message) {
    $(spanId).textContent = capitalize(String(message || 'Please check this field.'));
    control.setAttribute('aria-invalid', 'true');
    control.focus();
  }

  function formLevelError(text) {
    formError.textContent = text;
    formError.hidden = false;
    focusRegion(formError);
  }

  function openForm(webinar) {
    editing = webinar ?? 'new';
    const isNew = editing === 'new';
    form.reset();
    clearErrors();
    clear(datesList);
    formHeading.textContent = isNew ? 'New series' : `Edit “${String(webinar.title ?? '')}”`;
    save.textContent = isNew ? 'Create series' : 'Save changes';
    $('series-mode-keep-row').hidden = isNew;
    $('series-weekly-count').value = '6';
    $('series-weekly-duration').value = String(DEFAULT_DURATION);
    if (isNew) {
      $('series-mode-weekly').checked = true;
      addDateRow();
    } else {
      $('series-title').value = String(webinar.title ?? '');
      $('series-description').value = String(webinar.description ?? '');
      $('series-capacity').value = webinar.capacity === null || webinar.capacity === undefined ? '' : String(webinar.capacity);
      $('series-mode-keep').checked = true;
      const sessions = Array.isArray(webinar.sessions) ? webinar.sessions : [];
      for (const s of sessions) addDateRow(localInputValue(parseTime(s.starts_at)), s.duration_minutes ?? DEFAULT_DURATION);
      if (!sessions.length) addDateRow();
      const first = parseTime(sessions[0]?.starts_at);
      if (first) $('series-weekly-first').value = localInputValue(first);
      if (sessions.length) {
        $('series-weekly-count').value = String(Math.min(52, sessions.length));
        $('series-weekly-duration').value = String(sessions[0].duration_minutes ?? DEFAULT_DURATION);
      }
    }
    syncMode();
    formSection.hidden = false;
    detail.hidden = true;
    placeholder.hidden = true;
    $('series-new').setAttribute('aria-expanded', String(isNew));
    formSection.scrollIntoView({ block: 'start' });
    $('series-title').focus();
  }

  function closeForm(restore = true) {
    if (!editing) return;
    const wasNew = editing === 'new';
    editing = null;
    formSection.hidden = true;
    $('series-new').setAttribute('aria-expanded', 'false');
    if (!restore) return;
    if (selected) {
      detail.hidden = false;
      (wasNew ? $('series-new') : $('series-edit')).focus();
    } else {
      placeholder.hidden = false;
      $('series-new').focus();
    }
  }

  // The body of POST/PATCH, or null after showing what to fix.
  function readForm() {
    const isNew = editing === 'new';
    const body = {};
    const title = $('series-title').value.trim();
    if (!title) return fieldError($('series-title'), 'series-title-error', 'Give the series a title.'), null;
    body.title = title;
    body.description = $('series-description').value;
    const capacityText = $('series-capacity').value.trim();
    if (capacityText) {
      const capacity = intFrom(capacityText, 1, 100000);
      if (Number.isNaN(capacity)) return fieldError($('series-capacity'), 'series-capacity-error', 'Seats must be a whole number from 1 to 100000, or empty for unlimited.'), null;
      body.capacity = capacity;
    } else if (!isNew) {
      body.capacity = null;
    }
    if (mode() === 'weekly') {
      const first = utcFromLocalInput($('series-weekly-first').value);
      if (!first) return fieldError($('series-weekly-first'), 'series-weekly-first-error', 'Choose the date and time of the first session.'), null;
      const count = intFrom($('series-weekly-count').value, 1, 52);
      if (Number.isNaN(count)) return fieldError($('series-weekly-count'), 'series-weekly-count-error', 'The number of weeks must be from 1 to 52.'), null;
      const minutes = intFrom($('series-weekly-duration').value, 1, 1440);
      if (Number.isNaN(minutes)) return fieldError($('series-weekly-duration'), 'series-weekly-duration-error', 'The length must be a whole number of minutes from 1 to 1440.'), null;
      body.weekly = { first_starts_at: first, count, duration_minutes: minutes };
    } else if (mode() === 'dates') {
      const rows = [...datesList.children];
      if (!rows.length) return fieldError($('series-add-date'), 'series-dates-error', 'Add at least one date.'), null;
      body.sessions = [];
      for (const [i, row] of rows.entries()) {
        const at = row.querySelector('.date-at');
        const startsAt = utcFromLocalInput(at.value);
        if (!startsAt) return fieldError(at, 'series-dates-error', `Session ${i + 1}: choose a date and time.`), null;
        const durationInput = row.querySelector('.date-duration');
        const minutes = intFrom(durationInput.value, 1, 1440);
        if (Number.isNaN(minutes)) return fieldError(durationInput, 'series-dates-error', `Session ${i + 1}: the length must be a whole number of minutes from 1 to 1440.`), null;
        body.sessions.push({ starts_at: startsAt, duration_minutes: minutes });
      }
    }
    return body;
  }

  // error.field from the API → the control it belongs to.
  function showApiError(res, what) {
    const error = errorOf(res?.data);
    const field = typeof error.field === 'string' ? error.field : '';
    const message = typeof error.message === 'string' && error.message ? error.message : '';
    if (res && (res.status === 422 || res.status === 400) && field) {
      const row = /^sessions\[(\d+)\](?:\.(\w+))?/.exec(field);
      if (row && mode() === 'dates') {
        const i = Number(row[1]);
        const li = datesList.children[i];
        const control = li?.querySelector(row[2] === 'duration_minutes' ? '.date-duration' : '.date-at') ?? $('series-add-date');
        return fieldError(control, 'series-dates-error', `Session ${i + 1}: ${message || 'please check this date.'}`);
      }
      const simple = {
        title: 'series-title',
        description: 'series-description',
        capacity: 'series-capacity',
        'weekly.first_starts_at': 'series-weekly-first',
        'weekly.count': 'series-weekly-count',
        'weekly.duration_minutes': 'series-weekly-duration',
      }[field];
      if (simple) return fieldError($(simple), `${simple}-error`, message);
      if (field === 'sessions' || field === 'weekly' || field.startsWith('weekly')) {
        const control = mode() === 'dates' ? (datesList.querySelector('.date-at') ?? $('series-add-date')) : $('series-weekly-first');
        return fieldError(control, mode() === 'dates' ? 'series-dates-error' : 'series-weekly-first-error', message);
      }
    }
    return formLevelError(problem(res, what));
  }

  async function onSubmit(event) {
    event.preventDefault();
    if (busy) return;
    clearErrors();
    const body = readForm();
    if (!body) return;
    const isNew = editing === 'new';
    busy = true;
    save.disabled = true;
    form.setAttribute('aria-busy', 'true');
    save.textContent = isNew ? 'Creating…' : 'Saving…';
    const res = isNew
      ? await api('POST', '/api/webinars', body)
      : await api('PATCH', `/api/webinars/${editing.id}`, body);
    busy = false;
    save.disabled = false;
    form.removeAttribute('aria-busy');
    save.textContent = isNew ? 'Create series' : 'Save changes';
    const ok = res && (isNew ? res.status === 201 : res.status === 200) && res.data;
    if (!ok) {
      if (res?.status === 401) return;
      showApiError(res, isNew ? 'The series was not created' : 'The changes were not saved');
      return;
    }
    const webinar = res.data;
    editing = null;
    formSection.hidden = true;
    $('series-new').setAttribute('aria-expanded', 'false');
    if (isNew) {
      await loadList();
      await select(webinar.id);
      announce(`Created “${String(webinar.title ?? '')}”. Share the signup link to open registration.`);
    } else {
      updated(webinar);
      announce(`Saved “${String(webinar.title ?? '')}”.`);
    }
    focusRegion($('detail-title'));
  }

  form.addEventListener('submit', onSubmit);
  form.addEventListener('change', (e) => { if (e.target.name === 'schedule') syncMode(); });
  $('series-cancel').addEventListener('click', () => closeForm());
  $('series-add-date').addEventListener('click', () => {
    // A new date defaults to a week after the last one, at the same time.
    const last = [...datesList.querySelectorAll('.date-at')].pop();
    const lastDate = last?.value ? new Date(last.value) : null;
    const next = lastDate && !Number.isNaN(lastDate.getTime()) ? localInputValue(new Date(lastDate.getTime() + 7 * 86_400_000)) : '';
    const lastDuration = [...datesList.querySelectorAll('.date-duration')].pop()?.value || DEFAULT_DURATION;
    addDateRow(next, lastDuration, { focus: true });
  });
  $('series-new').addEventListener('click', () => (editing === 'new' ? closeForm() : openForm(null)));
  $('series-edit').addEventListener('click', () => selected && openForm(selected));
  $('series-delete').addEventListener('click', () => ($('series-delete-box').hidden ? openDeleteConfirm() : closeDeleteConfirm()));
  $('series-delete-keep').addEventListener('click', () => closeDeleteConfirm());
  $('series-delete-confirm').addEventListener('click', confirmDelete);
  $('series-delete-box').addEventListener('keydown', (e) => { if (e.key === 'Escape') closeDeleteConfirm(); });
  $('detail-signup-copy').addEventListener('click', async () => {
    const ok = await copyText($('detail-signup').textContent);
    $('detail-copy-status').textContent = ok ? 'Signup link copied.' : 'The link could not be copied. Select it and copy it by hand.';
  });

  // Counts changed elsewhere (people registered, a registration cancelled): the header and the
  // list entry, changed in place (the list keeps the keyboard focus), without reloading panels.
  // Only the counts: a schedule changed by someone else shows when the series is opened again.
  async function refreshSelected() {
    if (!selected) return;
    const id = selected.id;
    const res = await api('GET', `/api/webinars/${id}`);
    if (!res || res.status !== 200 || !res.data || !selected || String(selected.id) !== String(id)) return;
    const fresh = res.data;
    for (const key of ['registered', 'waitlisted', 'capacity', 'seats_left']) selected[key] = fresh[key];
    const i = webinars.findIndex((w) => String(w.id) === String(id));
    if (i >= 0) {
      for (const key of ['registered', 'waitlisted', 'capacity', 'seats_left', 'next_session_at']) webinars[i][key] = fresh[key];
      const item = list.querySelector(`[data-series-id="${CSS.escape(String(id))}"] .series-item-counts`);
      const text = listCountsText(webinars[i]);
      if (item && item.textContent !== text) item.textContent = text;
    }
    const meta = countsText(selected);
    if ($('detail-meta').textContent !== meta) $('detail-meta').textContent = meta;
  }

  return {
    loadList,
    select,
    refreshSelected,
    get selected() { return selected; },
    reset() {
      webinars = [];
      selected = null;
      editing = null;
      clear(list);
      formSection.hidden = true;
      detail.hidden = true;
      placeholder.hidden = false;
      listStatus.hidden = false;
      listStatus.classList.add('loading');
      listStatus.textContent = 'Loading your series…';
    },
  };
}
