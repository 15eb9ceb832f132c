// Organizer's "Bonus drops" section (ids dm-*), on the live room page and in the console's Bonus
// drops tab: every drop of the webinar with its state, effective release time, audience and opened
// count; a form that creates a drop or edits a scheduled one (release now / at a local date and
// time / relative to a session, audience, optional file upload with progress); delete for scheduled
// drops. API errors go next to their field (error.field) with focus moved there, or into a
// form-level alert. The section's markup lives here only; the page gives an empty slot.
import { request, errorOf, NetworkError } from '/assets/api.js';
import { el, clear, focusRegion } from '/assets/dom.js';
import { shortDateTime, parseTime, viewerTimeZone } from '/assets/format.js';
import { humanSize } from '/assets/drops.js';

const pad = (n) => String(n).padStart(2, '0');

// "2026-12-03T14:30" in the browser's zone, for <input type="datetime-local">.
function localInputValue(date) {
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

// The preset of "at a date and time": the next full hour.
function nextFullHour() {
  const d = new Date(Date.now() + 3_600_000);
  d.setMinutes(0, 0, 0);
  return d;
}

// "Session 2 (Dec 4, 7 PM EST)": short enough for a phone-wide <select>.
const optionFormat = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit', timeZoneName: 'short' });
const optionFormatHour = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: 'numeric', timeZoneName: 'short' });

function sessionLabel(session, index) {
  const number = Number.isFinite(session.number) ? session.number : index + 1;
  const start = parseTime(session.starts_at);
  return { number, label: start ? `Session ${number} (${(start.getMinutes() ? optionFormat : optionFormatHour).format(start)})` : `Session ${number}` };
}

function audienceText(drop) {
  const n = drop.audience_session ?? (drop.release && typeof drop.release === 'object' ? drop.release.session : null);
  if (drop.audience === 'attended') return n ? `Those who attended session ${n}` : 'Those who attended';
  if (drop.audience === 'missed') return n ? `Those who missed session ${n}` : 'Those who missed';
  return 'Everyone registered';
}

function relativeText(release) {
  if (!release || typeof release !== 'object' || !Number.isFinite(release.session)) return '';
  const m = Number(release.offset_minutes) || 0;
  if (m === 0) return `at the start of session ${release.session}`;
  const abs = Math.abs(m);
  const amount = abs % 60 === 0 ? `${abs / 60} h` : `${abs} min`;
  return `${amount} ${m < 0 ? 'before' : 'after'} the start of session ${release.session}`;
}

function openedText(n) {
  const count = Number.isFinite(n) ? n : 0;
  return count === 1 ? 'Opened by 1 person' : `Opened by ${count} people`;
}

// The manager as a detached <section>, its heading at `level` and the form's one below. Static
// markup only: nothing from the server is parsed as HTML.
function dropSection(level) {
  const h = `h${level}`;
  const hForm = `h${level + 1}`;
  const template = document.createElement('template');
  template.innerHTML = `
<section id="drop-manager" class="drop-manager" aria-labelledby="dm-heading">
  <${h} id="dm-heading">Bonus drops</${h}>
  <p id="dm-list-status" class="loading" role="status">Loading drops…</p>
  <p id="dm-empty" class="drops-empty" hidden>No drops yet. Create the first one below.</p>
  <ol id="dm-list" class="dm-list" aria-labelledby="dm-heading"></ol>
  <p id="dm-status" class="dm-status" role="status"></p>

  <form id="dm-form" class="card dm-form" novalidate aria-labelledby="dm-form-heading">
    <${hForm} id="dm-form-heading" tabindex="-1">New drop</${hForm}>
    <div class="field">
      <label for="dm-title">Title</label>
      <input id="dm-title" name="title" type="text" required maxlength="200" autocomplete="off">
      <span id="dm-title-error" class="field-error"></span>
    </div>
    <div class="field">
      <label for="dm-body">Text <span class="optional">(optional)</span></label>
      <textarea id="dm-body" name="body" rows="5" maxlength="5000" aria-describedby="dm-body-hint"></textarea>
      <span id="dm-body-hint" class="hint">**bold**, *italic*, lines starting with “- ” for a list, [link text](https://…)</span>
      <span id="dm-body-error" class="field-error"></span>
    </div>
    <div class="field">
      <label for="dm-url">Link <span class="optional">(optional)</span></label>
      <input id="dm-url" name="url" type="url" inputmode="url" maxlength="2000" placeholder="https://" autocomplete="off">
      <span id="dm-url-error" class="field-error"></span>
    </div>
    <div class="field">
      <label for="dm-file">File <span class="optional">(optional)</span></label>
      <input id="dm-file" name="file" type="file" aria-describedby="dm-file-hint">
      <span id="dm-file-hint" class="hint">Registrants get a download link. Choosing a file for a drop that has one replaces it.</span>
      <span id="dm-file-error" class="field-error"></span>
    </div>

    <fieldset class="field choice" id="dm-release">
      <legend>Release</legend>
      <div class="radio"><input type="radio" name="release" id="dm-release-now" value="now" checked><label for="dm-release-now">Now</label></div>
      <div class="radio"><input type="radio" name="release" id="dm-release-at" value="at"><label for="dm-release-at">At a date and time</label></div>
      <div class="choice-detail" id="dm-at-fields" hidden>
        <label for="dm-at">Date and time</label>
        <input id="dm-at" name="release_at" type="datetime-local" aria-describedby="dm-at-zone">
        <span id="dm-at-zone" class="hint"></span>
      </div>
      <div class="radio"><input type="radio" name="release" id="dm-release-session" value="session"><label for="dm-release-session">Relative to a session</label></div>
      <div class="choice-detail" id="dm-session-fields" hidden>
        <div class="inline-fields">
          <div>
            <label for="dm-offset">Minutes</label>
            <input id="dm-offset" name="offset_minutes" type="number" inputmode="numeric" min="0" max="10080" step="1" value="0">
          </div>
          <div>
            <label for="dm-offset-dir">Before or after</label>
            <select id="dm-offset-dir" name="offset_direction" aria-describedby="dm-offset-hint">
              <option value="after">after</option>
              <option value="before">before</option>
            </select>
          </div>
          <div>
            <label for="dm-session">Session</label>
            <select id="dm-session" name="session"></select>
          </div>
        </div>
        <span id="dm-offset-hint" class="hint">Counted from the session's start.</span>
      </div>
      <span id="dm-release-error" class="field-error"></span>
    </fieldset>

    <fieldset class="field choice" id="dm-audience">
      <legend>Audience</legend>
      <div class="radio"><input type="radio" name="audience" id="dm-audience-all" value="all" checked><label for="dm-audience-all">Everyone registered</label></div>
      <div class="radio"><input type="radio" name="audience" id="dm-audience-attended" value="attended"><label for="dm-audience-attended">Those who attended a session</label></div>
      <div class="radio"><input type="radio" name="audience" id="dm-audience-missed" value="missed"><label for="dm-audience-missed">Those who missed a session</label></div>
      <div class="choice-detail" id="dm-audience-fields" hidden>
        <label for="dm-audience-session">Which session</label>
        <select id="dm-audience-session" name="audience_session"></select>
      </div>
      <span id="dm-audience-error" class="field-error"></span>
    </fieldset>

    <div id="dm-progress-row" class="dm-progress" hidden>
      <label for="dm-progress">Uploading the file</label>
      <progress id="dm-progress" max="100" value="0"></progress>
    </div>
    <p id="dm-form-error" class="notice error" role="alert" tabindex="-1" hidden></p>
    <div class="actions">
      <button type="submit" id="dm-submit" class="button">Create drop</button>
      <button type="button" id="dm-cancel-edit" class="button secondary" hidden>Cancel editing</button>
    </div>
  </form>
</section>`;
  return template.content.firstElementChild;
}

// Puts a fresh section into `slot` (replacing whatever was there) and runs it; destroy() removes it.
// Requests go with the console's session cookie; the pages pass no `token` (a bearer token, optional).
// `headingLevel`: 2 on the room page, 3 in a console tab panel.
// In the organizer's room (live.js hands the mounted manager in as room.page.dropManager), the
// manager follows the room (live-room.js): each hello and each released drop refreshes its list.
export const roomModule = {
  mount(room) {
    if (!room.organizer) return;
    room.on('hello', () => room.page.dropManager?.refresh());
    room.on('drop', (frame) => { if (frame.drop && typeof frame.drop === 'object') room.page.dropManager?.refresh(); });
  },
};

export function mountDropManager(slot, { webinarId, token, sessions, headingLevel = 2 }) {
  const section = dropSection(headingLevel === 3 ? 3 : 2);
  slot.replaceChildren(section);
  const $ = (id) => section.querySelector(`#${id}`);
  const listNode = $('dm-list');
  const listStatus = $('dm-list-status');
  const status = $('dm-status');
  const form = $('dm-form');
  const submit = $('dm-submit');
  const cancelEdit = $('dm-cancel-edit');
  const formError = $('dm-form-error');
  const progressRow = $('dm-progress-row');
  const progress = $('dm-progress');
  const sessionList = (Array.isArray(sessions) ? sessions : []).map(sessionLabel);

  // Each has an error span `${base}-error` next to its control(s).
  const FIELD_ERRORS = ['dm-title', 'dm-body', 'dm-url', 'dm-file', 'dm-release', 'dm-audience'];
  let drops = [];
  let editing = null; // the organizer drop being edited
  let busy = false;
  let loadSeq = 0;
  let destroyed = false;

  for (const select of [$('dm-session'), $('dm-audience-session')]) {
    clear(select).append(...sessionList.map((s) => el('option', { value: String(s.number) }, s.label)));
  }
  const zone = viewerTimeZone();
  $('dm-at-zone').textContent = zone ? `In your time zone (${zone}).` : 'In your time zone.';
  if (!sessionList.length) {
    $('dm-release-session').disabled = true;
    $('dm-audience-attended').disabled = true;
    $('dm-audience-missed').disabled = true;
  }

  const checked = (name) => form.querySelector(`input[name="${name}"]:checked`)?.value;

  function syncChoices() {
    const release = checked('release');
    $('dm-at-fields').hidden = release !== 'at';
    $('dm-session-fields').hidden = release !== 'session';
    const audience = checked('audience');
    $('dm-audience-fields').hidden = audience === 'all';
  }

  // ---- list ----

  function dropItem(drop) {
    const released = drop.state === 'released';
    const stateClass = released ? 'released' : 'scheduled';
    const stateText = { released: 'Released', scheduled: 'Scheduled', draft: 'Draft' }[drop.state] ?? 'Scheduled';
    const when = released ? drop.released_at ?? drop.release_at : drop.release_at;
    const relative = relativeText(drop.release);
    const title = String(drop.title ?? '');
    const file = drop.file && typeof drop.file === 'object' ? drop.file : null;
    const item = el('li', { class: `dm-item ${stateClass}`, dataset: { id: String(drop.id) } },
      el('div', { class: 'dm-item-head' },
        el('h3', { class: 'dm-item-title' }, title),
        el('span', { class: `dm-state ${stateClass}` }, stateText)),
      el('p', { class: 'dm-when' },
        released ? 'Released ' : 'Releases ',
        parseTime(when) ? el('time', { datetime: when }, shortDateTime(when)) : 'when a release time is set',
        relative ? ` (${relative})` : ''),
      el('p', { class: 'dm-facts' },
        el('span', {}, audienceText(drop)),
        el('span', { class: 'dm-opened' }, openedText(drop.opened))),
      file ? el('p', { class: 'dm-facts' }, `File: ${String(file.name ?? '')}${Number.isFinite(file.size) ? ` (${humanSize(file.size)})` : ''}`) : null,
      typeof drop.url === 'string' && drop.url ? el('p', { class: 'dm-facts dm-url' }, `Link: ${drop.url}`) : null,
      drop.warning === 'session_removed'
        ? el('p', { class: 'notice error dm-warning', role: 'note', dataset: { testid: 'drop-warning' } },
          `Session ${Number(drop.release?.session) || ''} no longer exists, so this drop will not be released. Edit it and pick another session or a time.`)
        : null);
    if (!released) {
      const edit = el('button', { type: 'button', class: 'chat-tool', 'aria-label': `Edit ${title}` }, 'Edit');
      edit.addEventListener('click', () => startEdit(drop));
      const del = el('button', { type: 'button', class: 'chat-tool danger', 'aria-label': `Delete ${title}` }, 'Delete');
      del.addEventListener('click', () => deleteDrop(drop, del));
      del.addEventListener('blur', () => resetDelete(del, title));
      item.append(el('div', { class: 'chat-tools' }, edit, del));
    }
    return item;
  }

  function renderList() {
    clear(listNode).append(...drops.map(dropItem));
    $('dm-empty').hidden = drops.length > 0;
  }

  async function refresh() {
    const mine = ++loadSeq;
    let res = null;
    try {
      res = await request('GET', `/api/webinars/${webinarId}/drops`, { token });
    } catch (err) {
      if (!(err instanceof NetworkError)) throw err;
    }
    if (destroyed || mine !== loadSeq) return;
    if (!res || res.status !== 200 || !Array.isArray(res.data?.drops)) {
      listStatus.textContent = res ? 'The drops could not be loaded. Reload the page to try again.' : 'We could not reach the server to load the drops.';
      listStatus.hidden = false;
      return;
    }
    listStatus.hidden = true;
    drops = res.data.drops;
    // A drop being edited that got released meanwhile can no longer be changed.
    if (editing) {
      const now = drops.find((d) => String(d.id) === String(editing.id));
      if (!now || now.state === 'released') {
        stopEdit();
        say(now ? `“${String(now.title ?? '')}” was released, so it can no longer be edited.` : 'The drop you were editing is gone.');
      }
    }
    renderList();
  }

  function say(text) {
    status.textContent = text;
  }

  function resetDelete(button, title) {
    if (button.dataset.confirm !== 'yes') return;
    delete button.dataset.confirm;
    button.textContent = 'Delete';
    button.setAttribute('aria-label', `Delete ${title}`);
  }

  // Two clicks, like the chat's ban: the first one asks.
  async function deleteDrop(drop, button) {
    const title = String(drop.title ?? '');
    if (button.dataset.confirm !== 'yes') {
      button.dataset.confirm = 'yes';
      button.textContent = 'Confirm delete';
      button.setAttribute('aria-label', `Confirm: delete ${title}`);
      return;
    }
    resetDelete(button, title);
    button.disabled = true;
    let res = null;
    try {
      res = await request('DELETE', `/api/webinars/${webinarId}/drops/${drop.id}`, { token });
    } catch (err) {
      if (!(err instanceof NetworkError)) throw err;
    }
    button.disabled = false;
    if (res && (res.status === 204 || res.status === 404)) {
      if (editing && String(editing.id) === String(drop.id)) stopEdit();
      say(`“${title}” deleted.`);
    } else if (res && res.status === 409) {
      say(`“${title}” was already released and cannot be deleted.`);
    } else {
      say(`“${title}” was not deleted. Please try again.`);
    }
    await refresh();
    focusRegion($('dm-heading'));
  }

  // ---- form ----

  function describedBy(control, errorId, on) {
    const ids = (control.getAttribute('aria-describedby') || '').split(/\s+/).filter((x) => x && x !== errorId);
    if (on) ids.unshift(errorId);
    if (ids.length) control.setAttribute('aria-describedby', ids.join(' '));
    else control.removeAttribute('aria-describedby');
  }

  function clearErrors() {
    for (const base of FIELD_ERRORS) $(`${base}-error`).textContent = '';
    for (const control of form.querySelectorAll('[aria-invalid]')) {
      control.removeAttribute('aria-invalid');
      for (const base of FIELD_ERRORS) describedBy(control, `${base}-error`, false);
    }
    formError.hidden = true;
    formError.textContent = '';
  }

  function fieldError(base, control, message) {
    const text = String(message || 'Please check this field.');
    $(`${base}-error`).textContent = text.charAt(0).toUpperCase() + text.slice(1);
    control.setAttribute('aria-invalid', 'true');
    describedBy(control, `${base}-error`, true);
    control.focus();
  }

  // Adds to a note already shown for this submit (e.g. "the drop is saved but not released").
  function formLevelError(message) {
    formError.textContent = formError.hidden || !formError.textContent ? message : `${formError.textContent} ${message}`;
    formError.hidden = false;
    formError.focus();
  }

  // error.field from the API → where it is shown.
  function showApiError(res, what) {
    const error = errorOf(res?.data);
    const field = typeof error.field === 'string' ? error.field : '';
    const message = typeof error.message === 'string' && error.message ? error.message : '';
    const release = checked('release');
    if (field === 'title') return fieldError('dm-title', $('dm-title'), message);
    if (field === 'body') return fieldError('dm-body', $('dm-body'), message);
    if (field === 'url') return fieldError('dm-url', $('dm-url'), message);
    if (field === 'filename' || field === 'file') return fieldError('dm-file', $('dm-file'), message);
    if (field === 'release_at' && release === 'at') return fieldError('dm-release', $('dm-at'), message);
    if (field.startsWith('release')) {
      let control = form.querySelector('input[name="release"]:checked');
      if (release === 'session') control = /offset/.test(field) ? $('dm-offset') : $('dm-session');
      if (release === 'at') control = $('dm-at');
      return fieldError('dm-release', control, message);
    }
    if (field === 'audience_session') {
      const control = checked('audience') === 'all' ? $('dm-session') : $('dm-audience-session');
      return fieldError(checked('audience') === 'all' ? 'dm-release' : 'dm-audience', control, message);
    }
    if (field.startsWith('audience')) return fieldError('dm-audience', form.querySelector('input[name="audience"]:checked'), message);
    if (res?.status === 413) return fieldError('dm-file', $('dm-file'), 'This file is too large to upload.');
    if (res?.status === 409) return formLevelError(`${what}: the drop was already released, so it can no longer be changed.`);
    if (res?.status === 401 || res?.status === 403) return formLevelError(`${what}: your organizer login is not valid any more.`);
    if (!res) return formLevelError(`${what}: we could not reach the server. Please check your connection and try again.`);
    return formLevelError(`${what}: ${message || 'something went wrong. Please try again.'}`);
  }

  // The release part of a create/PATCH body, or an error to show before anything is sent.
  function releaseFields() {
    const mode = checked('release');
    if (mode === 'at') {
      const value = $('dm-at').value;
      // datetime-local has no zone: new Date() reads it in the browser's zone, the API gets UTC.
      const at = value ? new Date(value) : null;
      if (!at || Number.isNaN(at.getTime())) return { error: ['dm-release', $('dm-at'), 'Choose the date and time of the release.'] };
      return { fields: { release_at: at.toISOString().replace(/\.\d{3}Z$/, 'Z') } };
    }
    if (mode === 'session') {
      const session = Number($('dm-session').value);
      const minutes = Number($('dm-offset').value || 0);
      if (!Number.isInteger(minutes) || minutes < 0 || minutes > 10080) {
        return { error: ['dm-release', $('dm-offset'), 'Minutes must be a whole number from 0 to 10080 (one week).'] };
      }
      const sign = $('dm-offset-dir').value === 'before' ? -1 : 1;
      return { fields: { release: { session, offset_minutes: sign * minutes } } };
    }
    return { fields: { release: 'now' } };
  }

  function contentFields() {
    const fields = { title: $('dm-title').value.trim(), body: $('dm-body').value };
    const url = $('dm-url').value.trim();
    if (url) fields.url = url;
    else if (editing && editing.url) fields.url = null;
    const audience = checked('audience');
    fields.audience = audience;
    if (audience !== 'all') fields.audience_session = Number($('dm-audience-session').value);
    return fields;
  }

  function setBusy(on, label) {
    busy = on;
    submit.disabled = on;
    cancelEdit.disabled = on;
    if (on) form.setAttribute('aria-busy', 'true');
    else form.removeAttribute('aria-busy');
    submit.textContent = on ? label : (editing ? 'Save changes' : 'Create drop');
  }

  function showProgress(fraction) {
    progressRow.hidden = fraction === null;
    if (fraction !== null) {
      progress.value = Math.round(fraction * 100);
      progress.textContent = `${Math.round(fraction * 100)}%`;
      submit.textContent = `Uploading… ${Math.round(fraction * 100)}%`;
    }
  }

  // fetch() cannot report upload progress; XMLHttpRequest can.
  function uploadFile(dropId, file) {
    return new Promise((resolve) => {
      const xhr = new XMLHttpRequest();
      xhr.open('PUT', `/api/webinars/${webinarId}/drops/${dropId}/file?filename=${encodeURIComponent(file.name)}`);
      // Without a token the console's session cookie authenticates (same origin, sent by default).
      if (token) xhr.setRequestHeader('authorization', `Bearer ${token}`);
      xhr.setRequestHeader('content-type', file.type || 'application/octet-stream');
      xhr.setRequestHeader('accept', 'application/json');
      xhr.upload.addEventListener('progress', (e) => { if (e.lengthComputable && e.total) showProgress(e.loaded / e.total); });
      xhr.addEventListener('load', () => {
        let data = null;
        if ((xhr.getResponseHeader('content-type') || '').includes('application/json')) {
          try { data = JSON.parse(xhr.responseText); } catch { data = null; }
        }
        resolve({ status: xhr.status, data });
      });
      xhr.addEventListener('error', () => resolve(null));
      xhr.addEventListener('abort', () => resolve(null));
      showProgress(0);
      xhr.send(file);
    });
  }

  async function send(method, path, body) {
    try {
      return await request(method, path, { token, body });
    } catch (err) {
      if (!(err instanceof NetworkError)) throw err;
      return null;
    }
  }

  async function onSubmit(event) {
    event.preventDefault();
    if (busy) return;
    clearErrors();
    say('');
    const content = contentFields();
    if (!content.title) return fieldError('dm-title', $('dm-title'), 'Give the drop a title.');
    const release = releaseFields();
    if (release.error) return fieldError(...release.error);
    const file = $('dm-file').files?.[0] ?? null;
    const isNew = !editing;

    setBusy(true, isNew ? 'Creating…' : 'Saving…');
    try {
      let drop = editing;
      if (isNew) {
        // With a file, created as a draft (no release), so it gets its file before its release:
        // the API refuses a file for a released drop, and a failed upload must not release it bare.
        const body = file ? { ...content } : { ...content, ...release.fields };
        const res = await send('POST', `/api/webinars/${webinarId}/drops`, body);
        if (!res || res.status !== 201 || !res.data) return showApiError(res, 'The drop was not created');
        drop = res.data;
        if (!file) return done(drop, { isNew, file, now: release.fields.release === 'now' });
        // From here on the drop exists (a draft): whatever fails next is fixed by editing it.
        startEdit(drop, { keepValues: true });
      }
      if (file) {
        const up = await uploadFile(drop.id, file);
        if (!up || up.status !== 200) {
          if (isNew) {
            formError.textContent = 'The drop is saved but not released, because its file did not upload. Choose the file again and save, or delete the drop.';
            formError.hidden = false;
          }
          return showApiError(up, 'The file was not uploaded');
        }
        $('dm-file').value = '';
      }
      const res = await send('PATCH', `/api/webinars/${webinarId}/drops/${drop.id}`, { ...content, ...release.fields });
      if (!res || res.status !== 200 || !res.data) {
        if (isNew) {
          formError.textContent = 'The drop and its file are saved but not released yet: fix the release below and save.';
          formError.hidden = false;
        }
        return showApiError(res, 'The release was not saved');
      }
      return done(res.data, { isNew, file, now: release.fields.release === 'now' });
    } finally {
      showProgress(null);
      setBusy(false);
      refresh();
    }
  }

  // "now" is released by the server's scheduler a moment after the answer, which may still say scheduled.
  function done(drop, { isNew, file, now }) {
    stopEdit();
    const title = String(drop.title ?? '');
    const when = now || drop.state === 'released' ? 'released now' : `releases ${shortDateTime(drop.release_at)}`;
    say(`${isNew ? 'Created' : 'Saved'} “${title}”${file ? ` with ${file.name}` : ''} — ${when}.`);
  }

  function resetForm() {
    form.reset();
    $('dm-offset').value = '0';
    $('dm-at').value = localInputValue(nextFullHour());
    clearErrors();
    syncChoices();
  }

  function startEdit(drop, { keepValues = false } = {}) {
    editing = drop;
    if (!keepValues) {
      resetForm();
      $('dm-title').value = String(drop.title ?? '');
      $('dm-body').value = String(drop.body ?? '');
      $('dm-url').value = typeof drop.url === 'string' ? drop.url : '';
      const release = drop.release && typeof drop.release === 'object' ? drop.release : {};
      if (Number.isFinite(release.session)) {
        $('dm-release-session').checked = true;
        $('dm-session').value = String(release.session);
        $('dm-offset').value = String(Math.abs(Number(release.offset_minutes) || 0));
        $('dm-offset-dir').value = Number(release.offset_minutes) < 0 ? 'before' : 'after';
      } else {
        $('dm-release-at').checked = true;
        const at = parseTime(release.at ?? drop.release_at);
        $('dm-at').value = at ? localInputValue(at) : '';
      }
      const audience = ['all', 'attended', 'missed'].includes(drop.audience) ? drop.audience : 'all';
      $(`dm-audience-${audience}`).checked = true;
      const audienceSession = drop.audience_session ?? release.session;
      if (audienceSession) $('dm-audience-session').value = String(audienceSession);
      syncChoices();
    }
    $('dm-form-heading').textContent = `Edit drop: ${String(drop.title ?? '')}`;
    const file = drop.file && typeof drop.file === 'object' ? drop.file : null;
    $('dm-file-hint').textContent = file
      ? `Current file: ${String(file.name ?? '')} (${humanSize(file.size)}). Choose another file to replace it.`
      : 'Registrants get a download link.';
    submit.textContent = 'Save changes';
    cancelEdit.hidden = false;
    if (!keepValues) {
      form.scrollIntoView({ block: 'start' });
      $('dm-title').focus();
    }
  }

  function stopEdit() {
    editing = null;
    resetForm();
    $('dm-form-heading').textContent = 'New drop';
    $('dm-file-hint').textContent = 'Registrants get a download link. Choosing a file for a drop that has one replaces it.';
    submit.textContent = 'Create drop';
    cancelEdit.hidden = true;
  }

  const onChange = (e) => { if (e.target.name === 'release' || e.target.name === 'audience') syncChoices(); };
  const onCancelEdit = () => {
    stopEdit();
    say('Editing cancelled.');
    focusRegion($('dm-form-heading'));
  };
  form.addEventListener('submit', onSubmit);
  form.addEventListener('change', onChange);
  cancelEdit.addEventListener('click', onCancelEdit);
  resetForm();
  refresh();

  return {
    refresh() { if (!destroyed) refresh(); },
    // The console mounts a manager per series: the old one stops listening and loading.
    destroy() {
      destroyed = true;
      form.removeEventListener('submit', onSubmit);
      form.removeEventListener('change', onChange);
      cancelEdit.removeEventListener('click', onCancelEdit);
      section.remove();
    },
  };
}
