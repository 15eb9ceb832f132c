// Live chat panel of the room page: one WebSocket to /ws (chat contract v1), the message log in seq
// order, a one-line send box, and — for the organizer (no token: the console's session cookie) —
// Delete / Mute / Ban controls.
// Reconnects with jittered exponential backoff and catches up with since=<last seq>&epoch=<epoch>,
// so a dropped connection costs no messages and shows none twice.
import { request, NetworkError } from '/assets/api.js';
import { el, clear } from '/assets/dom.js';

const MAX_CHARS = 500;
const MAX_KEPT = 500; // messages kept on the page; older ones scroll away for good
const BACKOFF_FIRST_MS = 1000;
const BACKOFF_MAX_MS = 30000;
const CLOSE_BANNED = 4003;
// Failed handshakes in a row after which we ask the server over plain HTTP why (a browser WebSocket
// only ever reports 1006, so a 401/403 refusal is otherwise indistinguishable from a network drop).
const PROBE_AFTER_FAILURES = 2;
// A send neither echoed nor refused this long after it went out (e.g. a resend the server had
// already taken before a drop we could not recover from) is given back to the user.
const PENDING_TIMEOUT_MS = 15000;

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' });
const clockFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });

function parseTime(iso) {
  const d = typeof iso === 'string' ? new Date(iso) : null;
  return d && !Number.isNaN(d.getTime()) ? d : null;
}

function newClientId() {
  if (globalThis.crypto?.randomUUID) return crypto.randomUUID();
  // randomUUID needs a secure context; plain-http deployments on a LAN address still get a unique id.
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

// Binds the chat markup of live.html (ids chat-*) to one room. Returns { destroy() }.
// The same socket carries bonus drops: onDrops(list) gets hello's full list (again after every
// reconnect), onDrop(drop) each drop released while connected. onStreamStatus(status) gets each
// stream.status frame (the live stream started or ended; sent right after hello while live).
export function mountChat({ webinarId, token, organizer = false, onDrops = null, onDrop = null, onStreamStatus = null }) {
  const $ = (id) => document.getElementById(id);
  const panel = $('chat-slot');
  const log = $('chat-log');
  const list = $('chat-messages');
  const empty = $('chat-empty');
  const presence = $('chat-presence');
  const status = $('chat-status');
  const form = $('chat-form');
  const input = $('chat-input');
  const sendButton = $('chat-send');
  const counter = $('chat-count');
  const errorBox = $('chat-error');
  const modStatus = $('chat-mod-status');

  const messages = new Map(); // seq → { msg, node }
  const seqById = new Map(); // message id → seq
  const pending = []; // { clientId, text, node, sent } in send order, not yet echoed
  let socket = null;
  let me = null;
  let epoch = null;
  let lastSeq = null;
  let helloSeen = false; // on the current socket
  let everConnected = false;
  let failures = 0; // handshakes in a row that ended before hello
  let attempt = 0;
  let retryTimer = null;
  let errorTimer = null;
  let errorUntil = null; // a rate-limit or mute notice stays until then
  let stopped = false;

  panel.hidden = false;
  panel.classList.toggle('organizer', organizer);
  clear(list);
  input.maxLength = MAX_CHARS;
  updateCounter();
  setStatus('Connecting…', 'connecting');

  function setStatus(text, state) {
    status.textContent = text;
    status.dataset.state = state;
  }

  function setPresence(count) {
    presence.textContent = Number.isFinite(count) ? `${count} here` : '';
  }

  function updateCounter() {
    const n = input.value.length;
    counter.textContent = `${n}/${MAX_CHARS}`;
    counter.classList.toggle('near-limit', n >= MAX_CHARS - 50);
  }

  function updateEmpty() {
    empty.hidden = list.children.length > 0;
  }

  function showError(text, until = null) {
    clearTimeout(errorTimer);
    errorBox.textContent = text;
    errorBox.hidden = !text;
    errorUntil = until;
    if (until) errorTimer = setTimeout(() => showError(''), Math.max(0, until.getTime() - Date.now()) + 500);
  }

  function nearBottom() {
    return log.scrollHeight - log.scrollTop - log.clientHeight < 48;
  }

  // ---- rendering ----

  function authorLabel(from) {
    return String(from?.name ?? '') || (from?.role === 'organizer' ? 'Organizer' : 'Someone');
  }

  function messageNode(msg) {
    const from = msg.from && typeof msg.from === 'object' ? msg.from : {};
    const name = authorLabel(from);
    const when = parseTime(msg.ts);
    const mine = me && from.id === me.id && from.role === me.role;
    const node = el('li', { class: `chat-msg${from.role === 'organizer' ? ' from-organizer' : ''}${mine ? ' mine' : ''}`, dataset: { seq: String(msg.seq), id: String(msg.id) } },
      el('p', { class: 'chat-meta' },
        el('span', { class: 'chat-author' }, name),
        from.role === 'organizer' ? el('span', { class: 'chat-badge' }, 'Organizer') : null,
        mine ? el('span', { class: 'visually-hidden' }, ' (you)') : null,
        when ? el('time', { datetime: msg.ts }, timeFormat.format(when)) : null),
      el('p', { class: 'chat-text' }, String(msg.text ?? '')));
    if (organizer) node.append(moderationTools(msg, from, name));
    return node;
  }

  function pendingNode(text) {
    // Hidden from screen readers: the log announces the message once, when the server confirms it.
    return el('li', { class: 'chat-msg mine pending', 'aria-hidden': 'true' },
      el('p', { class: 'chat-meta' },
        el('span', { class: 'chat-author' }, me ? authorLabel(me) : 'You'),
        el('span', { class: 'chat-sending' }, 'Sending…')),
      el('p', { class: 'chat-text' }, text));
  }

  // Inserts in seq order. Pending copies sit below every confirmed message, so inserting right after
  // the confirmed predecessor (or first of all) keeps them last without moving them.
  function addMessage(msg) {
    if (!msg || !Number.isFinite(msg.seq) || messages.has(msg.seq)) return false;
    const stick = nearBottom();
    const node = messageNode(msg);
    let after = null;
    for (const [seq] of messages) if (seq < msg.seq && (after === null || seq > after)) after = seq;
    if (after === null) list.prepend(node);
    else messages.get(after).node.after(node);
    messages.set(msg.seq, { msg, node });
    seqById.set(String(msg.id), msg.seq);
    if (lastSeq === null || msg.seq > lastSeq) lastSeq = msg.seq;
    if (messages.size > MAX_KEPT) removeMessage(messages.get(Math.min(...messages.keys())).msg.id);
    updateEmpty();
    if (stick) log.scrollTop = log.scrollHeight;
    return true;
  }

  function removeMessage(id) {
    const seq = seqById.get(String(id));
    if (seq === undefined) return;
    seqById.delete(String(id));
    const entry = messages.get(seq);
    messages.delete(seq);
    entry?.node.remove();
    updateEmpty();
  }

  function replaceAll(list_) {
    log.setAttribute('aria-busy', 'true');
    messages.clear();
    seqById.clear();
    clear(list);
    for (const p of pending) list.append(p.node);
    for (const msg of list_) addMessage(msg);
    log.removeAttribute('aria-busy');
    log.scrollTop = log.scrollHeight;
  }

  // A message the server echoed back to us replaces its pending copy.
  function confirmPending(msg) {
    if (typeof msg.client_id !== 'string') return;
    const i = pending.findIndex((p) => p.clientId === msg.client_id);
    if (i < 0) return;
    dropPending(pending[i]);
    pending.splice(i, 1);
  }

  // ---- moderation (organizer token only) ----

  function moderationTools(msg, from, name) {
    const tools = el('div', { class: 'chat-tools' });
    const del = el('button', { type: 'button', class: 'chat-tool', 'aria-label': `Delete message from ${name}` }, 'Delete');
    del.addEventListener('click', () => deleteMessage(msg, del));
    tools.append(del);
    if (from.role === 'registrant' && Number.isFinite(from.id)) {
      const mute = el('button', { type: 'button', class: 'chat-tool', 'aria-label': `Mute ${name} for 10 minutes` }, 'Mute 10 min');
      mute.addEventListener('click', () => muteAuthor(from.id, name, mute));
      const ban = el('button', { type: 'button', class: 'chat-tool danger', 'aria-label': `Ban ${name} from this chat` }, 'Ban');
      ban.addEventListener('click', () => banAuthor(from.id, name, ban));
      ban.addEventListener('blur', () => resetBan(ban, name));
      tools.append(mute, ban);
    }
    return tools;
  }

  async function moderate(button, method, path, body) {
    button.disabled = true;
    try {
      return await request(method, path, { token, body });
    } catch (err) {
      if (!(err instanceof NetworkError)) throw err;
      return null;
    } finally {
      button.disabled = false;
    }
  }

  function say(text) {
    modStatus.textContent = text;
    modStatus.hidden = !text;
  }

  async function deleteMessage(msg, button) {
    const res = await moderate(button, 'DELETE', `/api/webinars/${webinarId}/chat/${encodeURIComponent(msg.id)}`);
    if (res && (res.status === 204 || res.status === 404)) {
      removeMessage(msg.id);
      say('Message deleted.');
    } else {
      say('The message was not deleted. Please try again.');
    }
  }

  async function muteAuthor(registrationId, name, button) {
    const res = await moderate(button, 'POST', `/api/webinars/${webinarId}/mutes`, { registration_id: registrationId, minutes: 10 });
    const until = res && res.status === 201 ? parseTime(res.data?.until) : null;
    if (res && res.status === 201) say(until ? `${name} is muted until ${clockFormat.format(until)}.` : `${name} is muted for 10 minutes.`);
    else say(`${name} was not muted. Please try again.`);
  }

  function resetBan(button, name) {
    if (button.dataset.confirm !== 'yes') return;
    delete button.dataset.confirm;
    button.textContent = 'Ban';
    button.setAttribute('aria-label', `Ban ${name} from this chat`);
  }

  // Two clicks: the first turns the button into "Confirm ban", so a slip of the finger bans nobody.
  async function banAuthor(registrationId, name, button) {
    if (button.dataset.confirm !== 'yes') {
      button.dataset.confirm = 'yes';
      button.textContent = 'Confirm ban';
      button.setAttribute('aria-label', `Confirm: ban ${name} from this chat`);
      return;
    }
    resetBan(button, name);
    const res = await moderate(button, 'POST', `/api/webinars/${webinarId}/bans`, { registration_id: registrationId });
    if (res && (res.status === 201 || res.status === 200 || res.status === 204)) say(`${name} is banned from this chat.`);
    else say(`${name} was not banned. Please try again.`);
  }

  // ---- connection ----

  function socketUrl() {
    // Without a token (an organizer signed in to the console) the upgrade request carries the
    // session cookie instead, so the query has no token at all.
    const params = new URLSearchParams();
    if (token) params.set('token', token);
    if (organizer) params.set('webinar', String(webinarId));
    if (lastSeq !== null && epoch) {
      params.set('since', String(lastSeq));
      params.set('epoch', epoch);
    }
    return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws?${params}`;
  }

  function connect() {
    if (stopped) return;
    clearTimeout(retryTimer);
    retryTimer = null;
    helloSeen = false;
    let ws;
    try {
      ws = new WebSocket(socketUrl());
    } catch {
      scheduleReconnect();
      return;
    }
    socket = ws;
    ws.addEventListener('message', (event) => { if (socket === ws) onFrame(event.data); });
    ws.addEventListener('close', (event) => { if (socket === ws) onClose(event); });
  }

  function dropSocket() {
    const ws = socket;
    socket = null;
    if (ws && ws.readyState <= WebSocket.OPEN) ws.close(1000, 'client closing');
  }

  function onFrame(data) {
    let msg;
    try { msg = JSON.parse(data); } catch { return; }
    if (!msg || typeof msg !== 'object') return;
    switch (msg.type) {
      case 'hello': onHello(msg); break;
      case 'chat.message':
        confirmPending(msg);
        addMessage(msg);
        break;
      case 'chat.deleted': removeMessage(msg.id); break;
      case 'presence': setPresence(msg.count); break;
      case 'drop': if (msg.drop && typeof msg.drop === 'object') onDrop?.(msg.drop); break;
      case 'stream.status': onStreamStatus?.(msg); break;
      case 'error': onServerError(msg); break;
      default: break;
    }
  }

  function onHello(msg) {
    helloSeen = true;
    everConnected = true;
    failures = 0;
    attempt = 0;
    me = msg.me && typeof msg.me === 'object' ? msg.me : me;
    const list_ = Array.isArray(msg.messages) ? msg.messages : [];
    for (const m of list_) confirmPending(m);
    if (msg.recovered === true && epoch !== null && msg.epoch === epoch) {
      for (const m of list_) addMessage(m);
    } else {
      replaceAll(list_);
    }
    epoch = typeof msg.epoch === 'string' ? msg.epoch : null;
    if (Number.isFinite(msg.seq) && (msg.recovered !== true || lastSeq === null || msg.seq > lastSeq)) lastSeq = msg.seq;
    setPresence(msg.presence);
    setStatus('Connected', 'connected');
    // Sends that were cut off by the drop go out again with the same client_id: the server drops a
    // repeat it already has, and the hello above already confirmed those.
    for (const p of pending) transmit(p);
    onDrops?.(Array.isArray(msg.drops) ? msg.drops : []);
  }

  function onServerError(msg) {
    const until = parseTime(msg.until);
    const at = until ? ` You can send again at ${clockFormat.format(until)}.` : '';
    let text;
    switch (msg.code) {
      case 'rate_limited': text = `You are sending messages too quickly.${at}`; break;
      case 'muted': text = `The organizer has muted you.${at}`; break;
      case 'invalid': text = String(msg.message || 'This message cannot be sent.'); break;
      case 'unavailable': text = 'The chat is busy right now. Please try again in a moment.'; break;
      default: text = String(msg.message || 'Something went wrong with the chat.'); break;
    }
    showError(text, until);
    if (['rate_limited', 'muted', 'invalid', 'unavailable'].includes(msg.code)) failOldestPending();
  }

  // The server answers each send, in order, with either its echo or an error: the oldest send still
  // waiting is the one refused. Its text goes back into the box so it is not lost.
  function failOldestPending() {
    const i = pending.findIndex((p) => p.sent);
    if (i < 0) return;
    const [p] = pending.splice(i, 1);
    dropPending(p);
    updateEmpty();
    if (!input.value) {
      input.value = p.text;
      updateCounter();
    }
  }

  function onClose(event) {
    socket = null;
    for (const p of pending) p.sent = false;
    if (event.code === CLOSE_BANNED) {
      stop('You have been removed from this chat');
      return;
    }
    if (!helloSeen) failures += 1;
    scheduleReconnect();
    if (failures >= PROBE_AFTER_FAILURES && failures % PROBE_AFTER_FAILURES === 0) probeRefusal();
  }

  function scheduleReconnect() {
    if (stopped) return;
    clearTimeout(retryTimer);
    const offline = navigator.onLine === false;
    const base = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** attempt);
    // While the browser knows it is offline the 'online' event reconnects at once; the slow timer
    // only guards against a browser that never sends it.
    const delay = offline ? BACKOFF_MAX_MS : Math.min(BACKOFF_MAX_MS, base * (0.8 + Math.random() * 0.4));
    attempt += 1;
    setStatus(offline ? 'Offline — reconnecting when your connection is back…' : 'Reconnecting…', 'reconnecting');
    retryTimer = setTimeout(connect, delay);
  }

  // The upgrade was refused before hello and the browser hides why. A plain GET of the same URL may
  // carry the JSON error; a registrant's GET /api/me tells a dead or cancelled registration.
  // 401/403 mean retrying is pointless.
  async function probeRefusal() {
    try {
      const url = new URL(socketUrl().replace(/^ws/, 'http'));
      const res = await request('GET', url.pathname + url.search);
      if (stopped || helloSeen) return;
      if (res.status === 401) return stop('Your personal link no longer gives access to this chat.');
      if (res.status === 403) return stop('You have been removed from this chat');
      if (organizer) return;
      const me_ = await request('GET', '/api/me', { token });
      if (stopped || helloSeen) return;
      if (me_.status === 401 || me_.status === 403 || me_.data?.status === 'cancelled') {
        stop('Your registration is no longer active, so the chat is closed.');
      }
    } catch (err) {
      if (!(err instanceof NetworkError)) throw err;
    }
  }

  function stop(text) {
    stopped = true;
    clearTimeout(retryTimer);
    dropSocket();
    setStatus(text, 'stopped');
    setPresence(NaN);
    input.disabled = true;
    sendButton.disabled = true;
    for (const p of pending.splice(0)) dropPending(p);
    updateEmpty();
  }

  function transmit(p) {
    if (!socket || socket.readyState !== WebSocket.OPEN || !helloSeen) return;
    socket.send(JSON.stringify({ type: 'chat.send', text: p.text, client_id: p.clientId }));
    p.sent = true;
    clearTimeout(p.timer);
    p.timer = setTimeout(() => {
      const i = pending.indexOf(p);
      if (i < 0 || !p.sent) return;
      pending.splice(i, 1);
      p.node.remove();
      updateEmpty();
      if (!input.value) {
        input.value = p.text;
        updateCounter();
      }
      showError('Your message may not have been sent. Please try again.');
    }, PENDING_TIMEOUT_MS);
  }

  function dropPending(p) {
    clearTimeout(p.timer);
    p.node.remove();
  }

  function onSubmit(event) {
    event.preventDefault();
    if (stopped) return;
    // One line: stray tabs from a paste become spaces; the server rejects control characters.
    const text = input.value.replace(/[\t\r\n]+/g, ' ').trim();
    if (!text) return;
    if (text.length > MAX_CHARS) {
      showError(`Messages can be at most ${MAX_CHARS} characters.`);
      return;
    }
    const p = { clientId: newClientId(), text, node: pendingNode(text), sent: false };
    pending.push(p);
    list.append(p.node);
    updateEmpty();
    log.scrollTop = log.scrollHeight;
    input.value = '';
    updateCounter();
    if (!errorUntil || errorUntil.getTime() <= Date.now()) showError('');
    transmit(p);
  }

  function onOffline() {
    if (stopped) return;
    // The socket may look open for a long while after the network went away; start over cleanly.
    dropSocket();
    for (const p of pending) p.sent = false;
    scheduleReconnect();
  }

  function onOnline() {
    if (stopped || socket) return;
    attempt = 0;
    connect();
  }

  form.addEventListener('submit', onSubmit);
  input.addEventListener('input', updateCounter);
  window.addEventListener('offline', onOffline);
  window.addEventListener('online', onOnline);
  input.disabled = false;
  updateEmpty();
  connect();

  return {
    destroy() {
      stopped = true;
      clearTimeout(retryTimer);
      clearTimeout(errorTimer);
      dropSocket();
      form.removeEventListener('submit', onSubmit);
      input.removeEventListener('input', updateCounter);
      window.removeEventListener('offline', onOffline);
      window.removeEventListener('online', onOnline);
      for (const p of pending.splice(0)) dropPending(p);
    },
    get connected() { return everConnected && !!socket; },
  };
}
