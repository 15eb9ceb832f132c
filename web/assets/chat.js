// Live chat panel of the room page, a feature module of the room (live-room.js owns the socket):
// the message log in seq order, a one-line send box, the connection's state, and — for the
// organizer (no token: the console's session cookie) — Delete / Mute / Ban controls.
// Handles hello (messages, me), chat.message, chat.deleted and error; sends chat.send. A send cut
// off by a drop goes out again after the next hello with the same client_id, so none is lost or doubled.
import { request, NetworkError } from '/assets/api.js';
import { el, clear } from '/assets/dom.js';

const MAX_CHARS = 500;
const MAX_KEPT = 500; // messages kept on the page; older ones scroll away for good
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

// Binds the chat markup of live.html (ids chat-*) to the room.
export const roomModule = { mount: mountChat };

function mountChat(room) {
  const { webinarId, token, organizer } = room;
  const $ = (id) => document.getElementById(id);
  const panel = $('chat-slot');
  const log = $('chat-log');
  const list = $('chat-messages');
  const empty = $('chat-empty');
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
  let me = null;
  let errorTimer = null;
  let errorUntil = null; // a rate-limit or mute notice stays until then

  panel.hidden = false;
  panel.classList.toggle('organizer', organizer);
  clear(list);
  input.maxLength = MAX_CHARS;
  updateCounter();

  function setStatus(text, state) {
    status.textContent = text;
    status.dataset.state = state;
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

  // ---- the room's frames ----

  function onMessage(msg) {
    confirmPending(msg);
    addMessage(msg);
  }

  function onHello(msg, { resumed }) {
    me = msg.me && typeof msg.me === 'object' ? msg.me : me;
    const list_ = Array.isArray(msg.messages) ? msg.messages : [];
    for (const m of list_) confirmPending(m);
    if (resumed) {
      for (const m of list_) addMessage(m);
    } else {
      replaceAll(list_);
    }
    // Sends that were cut off by the drop go out again with the same client_id: the server drops a
    // repeat it already has, and the hello above already confirmed those.
    for (const p of pending) transmit(p);
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

  // The room's connection: its state is the panel's status line. While it is down nothing that
  // was sent counts as sent; when it stops for good the box closes and pending sends go.
  function onStatus(state, text) {
    setStatus(text, state);
    if (state === 'reconnecting') for (const p of pending) p.sent = false;
    if (state !== 'stopped') return;
    input.disabled = true;
    sendButton.disabled = true;
    for (const p of pending.splice(0)) dropPending(p);
    updateEmpty();
  }

  function transmit(p) {
    if (!room.send('chat.send', { text: p.text, client_id: p.clientId })) return;
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
    if (input.disabled) return;
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

  room.on('hello', onHello);
  room.on('chat.message', onMessage);
  room.on('chat.deleted', (msg) => removeMessage(msg.id));
  room.on('error', onServerError);
  room.onStatus(onStatus);
  form.addEventListener('submit', onSubmit);
  input.addEventListener('input', updateCounter);
  input.disabled = false;
  sendButton.disabled = false;
  updateEmpty();

  return {
    destroy() {
      clearTimeout(errorTimer);
      form.removeEventListener('submit', onSubmit);
      input.removeEventListener('input', updateCounter);
      for (const p of pending.splice(0)) dropPending(p);
    },
  };
}
