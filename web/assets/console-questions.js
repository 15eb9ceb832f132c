// Console: the series' signup questions (in the Registrants panel). Ready-made questions for
// the license number, the state or province of licensure and the discipline (what CE
// certificates print), custom ones (short text, choice, checkbox), each optional or required;
// saved as a whole with PUT /api/webinars/{id}/questions, which keeps the answers to questions
// that stay. Builds its own DOM into #questions-slot.
//
// Stable hooks for browser tests (data-testid): questions-editor, questions-add-license_number,
// questions-add-state, questions-add-discipline, questions-add-custom, question-row (data-key),
// question-label, question-kind, question-options, question-required, question-remove,
// questions-save, questions-status.
import { el, clear } from '/assets/dom.js';
import { api, problem } from '/assets/console-common.js';

const $ = (id) => document.getElementById(id);
const PRESETS = [
  { key: 'license_number', button: 'Add license number', label: 'License number', kind: 'text' },
  { key: 'state', button: 'Add state', label: 'State or province of licensure', kind: 'text' },
  { key: 'discipline', button: 'Add discipline', label: 'Discipline', kind: 'choice', options: ['OT', 'OTA', 'PT', 'PTA', 'SLP', 'Other'] },
];
const KINDS = [['text', 'Short text'], ['choice', 'Choice'], ['checkbox', 'Checkbox']];
const MAX = 20;

export function mountQuestions({ announce }) {
  const slot = $('questions-slot');
  let webinar = null;
  let rows = []; // { key, preset, label, kind, options, required } as edited
  let loadSeq = 0;
  let nextLocal = 0;

  const list = el('ol', { class: 'question-list' });
  const status = el('p', { class: 'panel-summary', role: 'status', 'aria-live': 'polite', 'data-testid': 'questions-status' });
  const save = el('button', { type: 'button', class: 'button small', 'data-testid': 'questions-save' }, 'Save questions');
  const presetButtons = PRESETS.map((p) => {
    const b = el('button', { type: 'button', class: 'button secondary small', 'data-testid': `questions-add-${p.key}` }, p.button);
    b.addEventListener('click', () => add({ key: p.key, preset: true, label: p.label, kind: p.kind, options: p.options ?? [], required: false }));
    return b;
  });
  const custom = el('button', { type: 'button', class: 'button secondary small', 'data-testid': 'questions-add-custom' }, 'Add custom question');
  custom.addEventListener('click', () => add({ key: '', local: ++nextLocal, preset: false, label: '', kind: 'text', options: [], required: false }));
  save.addEventListener('click', () => store());

  const editor = el('section', { class: 'questions-editor', 'aria-labelledby': 'questions-heading', 'data-testid': 'questions-editor' },
    el('h4', { id: 'questions-heading', tabindex: '-1' }, 'Signup form questions'),
    el('p', { class: 'hint' }, 'Asked on the signup form after name and email. The license number (and name) are printed on CE certificates; answers appear in the registrant list and the CSV export.'),
    list,
    el('div', { class: 'actions question-add' }, ...presetButtons, custom),
    el('div', { class: 'actions' }, save),
    status);
  slot.replaceChildren(editor);

  function add(q) {
    if (rows.length >= MAX) { status.textContent = `A signup form has at most ${MAX} questions.`; return; }
    rows.push(q);
    render();
    list.lastElementChild?.querySelector('input, select')?.focus();
  }

  function rowId(q) { return q.key || `new-${q.local}`; }

  function row(q, i) {
    const id = `question-${rowId(q)}`;
    const label = el('input', { id: `${id}-label`, type: 'text', maxlength: '200', value: q.label, 'data-testid': 'question-label' });
    label.addEventListener('input', () => { q.label = label.value; });
    const kind = el('select', { id: `${id}-kind`, 'data-testid': 'question-kind', disabled: q.preset });
    for (const [value, text] of KINDS) kind.append(el('option', { value, selected: q.kind === value }, text));
    const options = el('textarea', { id: `${id}-options`, rows: '3', 'data-testid': 'question-options', disabled: q.preset }, q.options.join('\n'));
    const optionsField = el('div', { class: 'field' },
      el('label', { for: `${id}-options` }, 'Options ', el('span', { class: 'optional' }, '(one per line, 2 to 30)')), options);
    optionsField.hidden = q.kind !== 'choice';
    options.addEventListener('input', () => { q.options = options.value.split('\n').map((s) => s.trim()).filter(Boolean); });
    kind.addEventListener('change', () => { q.kind = kind.value; optionsField.hidden = q.kind !== 'choice'; });
    const required = el('input', { id: `${id}-required`, type: 'checkbox', checked: q.required, 'data-testid': 'question-required' });
    required.addEventListener('change', () => { q.required = required.checked; });
    const name = q.label || 'this question';
    const up = el('button', { type: 'button', class: 'chat-tool', 'aria-label': `Move ${name} up`, disabled: i === 0 }, 'Up');
    up.addEventListener('click', () => { [rows[i - 1], rows[i]] = [rows[i], rows[i - 1]]; render(); });
    const remove = el('button', { type: 'button', class: 'chat-tool danger', 'aria-label': `Remove ${name}`, 'data-testid': 'question-remove' }, 'Remove');
    remove.addEventListener('click', () => { rows.splice(i, 1); render(); });
    return el('li', { class: 'question-row', 'data-testid': 'question-row', dataset: { key: q.key } },
      el('div', { class: 'question-fields' },
        el('div', { class: 'field grow' }, el('label', { for: `${id}-label` }, q.preset ? 'Label (ready-made question)' : 'Question'), label,
          el('span', { id: `${id}-error`, class: 'field-error' })),
        el('div', { class: 'field' }, el('label', { for: `${id}-kind` }, 'Answer'), kind)),
      optionsField,
      el('div', { class: 'question-foot' },
        el('div', { class: 'field checkbox' }, required, el('label', { for: `${id}-required` }, 'Required')),
        el('div', { class: 'chat-tools' }, up, remove)));
  }

  // After any change the last "Saved" no longer holds.
  function render() {
    status.textContent = '';
    clear(list).append(...rows.map(row));
    for (const [n, p] of PRESETS.entries()) presetButtons[n].disabled = rows.some((q) => q.key === p.key);
    custom.disabled = rows.length >= MAX;
  }

  function fromServer(questions) {
    rows = questions.map((q) => ({ key: q.key, preset: PRESETS.some((p) => p.key === q.key), label: q.label, kind: q.kind,
      options: Array.isArray(q.options) ? q.options : [], required: Boolean(q.required) }));
    render();
  }

  async function load() {
    if (!webinar) return;
    const mine = ++loadSeq;
    const res = await api('GET', `/api/webinars/${webinar.id}/questions`);
    if (mine !== loadSeq) return;
    if (!res || res.status !== 200 || !Array.isArray(res.data?.questions)) {
      if (res?.status !== 401) status.textContent = problem(res, 'The signup questions could not be loaded');
      return;
    }
    fromServer(res.data.questions);
    status.textContent = '';
  }

  // A 422 names "questions[i].<member>": mark that row's label (the other members are chosen from lists).
  function showError(res) {
    const field = res?.data?.error?.field ?? '';
    const m = /^questions\[(\d+)\]/.exec(field);
    const q = m ? rows[Number(m[1])] : null;
    if (q) {
      const id = `question-${rowId(q)}`;
      const input = $(`${id}-label`);
      $(`${id}-error`).textContent = res.data.error.message;
      input?.setAttribute('aria-invalid', 'true');
      input?.focus();
    }
    status.textContent = problem(res, 'The questions were not saved');
  }

  async function store() {
    if (!webinar) return;
    const body = { questions: rows.map((q) => (q.preset
      ? { key: q.key, label: q.label, required: q.required }
      : { ...(q.key ? { key: q.key } : {}), label: q.label, kind: q.kind, options: q.kind === 'choice' ? q.options : [], required: q.required })) };
    save.disabled = true;
    const res = await api('PUT', `/api/webinars/${webinar.id}/questions`, body);
    save.disabled = false;
    if (res?.status === 200 && Array.isArray(res.data?.questions)) {
      fromServer(res.data.questions);
      status.textContent = 'Saved. The signup form asks these questions now.';
      announce('The signup questions were saved.');
      return;
    }
    if (res?.status === 401) return;
    showError(res);
  }

  return {
    show(w) {
      if (!webinar || String(webinar.id) !== String(w.id)) {
        webinar = w;
        rows = [];
        render();
        status.textContent = 'Loading the signup questions…';
        load();
      }
    },
    reset() {
      webinar = null;
      loadSeq += 1;
      rows = [];
      render();
      status.textContent = '';
    },
  };
}
