// Q&A panel of the room page, a feature module of the room (live-room.js owns the socket):
// questions ordered by votes, then time; one upvote per person (press again to withdraw); the
// question being answered now pinned on top; the asker's own Delete. For the organizer (room.organizer):
// Pin / Answered / Dismiss on each question and the series' "allow anonymous questions" switch.
// Handles hello (hello.qa), qa.question, qa.status, qa.counts, qa.pinned, qa.voted, qa.settings
// and error; sends qa.ask, qa.vote, qa.delete, qa.moderate.
import { request } from '/assets/api.js';
import { el, clear } from '/assets/dom.js';

const MAX_CHARS = 300;
const MAX_SHOWN = 200;

export const roomModule = { mount: mountQa };

function mountQa(room) {
  const { webinarId, organizer } = room;
  const $ = (id) => document.getElementById(id);
  const panel = $('qa-section');
  const list = $('qa-list');
  const empty = $('qa-empty');
  const pinnedBox = $('qa-pinned');
  const form = $('qa-form');
  const input = $('qa-input');
  const anonRow = $('qa-anonymous-row');
  const anonBox = $('qa-anonymous');
  const errorBox = $('qa-error');
  const counter = $('qa-count');
  const orgRow = $('qa-organizer');
  const allowAnon = $('qa-allow-anonymous');

  const questions = new Map(); // id → question (member view)
  const voted = new Set();
  let pinned = null;
  let anonymousAllowed = false;

  panel.hidden = false;
  orgRow.hidden = !organizer;
  form.hidden = false;
  input.maxLength = MAX_CHARS;

  function showError(text) {
    errorBox.textContent = text;
    errorBox.hidden = !text;
  }

  function sorted() {
    return [...questions.values()].sort((a, b) => (b.votes - a.votes) || (Date.parse(a.ts) - Date.parse(b.ts)) || (a.id < b.id ? -1 : 1));
  }

  function questionNode(q, { inPinned = false } = {}) {
    const mine = q.mine === true;
    const up = voted.has(q.id);
    const voteButton = el('button', {
      type: 'button', class: `qa-vote${up ? ' voted' : ''}`, 'aria-pressed': up ? 'true' : 'false',
      'aria-label': `${up ? 'Withdraw your vote' : 'Upvote'} (${q.votes} ${q.votes === 1 ? 'vote' : 'votes'})`,
      disabled: organizer || undefined,
    }, el('span', { class: 'qa-arrow', 'aria-hidden': 'true' }, '▲'), el('span', { class: 'qa-votes' }, String(q.votes)));
    voteButton.addEventListener('click', () => room.send('qa.vote', { id: q.id, up: !voted.has(q.id) }));
    const tools = [];
    if (organizer && !inPinned) {
      tools.push(tool('Pin', () => room.send('qa.moderate', { id: q.id, action: 'pin' })));
      if (q.status !== 'answered') tools.push(tool('Answered', () => room.send('qa.moderate', { id: q.id, action: 'answered' })));
      tools.push(tool('Dismiss', () => room.send('qa.moderate', { id: q.id, action: 'dismissed' }), 'danger'));
    } else if (organizer && inPinned) {
      tools.push(tool('Unpin', () => room.send('qa.moderate', { action: 'unpin' })));
    }
    if (mine && !organizer && !inPinned) tools.push(tool('Delete', () => room.send('qa.delete', { id: q.id }), 'danger'));
    return el('li', { class: `qa-item${q.status === 'answered' ? ' answered' : ''}${mine ? ' mine' : ''}`, dataset: { id: q.id } },
      inPinned ? null : voteButton,
      el('div', { class: 'qa-body' },
        el('p', { class: 'qa-text' }, String(q.text ?? '')),
        el('p', { class: 'qa-meta' },
          el('span', { class: 'qa-author' }, q.from == null ? 'Anonymous' : String(q.from)),
          mine ? el('span', { class: 'qa-badge' }, 'You') : null,
          q.status === 'answered' ? el('span', { class: 'qa-badge answered' }, 'Answered') : null),
        tools.length ? el('div', { class: 'qa-tools' }, tools) : null));
  }

  function tool(label, onClick, extra = '') {
    const b = el('button', { type: 'button', class: `chat-tool${extra ? ` ${extra}` : ''}` }, label);
    b.addEventListener('click', onClick);
    return b;
  }

  function render() {
    const items = sorted().slice(0, MAX_SHOWN);
    list.replaceChildren(...items.map((q) => questionNode(q)));
    empty.hidden = items.length > 0;
    clear(pinnedBox);
    pinnedBox.hidden = !pinned;
    if (pinned) pinnedBox.append(el('p', { class: 'qa-pinned-label' }, 'Now answering'), el('ol', { class: 'qa-list' }, questionNode(pinned, { inPinned: true })));
    anonRow.hidden = !anonymousAllowed;
    if (!anonymousAllowed) anonBox.checked = false;
    allowAnon.checked = anonymousAllowed;
  }

  function updateCounter() { counter.textContent = `${input.value.length}/${MAX_CHARS}`; }
  input.addEventListener('input', updateCounter);
  updateCounter();

  room.on('hello', (hello) => {
    const qa = hello.qa;
    if (!qa) return;
    questions.clear();
    voted.clear();
    for (const q of qa.questions ?? []) questions.set(q.id, q);
    for (const id of qa.voted ?? []) voted.add(id);
    pinned = qa.pinned ?? null;
    anonymousAllowed = qa.anonymous === true;
    input.disabled = false;
    render();
  });
  room.on('qa.question', ({ question }) => {
    if (!question || questions.has(question.id)) return;
    questions.set(question.id, question);
    render();
  });
  room.on('qa.status', ({ id, status }) => {
    const q = questions.get(id);
    if (!q) return;
    if (status === 'answered') q.status = 'answered';
    else questions.delete(id);
    if (pinned && pinned.id === id) pinned = status === 'answered' ? { ...pinned, status } : null;
    render();
  });
  room.on('qa.counts', ({ votes }) => {
    for (const [id, n] of Object.entries(votes ?? {})) {
      const q = questions.get(id);
      if (q) q.votes = n;
      if (pinned && pinned.id === id) pinned.votes = n;
    }
    render();
  });
  room.on('qa.voted', ({ id, up }) => {
    if (up) voted.add(id);
    else voted.delete(id);
    render();
  });
  room.on('qa.pinned', ({ question }) => {
    pinned = question ?? null;
    render();
  });
  room.on('qa.settings', ({ anonymous }) => {
    anonymousAllowed = anonymous === true;
    render();
  });
  room.on('error', (e) => {
    if (['forbidden', 'not_found', 'full'].includes(e.code) || (e.code === 'rate_limited' && /questions|votes/.test(e.message))) showError(e.message);
  });

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return showError('Type a question first.');
    if (text.length > MAX_CHARS) return showError(`At most ${MAX_CHARS} characters.`);
    const body = { text };
    if (anonymousAllowed && anonBox.checked) body.anonymous = true;
    if (!room.send('qa.ask', body)) return showError('Not connected — try again in a moment.');
    showError('');
    input.value = '';
    updateCounter();
  });

  allowAnon.addEventListener('change', async () => {
    try {
      await request('PUT', `/api/webinars/${webinarId}/qa-settings`, { body: { anonymous: allowAnon.checked } });
    } catch (err) {
      allowAnon.checked = anonymousAllowed;
      showError(err?.message || 'Could not save the setting.');
    }
  });

  return { destroy() { panel.hidden = true; } };
}
