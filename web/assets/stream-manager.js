// Organizer's "Stream" box (ids sm-*), on the live room page and in the console's Stream tab: the
// two OBS "Custom" fields — the RTMP URL and the stream key (masked; Show, Copy, and Rotate behind
// a confirmation) — from GET/POST /api/webinars/{id}/stream-key, and whether the webinar is live
// with how many watch (GET /api/webinars/{id}/stream, polled every 10 s and whenever the chat
// socket reports a change). The box's markup lives here only; the page gives an empty slot.
import { request, NetworkError } from '/assets/api.js';
import { focusRegion, copyText } from '/assets/dom.js';
import { parseTime } from '/assets/format.js';

const POLL_MS = 10_000;
const MASK = '••••••••••••••••';
const timeFormat = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' });

// The box as a detached <section>, its heading at `level`. Static markup only: nothing from the
// server is parsed as HTML.
function streamSection(level) {
  const h = `h${level}`;
  const template = document.createElement('template');
  template.innerHTML = `
<section id="stream-manager" class="stream-manager" aria-labelledby="sm-heading">
  <${h} id="sm-heading">Stream</${h}>
  <p class="sm-live"><span id="sm-state" class="sm-state" role="status" data-live="false">Not live</span> <span id="sm-viewers" class="sm-viewers"></span></p>
  <div class="card sm-card">
    <p class="hint sm-hint">In OBS: Settings → Stream, Service “Custom…”, then paste the server and the stream key below. The room goes live as soon as OBS starts streaming.</p>
    <p id="sm-loading" class="loading">Loading the stream key…</p>
    <div id="sm-none" hidden>
      <p>This webinar has no stream key yet.</p>
      <button type="button" id="sm-create" class="button">Create a stream key</button>
    </div>
    <dl id="sm-fields" class="sm-fields" hidden>
      <div class="sm-row">
        <dt>Server (RTMP URL)</dt>
        <dd>
          <code id="sm-url" class="sm-value"></code>
          <span class="sm-actions"><button type="button" id="sm-copy-url" class="chat-tool" aria-label="Copy the RTMP URL">Copy</button></span>
        </dd>
      </div>
      <div class="sm-row">
        <dt>Stream key</dt>
        <dd>
          <code id="sm-key" class="sm-value masked"></code>
          <span class="sm-actions">
            <button type="button" id="sm-show" class="chat-tool" aria-controls="sm-key">Show</button>
            <button type="button" id="sm-copy-key" class="chat-tool" aria-label="Copy the stream key">Copy</button>
            <button type="button" id="sm-rotate" class="chat-tool danger" aria-expanded="false" aria-controls="sm-confirm" aria-label="Rotate the stream key">Rotate</button>
          </span>
        </dd>
      </div>
    </dl>
    <div id="sm-confirm" class="notice confirm" hidden>
      <p id="sm-confirm-text" tabindex="-1">Rotate the stream key? The current key stops working the next time OBS connects (a stream that is running goes on), so you will need to paste the new key into OBS.</p>
      <div class="actions">
        <button type="button" id="sm-rotate-yes" class="button danger">Yes, rotate the key</button>
        <button type="button" id="sm-rotate-no" class="button secondary">Keep the current key</button>
      </div>
    </div>
    <p id="sm-status" class="sm-status" role="status"></p>
  </div>
</section>`;
  return template.content.firstElementChild;
}

// Puts a fresh box into `slot` (replacing whatever was there) and runs it; destroy() removes it.
// Requests go with the console's session cookie; the pages pass no `token` (a bearer token, optional).
// `headingLevel`: 2 on the room page, 3 in a console tab panel.
// In the organizer's room (live.js hands the mounted box in as room.page.streamBox), the box
// follows the room (live-room.js): a stream started or ended refreshes it.
export const roomModule = {
  mount(room) {
    if (room.organizer) room.on('stream.status', () => room.page.streamBox?.refresh());
  },
};

export function mountStreamManager(slot, { webinarId, token, headingLevel = 2 }) {
  const section = streamSection(headingLevel === 3 ? 3 : 2);
  slot.replaceChildren(section);
  const $ = (id) => section.querySelector(`#${id}`);
  const state = $('sm-state');
  const viewers = $('sm-viewers');
  const loading = $('sm-loading');
  const none = $('sm-none');
  const fields = $('sm-fields');
  const urlNode = $('sm-url');
  const keyNode = $('sm-key');
  const showButton = $('sm-show');
  const rotateButton = $('sm-rotate');
  const confirmBox = $('sm-confirm');
  const status = $('sm-status');
  const base = `/api/webinars/${encodeURIComponent(webinarId)}`;

  let key = null; // { rtmp_url, stream_key }
  let shown = false;
  let pollTimer = null;
  let destroyed = false;
  let statusSeq = 0;

  function say(text) {
    status.textContent = text;
  }

  function renderKey() {
    loading.hidden = true;
    none.hidden = Boolean(key);
    fields.hidden = !key;
    if (!key) return;
    urlNode.textContent = String(key.rtmp_url ?? '');
    keyNode.replaceChildren();
    if (shown) {
      keyNode.textContent = String(key.stream_key ?? '');
    } else {
      const dots = document.createElement('span');
      dots.setAttribute('aria-hidden', 'true');
      dots.textContent = MASK;
      const hint = document.createElement('span');
      hint.className = 'visually-hidden';
      hint.textContent = 'hidden';
      keyNode.append(dots, hint);
    }
    keyNode.classList.toggle('masked', !shown);
    showButton.textContent = shown ? 'Hide' : 'Show';
    showButton.setAttribute('aria-label', shown ? 'Hide the stream key' : 'Show the stream key');
  }

  async function loadKey() {
    let res;
    try {
      res = await request('GET', `${base}/stream-key`, { token });
    } catch (err) {
      if (!(err instanceof NetworkError)) throw err;
      loading.textContent = 'We could not reach the server to load the stream key. Please reload the page.';
      return;
    }
    if (destroyed) return;
    if (res.status === 200 && res.data?.stream_key) key = res.data;
    else if (res.status === 404) key = null;
    else {
      loading.textContent = 'The stream key could not be loaded. Please reload the page.';
      return;
    }
    renderKey();
  }

  async function createKey(button, doneText) {
    button.disabled = true;
    let res = null;
    try {
      res = await request('POST', `${base}/stream-key`, { token });
    } catch (err) {
      if (!(err instanceof NetworkError)) throw err;
    } finally {
      button.disabled = false;
    }
    if (destroyed) return false;
    if (res && (res.status === 201 || res.status === 200) && res.data?.stream_key) {
      key = res.data;
      renderKey();
      say(doneText);
      return true;
    }
    say('The stream key was not changed because something went wrong. Please try again.');
    return false;
  }

  async function copy(text, what) {
    say((await copyText(text)) ? `${what} copied.` : `${what} could not be copied. Use Show, then select and copy it.`);
  }

  function openConfirm() {
    say('');
    confirmBox.hidden = false;
    rotateButton.setAttribute('aria-expanded', 'true');
    focusRegion($('sm-confirm-text'));
  }

  function closeConfirm(focusBack = true) {
    confirmBox.hidden = true;
    rotateButton.setAttribute('aria-expanded', 'false');
    if (focusBack) rotateButton.focus();
  }

  async function rotate() {
    const ok = await createKey($('sm-rotate-yes'), 'New stream key created. Paste it into OBS before you go live again.');
    if (ok) closeConfirm();
  }

  function renderStatus(data) {
    const live = data.live === true;
    const since = parseTime(data.started_at);
    const text = live ? (since ? `Live since ${timeFormat.format(since)}` : 'Live') : 'Not live';
    if (state.textContent !== text) state.textContent = text;
    state.dataset.live = String(live);
    const n = Number.isFinite(data.viewers) ? data.viewers : null;
    viewers.textContent = live && n !== null ? `${n} ${n === 1 ? 'viewer' : 'viewers'}` : '';
  }

  async function refresh() {
    const seq = ++statusSeq;
    try {
      const res = await request('GET', `${base}/stream`);
      if (destroyed || seq !== statusSeq) return;
      if (res.status === 200 && res.data) renderStatus(res.data);
    } catch (err) {
      if (!(err instanceof NetworkError)) throw err;
    }
  }

  function schedule() {
    clearTimeout(pollTimer);
    if (destroyed) return;
    pollTimer = setTimeout(async () => {
      if (document.visibilityState === 'visible') await refresh();
      schedule();
    }, POLL_MS);
  }

  function onVisible() {
    if (document.visibilityState === 'visible') refresh();
  }

  const onShow = () => { shown = !shown; renderKey(); };
  const onCopyUrl = () => key && copy(String(key.rtmp_url ?? ''), 'RTMP URL');
  const onCopyKey = () => key && copy(String(key.stream_key ?? ''), 'Stream key');
  const onRotate = () => (confirmBox.hidden ? openConfirm() : closeConfirm());
  const onCreate = (event) => createKey(event.currentTarget, 'Stream key created. Paste the RTMP URL and the key into OBS.');
  const onNo = () => closeConfirm();
  const onKey = (event) => { if (event.key === 'Escape') closeConfirm(); };
  const handlers = [
    [showButton, 'click', onShow], [$('sm-copy-url'), 'click', onCopyUrl], [$('sm-copy-key'), 'click', onCopyKey],
    [rotateButton, 'click', onRotate], [$('sm-rotate-yes'), 'click', rotate], [$('sm-rotate-no'), 'click', onNo],
    [$('sm-create'), 'click', onCreate], [confirmBox, 'keydown', onKey], [document, 'visibilitychange', onVisible],
  ];
  for (const [node, type, fn] of handlers) node.addEventListener(type, fn);

  loadKey();
  refresh();
  schedule();

  return {
    // The chat socket reported a start or stop: the live line (and viewers) now rather than in 10 s.
    refresh() {
      refresh();
      schedule();
    },
    destroy() {
      destroyed = true;
      clearTimeout(pollTimer);
      for (const [node, type, fn] of handlers) node.removeEventListener(type, fn);
      section.remove();
    },
  };
}
