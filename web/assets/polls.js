// Live polls, a feature module of the room (live-room.js): the "Polls" panel (live.html
// #polls-section). Attendees see the open polls and the ones whose results the organizer shows,
// vote with poll.vote (and change the vote while the poll is open), and see their own answer from
// hello / poll.answer. Results arrive with poll frames and, coalesced, in poll.results. An
// organizer (room.organizer) gets the manager instead: a form that prepares a poll for a session
// and every poll of the series with Open / Close / Show results and its live results.
import { request, errorOf, NetworkError } from '/assets/api.js';
import { el, clear } from '/assets/dom.js';

export const roomModule = { mount: mountPolls };

const POLL_ERRORS = new Set(['closed', 'not_found', 'forbidden']);

function mountPolls(room) {
  const section = document.getElementById('polls-section');
  const list = document.getElementById('polls-list');
  const empty = document.getElementById('polls-empty');
  const manager = document.getElementById('poll-manager');
  if (!section || !list) return undefined;
  const polls = new Map(); // id → { ...poll, results?, answer? }
  const notes = new Map(); // id → a message under the poll (vote refused)
  let lastVoted = null; // the poll of the last vote sent, for the error that may answer it
  let apiPolls = []; // organizer: every poll of the series, drafts included

  function setPoll(poll) {
    const old = polls.get(poll.id) ?? {};
    const merged = { ...old, ...poll };
    if (!('results' in poll) && !room.organizer) delete merged.results;
    if (!room.organizer && poll.state !== 'open' && !poll.shown) polls.delete(poll.id);
    else polls.set(poll.id, merged);
  }

  function render() {
    if (room.organizer) return renderManager();
    clear(list);
    const shown = [...polls.values()].sort((a, b) => b.id - a.id);
    for (const p of shown) list.append(pollCard(p));
    empty.hidden = shown.length > 0;
    section.hidden = shown.length === 0;
  }

  function resultsBlock(p) {
    const r = p.results;
    if (!r) return null;
    const voters = r.voters || 0;
    const rows = p.options.map((text, i) => {
      const n = r.counts?.[i] ?? 0;
      const pct = voters ? Math.round((n * 100) / voters) : 0;
      const mine = Array.isArray(p.answer) && p.answer.includes(i);
      return el('li', { class: mine ? 'poll-result mine' : 'poll-result' },
        el('span', { class: 'poll-result-label' }, text, mine ? el('span', { class: 'poll-mine' }, ' (your answer)') : null),
        el('progress', { max: Math.max(voters, 1), value: n, 'aria-label': `${text}: ${n} of ${voters}` }),
        el('span', { class: 'poll-result-count' }, `${pct}% · ${n}`));
    });
    return el('div', { class: 'poll-results' },
      el('ol', { class: 'poll-result-list' }, rows),
      el('p', { class: 'poll-voters' }, voters === 1 ? '1 vote' : `${voters} votes`));
  }

  function pollCard(p) {
    const card = el('li', { class: 'poll-card', dataset: { pollId: String(p.id), state: p.state } });
    card.append(el('p', { class: 'poll-question' }, p.question));
    const hint = p.state === 'open' ? (p.kind === 'multiple' ? 'Choose one or more' : 'Choose one') : 'Voting has closed';
    card.append(el('p', { class: 'poll-hint' }, hint));
    if (p.state === 'open') {
      const form = el('form', { class: 'poll-form', novalidate: true });
      const fieldset = el('fieldset', {}, el('legend', { class: 'visually-hidden' }, p.question));
      p.options.forEach((text, i) => {
        const id = `poll-${p.id}-opt-${i}`;
        const input = el('input', { type: p.kind === 'multiple' ? 'checkbox' : 'radio', name: `poll-${p.id}`, id, value: String(i),
          checked: Array.isArray(p.answer) && p.answer.includes(i) });
        fieldset.append(el('div', { class: 'poll-option' }, input, el('label', { for: id }, text)));
      });
      form.append(fieldset);
      const button = el('button', { type: 'submit', class: 'button poll-vote' }, p.answer ? 'Change my vote' : 'Vote');
      form.append(el('div', { class: 'poll-actions' }, button,
        el('span', { class: 'poll-status', role: 'status' }, p.answer ? 'Your vote is counted.' : '')));
      form.addEventListener('submit', (event) => {
        event.preventDefault();
        const choices = [...form.querySelectorAll('input:checked')].map((x) => Number(x.value));
        if (!choices.length) return note(p.id, 'Choose an option first.');
        notes.delete(p.id);
        lastVoted = p.id;
        if (!room.send('poll.vote', { poll_id: p.id, choices })) note(p.id, 'Not connected — try again in a moment.');
      });
      card.append(form);
    }
    const results = resultsBlock(p);
    if (results) card.append(results);
    if (notes.has(p.id)) card.append(el('p', { class: 'poll-error', role: 'alert' }, notes.get(p.id)));
    return card;
  }

  function note(id, text) {
    notes.set(id, text);
    render();
  }

  // --- Organizer ---------------------------------------------------------------------------

  const base = `/api/webinars/${room.webinarId}/polls`;

  async function refresh() {
    try {
      const res = await request('GET', base);
      if (res.status === 200 && Array.isArray(res.data?.polls)) apiPolls = res.data.polls;
    } catch (err) {
      if (!(err instanceof NetworkError)) throw err;
    }
    render();
  }

  async function act(poll, action) {
    const res = await request('POST', `${base}/${poll.id}/${action}`).catch(() => null);
    if (!res || res.status !== 200) note(poll.id, errorOf(res?.data).message || 'That did not work, try again.');
    else notes.delete(poll.id);
    await refresh();
  }

  function managerCard(p) {
    const live = polls.get(p.id);
    const view = { ...p, results: live?.results ?? p.results };
    const card = el('li', { class: 'poll-card', dataset: { pollId: String(p.id), state: p.state } });
    card.append(el('p', { class: 'poll-question' }, p.question));
    const stateText = { draft: 'Draft', open: 'Open', closed: 'Closed' }[p.state] ?? p.state;
    card.append(el('p', { class: 'poll-hint' }, `Session ${p.session} · ${p.kind === 'multiple' ? 'multiple choice' : 'single choice'} · ${stateText}${p.shown ? ' · results shown' : ''}`));
    if (p.state === 'draft') card.append(el('ol', { class: 'poll-draft-options' }, p.options.map((o) => el('li', {}, o))));
    const results = resultsBlock(view);
    if (results) card.append(results);
    const buttons = [];
    if (p.state === 'draft') buttons.push(['open', 'Open poll']);
    if (p.state === 'open') buttons.push(['close', 'Close poll']);
    if (p.state !== 'draft' && !p.shown) buttons.push(['show', 'Show results']);
    if (buttons.length) {
      card.append(el('div', { class: 'poll-actions' }, buttons.map(([action, label]) => {
        const b = el('button', { type: 'button', class: 'chat-tool poll-action', dataset: { action } }, label);
        b.addEventListener('click', () => { b.disabled = true; act(p, action); });
        return b;
      })));
    }
    if (notes.has(p.id)) card.append(el('p', { class: 'poll-error', role: 'alert' }, notes.get(p.id)));
    return card;
  }

  function renderManager() {
    section.hidden = false;
    clear(list);
    for (const p of [...apiPolls].sort((a, b) => b.id - a.id)) list.append(managerCard(p));
    empty.hidden = apiPolls.length > 0;
  }

  function buildForm() {
    manager.hidden = false;
    const sessions = Array.isArray(room.page.sessions) ? room.page.sessions : [];
    const sessionSelect = el('select', { id: 'pm-session', name: 'session' },
      (sessions.length ? sessions : [{ number: 1 }]).map((s, i) => el('option', { value: String(s.number ?? i + 1) }, `Session ${s.number ?? i + 1}`)));
    const question = el('input', { type: 'text', id: 'pm-question', name: 'question', maxlength: 300, required: true });
    const kind = el('select', { id: 'pm-kind', name: 'kind' }, el('option', { value: 'single' }, 'Single choice'), el('option', { value: 'multiple' }, 'Multiple choice'));
    const options = el('textarea', { id: 'pm-options', name: 'options', rows: 4, required: true, 'aria-describedby': 'pm-options-hint' });
    const error = el('p', { id: 'pm-error', class: 'poll-error', role: 'alert', hidden: true });
    const form = el('form', { id: 'pm-form', class: 'poll-manager-form', novalidate: true },
      el('h4', {}, 'Prepare a poll'),
      el('label', { for: 'pm-question' }, 'Poll question'), question,
      el('div', { class: 'poll-manager-row' },
        el('div', {}, el('label', { for: 'pm-kind' }, 'Poll answers'), kind),
        el('div', {}, el('label', { for: 'pm-session' }, 'For session'), sessionSelect)),
      el('label', { for: 'pm-options' }, 'Poll options'),
      el('p', { id: 'pm-options-hint', class: 'poll-hint' }, 'One per line, 2 to 8.'), options,
      error,
      el('button', { type: 'submit', class: 'button', id: 'pm-create' }, 'Save as draft'));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const body = { session: Number(sessionSelect.value), question: question.value, kind: kind.value,
        options: options.value.split('\n').map((s) => s.trim()).filter(Boolean) };
      const res = await request('POST', base, { body }).catch(() => null);
      if (res?.status === 201) {
        error.hidden = true;
        question.value = '';
        options.value = '';
        await refresh();
        return;
      }
      const err = errorOf(res?.data);
      error.textContent = err.message || 'The poll could not be saved, try again.';
      error.hidden = false;
      const field = { question, options, kind, session: sessionSelect }[err.field];
      field?.focus();
    });
    manager.replaceChildren(form);
  }

  // --- Frames ------------------------------------------------------------------------------

  room.on('hello', (hello) => {
    polls.clear();
    for (const p of Array.isArray(hello.polls) ? hello.polls : []) setPoll(p);
    if (room.organizer) refresh();
    else render();
  });
  room.on('poll', (frame) => {
    if (!frame.poll) return;
    setPoll(frame.poll);
    if (room.organizer) refresh();
    else render();
  });
  room.on('poll.results', (frame) => {
    for (const r of frame.results ?? []) {
      const p = polls.get(r.poll_id);
      if (p) p.results = { counts: r.counts, voters: r.voters };
      const a = apiPolls.find((x) => x.id === r.poll_id);
      if (a) a.results = { counts: r.counts, voters: r.voters };
    }
    render();
  });
  room.on('poll.answer', (frame) => {
    const p = polls.get(frame.poll_id);
    if (!p) return;
    p.answer = frame.choices;
    if (lastVoted === frame.poll_id) lastVoted = null;
    notes.delete(frame.poll_id);
    render();
  });
  room.on('error', (frame) => {
    if (lastVoted === null) return;
    if (!POLL_ERRORS.has(frame.code) && frame.code !== 'rate_limited') return;
    const text = { closed: 'Voting has closed.', not_found: 'This poll is no longer open.', forbidden: 'Organizers do not vote.' }[frame.code]
      ?? 'Too many votes at once — wait a few seconds and try again.';
    note(lastVoted, text);
    lastVoted = null;
  });

  if (room.organizer && manager) buildForm();
  return { destroy() { polls.clear(); clear(list); } };
}
