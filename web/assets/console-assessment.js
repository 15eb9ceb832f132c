// Console "Post-test" panel: per session, the question bank (single/multiple choice, options with
// their right answers ticked) saved with PUT /api/webinars/{id}/sessions/{n}/test; the series'
// evaluation items (1–5 scales and text, per session or for every session) saved with PUT
// /api/webinars/{id}/evaluation; and the evaluation summary (responses, mean and 1–5 counts per
// scale, the text answers) with its CSV export. The panel builds its own markup in #assessment-slot.
import { el, clear, focusRegion } from '/assets/dom.js';
import { shortDateTime } from '/assets/format.js';
import { api, problem, errorOf } from '/assets/console-common.js';

const MAX_OPTIONS = 8;
let nextKey = 0;
const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;

// A 422 names e.g. questions[3].correct: the message goes under that card.
function showFieldError(list, res, prefix) {
  const error = errorOf(res?.data);
  const m = new RegExp(`^${prefix}\\[(\\d+)\\]`).exec(error.field || '');
  const card = m ? list.children[Number(m[1])] : null;
  if (!card) return;
  card.querySelector('[data-role="error"]').textContent = error.message;
  focusRegion(card);
}

function clearFieldErrors(list) {
  for (const e of list.querySelectorAll('[data-role="error"]')) e.textContent = '';
}

function editorButtons(addLabel, saveLabel, testid) {
  return {
    add: el('button', { type: 'button', class: 'button secondary small', 'data-testid': `${testid}-add` }, addLabel),
    save: el('button', { type: 'button', class: 'button small', 'data-testid': `${testid}-save` }, saveLabel),
    status: el('p', { class: 'panel-summary', role: 'status', 'aria-live': 'polite', 'data-testid': `${testid}-status` }),
    error: el('p', { class: 'notice error', role: 'alert', hidden: true, 'data-testid': `${testid}-error` }),
  };
}

// ---- question bank ----

function optionRow(card, text = '', right = false) {
  const key = nextKey++;
  const input = el('input', { type: 'text', id: `as-opt-${key}`, value: text, maxlength: '300', 'aria-label': 'Answer', 'data-role': 'option' });
  const mark = el('input', { type: 'checkbox', id: `as-right-${key}`, 'data-role': 'right' });
  mark.checked = right;
  const remove = el('button', { type: 'button', class: 'button secondary small', 'aria-label': 'Remove this answer' }, 'Remove');
  const row = el('li', { class: 'as-option' }, el('div', { class: 'checkbox' }, mark, el('label', { for: `as-right-${key}` }, 'Right')), input, remove);
  remove.addEventListener('click', () => { if (card.querySelectorAll('.as-option').length > 2) row.remove(); });
  return row;
}

function questionCard(data = { kind: 'single', prompt: '', options: ['', ''], correct: [] }) {
  const key = nextKey++;
  const kind = el('select', { id: `as-kind-${key}`, 'data-role': 'kind' },
    el('option', { value: 'single' }, 'One right answer'), el('option', { value: 'multiple' }, 'Several right answers'));
  kind.value = data.kind;
  const prompt = el('textarea', { id: `as-prompt-${key}`, rows: '2', maxlength: '1000', 'data-role': 'prompt' });
  prompt.value = data.prompt;
  const options = el('ol', { class: 'as-options' });
  const card = el('li', { class: 'card as-card', 'data-testid': 'bank-question' });
  data.options.forEach((text, i) => options.append(optionRow(card, text, data.correct.includes(i))));
  const addOption = el('button', { type: 'button', class: 'button secondary small' }, 'Add an answer');
  addOption.addEventListener('click', () => { if (options.children.length < MAX_OPTIONS) options.append(optionRow(card)); });
  const remove = el('button', { type: 'button', class: 'button danger secondary small' }, 'Remove the question');
  remove.addEventListener('click', () => card.remove());
  card.append(
    el('div', { class: 'field' }, el('label', { for: `as-prompt-${key}` }, 'Question'), prompt),
    el('div', { class: 'field' }, el('label', { for: `as-kind-${key}` }, 'Kind'), kind),
    el('div', { class: 'field' }, el('span', { class: 'label-text' }, 'Answers'), options),
    el('p', { class: 'field-error', 'data-role': 'error' }),
    el('div', { class: 'actions' }, addOption, remove));
  return card;
}

function readBank(list) {
  return [...list.children].map((card) => ({
    kind: card.querySelector('[data-role="kind"]').value,
    prompt: card.querySelector('[data-role="prompt"]').value,
    options: [...card.querySelectorAll('[data-role="option"]')].map((i) => i.value),
    correct: [...card.querySelectorAll('[data-role="right"]')].flatMap((c, i) => (c.checked ? [i] : [])),
  }));
}

function bankEditor() {
  const list = el('ol', { class: 'as-list', 'data-testid': 'bank-list' });
  const b = editorButtons('Add a question', 'Save the post-test', 'bank');
  const node = el('section', { class: 'as-section', 'aria-labelledby': 'as-bank-heading' },
    el('h3', { id: 'as-bank-heading', tabindex: '-1' }, 'Post-test questions'),
    el('p', { class: 'hint' }, 'Tick the right answer of each question. Registrants never see which answers are right; the server grades.'),
    list, b.error, el('div', { class: 'actions' }, b.add, b.save), b.status);
  let path = null;
  let seq = 0;
  const show = (questions, saved) => {
    clear(list).append(...questions.map(questionCard));
    b.status.textContent = questions.length ? `${saved ? 'Saved: ' : ''}${plural(questions.length, 'question')}.` : 'No questions yet.';
  };
  b.add.addEventListener('click', () => {
    const card = questionCard();
    list.append(card);
    card.querySelector('textarea').focus();
  });
  b.save.addEventListener('click', async () => {
    clearFieldErrors(list);
    b.error.hidden = true;
    b.save.disabled = true;
    const res = await api('PUT', path, { questions: readBank(list) });
    b.save.disabled = false;
    if (res?.status === 200) return show(res.data.questions, true);
    b.error.textContent = problem(res, 'The post-test was not saved');
    b.error.hidden = false;
    return showFieldError(list, res, 'questions');
  });
  return {
    node,
    async load(webinar, session) {
      const my = ++seq;
      path = `/api/webinars/${webinar.id}/sessions/${session}/test`;
      b.status.textContent = 'Loading…';
      const res = await api('GET', path);
      if (my !== seq) return;
      if (res?.status === 200) show(res.data.questions, false);
      else b.status.textContent = problem(res, 'The post-test could not be loaded');
    },
    reset() { seq++; clear(list); },
  };
}

// ---- evaluation items ----

function itemCard(sessions, data = { id: null, session_number: null, kind: 'scale', prompt: '', required: true }) {
  const key = nextKey++;
  const prompt = el('input', { type: 'text', id: `as-item-${key}`, value: data.prompt, maxlength: '1000', 'data-role': 'prompt' });
  const kind = el('select', { 'data-role': 'kind', id: `as-item-kind-${key}` },
    el('option', { value: 'scale' }, '1–5 scale'), el('option', { value: 'text' }, 'Free text'));
  kind.value = data.kind;
  const when = el('select', { 'data-role': 'session', id: `as-item-when-${key}` }, el('option', { value: '' }, 'After every session'),
    ...sessions.map((s) => el('option', { value: String(s.number) }, `After session ${s.number}`)));
  when.value = data.session_number ? String(data.session_number) : '';
  const required = el('input', { type: 'checkbox', id: `as-item-req-${key}`, 'data-role': 'required' });
  required.checked = data.required;
  const remove = el('button', { type: 'button', class: 'button danger secondary small' }, 'Remove');
  const card = el('li', { class: 'card as-card', 'data-testid': 'evaluation-item', dataset: data.id ? { id: String(data.id) } : {} },
    el('div', { class: 'field' }, el('label', { for: `as-item-${key}` }, 'Prompt'), prompt),
    el('div', { class: 'as-item-fields' },
      el('div', { class: 'field' }, el('label', { for: `as-item-kind-${key}` }, 'Answer'), kind),
      el('div', { class: 'field' }, el('label', { for: `as-item-when-${key}` }, 'Asked'), when),
      el('div', { class: 'field checkbox' }, required, el('label', { for: `as-item-req-${key}` }, 'Required'))),
    el('p', { class: 'field-error', 'data-role': 'error' }),
    el('div', { class: 'actions' }, remove));
  remove.addEventListener('click', () => card.remove());
  return card;
}

// Items keep their id, so the answers already given stay with them.
function readItems(list) {
  return [...list.children].map((card) => {
    const session = card.querySelector('[data-role="session"]').value;
    const item = {
      session_number: session ? Number(session) : null,
      kind: card.querySelector('[data-role="kind"]').value,
      prompt: card.querySelector('[data-role="prompt"]').value,
      required: card.querySelector('[data-role="required"]').checked,
    };
    if (card.dataset.id) item.id = Number(card.dataset.id);
    return item;
  });
}

function evaluationEditor({ onSaved }) {
  const list = el('ol', { class: 'as-list', 'data-testid': 'evaluation-items' });
  const b = editorButtons('Add an item', 'Save the evaluation', 'evaluation');
  const node = el('section', { class: 'as-section', 'aria-labelledby': 'as-eval-heading' },
    el('h3', { id: 'as-eval-heading', tabindex: '-1' }, 'Evaluation'),
    el('p', { class: 'hint' }, 'Asked after a session: 1–5 scales and free text, for every session or one session.'),
    list, b.error, el('div', { class: 'actions' }, b.add, b.save), b.status);
  let webinar = null;
  const show = (items) => clear(list).append(...items.map((i) => itemCard(webinar.sessions || [], i)));
  b.add.addEventListener('click', () => {
    const card = itemCard(webinar?.sessions || []);
    list.append(card);
    card.querySelector('input').focus();
  });
  b.save.addEventListener('click', async () => {
    clearFieldErrors(list);
    b.error.hidden = true;
    b.save.disabled = true;
    const res = await api('PUT', `/api/webinars/${webinar.id}/evaluation`, { items: readItems(list) });
    b.save.disabled = false;
    if (res?.status === 200) {
      show(res.data.items);
      b.status.textContent = `Saved: ${plural(res.data.items.length, 'item')}.`;
      return onSaved();
    }
    b.error.textContent = problem(res, 'The evaluation was not saved');
    b.error.hidden = false;
    return showFieldError(list, res, 'items');
  });
  return {
    node,
    async load(w) {
      webinar = w;
      const res = await api('GET', `/api/webinars/${w.id}/evaluation`);
      if (webinar !== w) return;
      if (res?.status !== 200) { b.status.textContent = problem(res, 'The evaluation could not be loaded'); return; }
      show(res.data.items);
      b.status.textContent = res.data.items.length ? '' : 'No evaluation items yet.';
    },
    reset() { webinar = null; clear(list); },
  };
}

// ---- summary ----

function summaryItem(item) {
  const head = el('h4', {}, item.prompt);
  if (item.kind === 'scale') {
    const counts = el('ol', { class: 'as-dist' }, ...item.distribution.map((n, i) =>
      el('li', {}, el('span', { class: 'as-dist-label' }, String(i + 1)), el('span', { class: 'as-dist-count' }, String(n)))));
    return el('li', { class: 'as-summary-item', 'data-testid': 'summary-item' }, head,
      el('p', {}, item.count ? `Mean ${item.mean.toFixed(2)} of 5 from ${plural(item.count, 'answer')}.` : 'No answers yet.'), counts);
  }
  return el('li', { class: 'as-summary-item', 'data-testid': 'summary-item' }, head,
    item.answers.length ? el('ul', { class: 'as-texts' }, ...item.answers.map((a) => el('li', {}, a.text))) : el('p', {}, 'No answers yet.'));
}

function evaluationSummary() {
  const box = el('div', { 'data-testid': 'evaluation-summary' });
  const csv = el('a', { class: 'button secondary small', href: '#', download: true, 'data-testid': 'evaluation-csv' }, 'Export evaluation CSV');
  const node = el('section', { class: 'as-section', 'aria-labelledby': 'as-summary-heading' },
    el('h3', { id: 'as-summary-heading', tabindex: '-1' }, 'Evaluation summary'), box, el('p', {}, csv));
  let seq = 0;
  return {
    node,
    async load(webinar, session) {
      const my = ++seq;
      const query = `?session=${encodeURIComponent(session)}`;
      csv.href = `/api/webinars/${webinar.id}/evaluation.csv${query}`;
      const res = await api('GET', `/api/webinars/${webinar.id}/evaluation/summary${query}`);
      if (my !== seq) return;
      if (res?.status !== 200) { clear(box).append(el('p', {}, problem(res, 'The summary could not be loaded'))); return; }
      clear(box).append(
        el('p', { class: 'panel-summary' }, `${plural(res.data.responses, 'response')} for session ${session}.`),
        el('ol', { class: 'as-summary' }, ...res.data.items.map(summaryItem)));
    },
    reset() { seq++; clear(box); },
  };
}

export function mountAssessment() {
  const picker = el('select', { id: 'as-session', 'data-testid': 'assessment-session' });
  const bank = bankEditor();
  const summary = evaluationSummary();
  let webinar = null;
  const evaluation = evaluationEditor({ onSaved: () => webinar && summary.load(webinar, picker.value) });
  document.getElementById('assessment-slot').append(
    el('div', { class: 'panel-tools' }, el('div', { class: 'field grow' }, el('label', { for: 'as-session' }, 'Session'), picker)),
    bank.node, evaluation.node, summary.node);
  picker.addEventListener('change', () => {
    bank.load(webinar, picker.value);
    summary.load(webinar, picker.value);
  });
  return {
    show(w) {
      const keep = webinar && webinar.id === w.id ? picker.value : null;
      webinar = w;
      const sessions = w.sessions || [];
      const label = (s) => `Session ${s.number}${s.starts_at ? ` — ${shortDateTime(s.starts_at)}` : ''}`;
      clear(picker).append(...sessions.map((s) => el('option', { value: String(s.number) }, label(s))));
      if (keep && sessions.some((s) => String(s.number) === keep)) picker.value = keep;
      if (!sessions.length) return;
      bank.load(w, picker.value);
      evaluation.load(w);
      summary.load(w, picker.value);
    },
    reset() {
      webinar = null;
      bank.reset();
      evaluation.reset();
      summary.reset();
    },
  };
}
