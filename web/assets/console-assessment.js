// Console "Post-test" panel: per session, the question bank (single/multiple choice, options with
// their right answers ticked) saved with PUT /api/webinars/{id}/sessions/{n}/test; the series'
// evaluation items (1–5 scales and text, per session or for every session) saved with PUT
// /api/webinars/{id}/evaluation; and the evaluation summary (responses, mean and 1–5 counts per
// scale, the text answers) with its CSV export. The panel builds its own markup in #assessment-slot.
import { el, clear, focusRegion } from '/assets/dom.js';
import { shortDateTime } from '/assets/format.js';
import { api, problem, errorOf } from '/assets/console-common.js';

const MAX_OPTIONS = 8;

function sessionLabel(s) {
  return `Session ${s.number}${s.starts_at ? ` — ${shortDateTime(s.starts_at)}` : ''}`;
}

export function mountAssessment() {
  const slot = document.getElementById('assessment-slot');
  let webinar = null;
  let seq = 0;
  let nextKey = 0;

  // ---- markup ----
  const picker = el('select', { id: 'as-session', 'data-testid': 'assessment-session' });
  const bankList = el('ol', { class: 'as-list', 'data-testid': 'bank-list' });
  const bankStatus = el('p', { class: 'panel-summary', role: 'status', 'aria-live': 'polite', 'data-testid': 'bank-status' });
  const bankError = el('p', { class: 'notice error', role: 'alert', hidden: true, 'data-testid': 'bank-error' });
  const addQuestion = el('button', { type: 'button', class: 'button secondary small', 'data-testid': 'bank-add' }, 'Add a question');
  const saveBank = el('button', { type: 'button', class: 'button small', 'data-testid': 'bank-save' }, 'Save the post-test');
  const itemList = el('ol', { class: 'as-list', 'data-testid': 'evaluation-items' });
  const itemStatus = el('p', { class: 'panel-summary', role: 'status', 'aria-live': 'polite', 'data-testid': 'evaluation-status' });
  const itemError = el('p', { class: 'notice error', role: 'alert', hidden: true, 'data-testid': 'evaluation-error' });
  const addItem = el('button', { type: 'button', class: 'button secondary small', 'data-testid': 'evaluation-add' }, 'Add an item');
  const saveItems = el('button', { type: 'button', class: 'button small', 'data-testid': 'evaluation-save' }, 'Save the evaluation');
  const summaryBox = el('div', { 'data-testid': 'evaluation-summary' });
  const csv = el('a', { class: 'button secondary small', href: '#', download: true, 'data-testid': 'evaluation-csv' }, 'Export evaluation CSV');

  slot.append(
    el('div', { class: 'panel-tools' },
      el('div', { class: 'field grow' }, el('label', { for: 'as-session' }, 'Session'), picker)),
    el('section', { class: 'as-section', 'aria-labelledby': 'as-bank-heading' },
      el('h3', { id: 'as-bank-heading', tabindex: '-1' }, 'Post-test questions'),
      el('p', { class: 'hint' }, 'Tick the right answer of each question. Registrants never see which answers are right; the server grades.'),
      bankList, bankError,
      el('div', { class: 'actions' }, addQuestion, saveBank), bankStatus),
    el('section', { class: 'as-section', 'aria-labelledby': 'as-eval-heading' },
      el('h3', { id: 'as-eval-heading', tabindex: '-1' }, 'Evaluation'),
      el('p', { class: 'hint' }, 'Asked after a session: 1–5 scales and free text, for every session or one session.'),
      itemList, itemError,
      el('div', { class: 'actions' }, addItem, saveItems), itemStatus),
    el('section', { class: 'as-section', 'aria-labelledby': 'as-summary-heading' },
      el('h3', { id: 'as-summary-heading', tabindex: '-1' }, 'Evaluation summary'),
      summaryBox,
      el('p', {}, csv)));

  // ---- question bank ----
  function optionRow(q, text = '', right = false) {
    const key = nextKey++;
    const input = el('input', { type: 'text', id: `as-opt-${key}`, value: text, maxlength: '300', 'aria-label': 'Answer', 'data-role': 'option' });
    const mark = el('input', { type: 'checkbox', id: `as-right-${key}`, 'data-role': 'right' });
    mark.checked = right;
    const remove = el('button', { type: 'button', class: 'button secondary small', 'aria-label': 'Remove this answer' }, 'Remove');
    const row = el('li', { class: 'as-option' },
      el('div', { class: 'checkbox' }, mark, el('label', { for: `as-right-${key}` }, 'Right')), input, remove);
    remove.addEventListener('click', () => { if (q.querySelectorAll('.as-option').length > 2) row.remove(); });
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
    addOption.addEventListener('click', () => {
      if (options.children.length < MAX_OPTIONS) options.append(optionRow(card));
    });
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

  function readBank() {
    return [...bankList.children].map((card) => {
      const options = [...card.querySelectorAll('[data-role="option"]')].map((i) => i.value);
      const correct = [...card.querySelectorAll('[data-role="right"]')].flatMap((c, i) => (c.checked ? [i] : []));
      return { kind: card.querySelector('[data-role="kind"]').value, prompt: card.querySelector('[data-role="prompt"]').value, options, correct };
    });
  }

  function showBank(questions) {
    clear(bankList).append(...questions.map(questionCard));
    bankStatus.textContent = questions.length ? `${questions.length} question${questions.length === 1 ? '' : 's'}.` : 'No questions yet.';
  }

  // A 422 names e.g. questions[3].correct: the message goes under that question.
  function showFieldError(list, res, prefix) {
    const error = errorOf(res?.data);
    const m = new RegExp(`^${prefix}\\[(\\d+)\\]`).exec(error.field || '');
    const card = m ? list.children[Number(m[1])] : null;
    if (card) {
      card.querySelector('[data-role="error"]').textContent = error.message;
      focusRegion(card);
    }
  }

  async function loadBank() {
    const my = ++seq;
    bankStatus.textContent = 'Loading…';
    const res = await api('GET', `/api/webinars/${webinar.id}/sessions/${picker.value}/test`);
    if (my !== seq) return;
    if (!res || res.status !== 200) { bankStatus.textContent = problem(res, 'The post-test could not be loaded'); return; }
    showBank(res.data.questions);
  }

  saveBank.addEventListener('click', async () => {
    for (const e of bankList.querySelectorAll('[data-role="error"]')) e.textContent = '';
    bankError.hidden = true;
    saveBank.disabled = true;
    const res = await api('PUT', `/api/webinars/${webinar.id}/sessions/${picker.value}/test`, { questions: readBank() });
    saveBank.disabled = false;
    if (res?.status === 200) {
      showBank(res.data.questions);
      bankStatus.textContent = `Saved: ${res.data.questions.length} question${res.data.questions.length === 1 ? '' : 's'}.`;
      return;
    }
    bankError.textContent = problem(res, 'The post-test was not saved');
    bankError.hidden = false;
    showFieldError(bankList, res, 'questions');
  });
  addQuestion.addEventListener('click', () => {
    const card = questionCard();
    bankList.append(card);
    card.querySelector('textarea').focus();
  });

  // ---- evaluation items ----
  function itemCard(data = { id: null, session_number: null, kind: 'scale', prompt: '', required: true }) {
    const key = nextKey++;
    const prompt = el('input', { type: 'text', id: `as-item-${key}`, value: data.prompt, maxlength: '1000', 'data-role': 'prompt' });
    const kind = el('select', { 'data-role': 'kind', id: `as-item-kind-${key}` },
      el('option', { value: 'scale' }, '1–5 scale'), el('option', { value: 'text' }, 'Free text'));
    kind.value = data.kind;
    const when = el('select', { 'data-role': 'session', id: `as-item-when-${key}` },
      el('option', { value: '' }, 'After every session'),
      ...(webinar?.sessions || []).map((s) => el('option', { value: String(s.number) }, `After session ${s.number}`)));
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

  function readItems() {
    return [...itemList.children].map((card) => {
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

  async function loadItems() {
    const res = await api('GET', `/api/webinars/${webinar.id}/evaluation`);
    if (!res || res.status !== 200) { itemStatus.textContent = problem(res, 'The evaluation could not be loaded'); return; }
    clear(itemList).append(...res.data.items.map(itemCard));
    itemStatus.textContent = res.data.items.length ? '' : 'No evaluation items yet.';
  }

  saveItems.addEventListener('click', async () => {
    for (const e of itemList.querySelectorAll('[data-role="error"]')) e.textContent = '';
    itemError.hidden = true;
    saveItems.disabled = true;
    const res = await api('PUT', `/api/webinars/${webinar.id}/evaluation`, { items: readItems() });
    saveItems.disabled = false;
    if (res?.status === 200) {
      clear(itemList).append(...res.data.items.map(itemCard));
      itemStatus.textContent = `Saved: ${res.data.items.length} item${res.data.items.length === 1 ? '' : 's'}.`;
      loadSummary();
      return;
    }
    itemError.textContent = problem(res, 'The evaluation was not saved');
    itemError.hidden = false;
    showFieldError(itemList, res, 'items');
  });
  addItem.addEventListener('click', () => {
    const card = itemCard();
    itemList.append(card);
    card.querySelector('input').focus();
  });

  // ---- summary ----
  function summaryItem(item) {
    const head = el('h4', {}, item.prompt);
    if (item.kind === 'scale') {
      const counts = el('ol', { class: 'as-dist' }, ...item.distribution.map((n, i) =>
        el('li', {}, el('span', { class: 'as-dist-label' }, String(i + 1)), el('span', { class: 'as-dist-count' }, String(n)))));
      return el('li', { class: 'as-summary-item', 'data-testid': 'summary-item' }, head,
        el('p', {}, item.count ? `Mean ${item.mean.toFixed(2)} of 5 from ${item.count} answer${item.count === 1 ? '' : 's'}.` : 'No answers yet.'), counts);
    }
    return el('li', { class: 'as-summary-item', 'data-testid': 'summary-item' }, head,
      item.answers.length ? el('ul', { class: 'as-texts' }, ...item.answers.map((a) => el('li', {}, a.text))) : el('p', {}, 'No answers yet.'));
  }

  async function loadSummary() {
    const session = picker.value;
    csv.href = `/api/webinars/${webinar.id}/evaluation.csv?session=${encodeURIComponent(session)}`;
    const res = await api('GET', `/api/webinars/${webinar.id}/evaluation/summary?session=${encodeURIComponent(session)}`);
    if (!res || res.status !== 200) { clear(summaryBox).append(el('p', {}, problem(res, 'The summary could not be loaded'))); return; }
    const s = res.data;
    clear(summaryBox).append(
      el('p', { class: 'panel-summary' }, `${s.responses} response${s.responses === 1 ? '' : 's'} for session ${session}.`),
      el('ol', { class: 'as-summary' }, ...s.items.map(summaryItem)));
  }

  picker.addEventListener('change', () => { loadBank(); loadSummary(); });

  return {
    show(w) {
      const keep = webinar && webinar.id === w.id ? picker.value : null;
      webinar = w;
      const sessions = w.sessions || [];
      clear(picker).append(...sessions.map((s) => el('option', { value: String(s.number) }, sessionLabel(s))));
      if (keep && sessions.some((s) => String(s.number) === keep)) picker.value = keep;
      if (!sessions.length) return;
      loadBank();
      loadItems();
      loadSummary();
    },
    reset() {
      webinar = null;
      seq++;
      clear(bankList);
      clear(itemList);
      clear(summaryBox);
    },
  };
}
