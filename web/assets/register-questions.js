// The series' signup questions on the registration page (/w/{id}): renders them into the form
// (a text input, a select or a checkbox, a required marker, an error line each), reads the
// answers for the signup body, and shows the server's 422 for answers.<key> under its field.
// Rendering again with the same questions keeps what was typed.
const idOf = (key) => `q-${key}`;
let rendered = '';

function fieldFor(q) {
  const wrap = document.createElement('div');
  wrap.className = q.kind === 'checkbox' ? 'field checkbox' : 'field';
  const id = idOf(q.key);
  const label = document.createElement('label');
  label.htmlFor = id;
  label.textContent = q.label;
  if (q.required) {
    const mark = document.createElement('span');
    mark.className = 'required-mark';
    mark.setAttribute('aria-hidden', 'true');
    mark.textContent = ' *';
    label.append(mark);
  } else if (q.kind !== 'checkbox') {
    const optional = document.createElement('span');
    optional.className = 'optional';
    optional.textContent = ' (optional)';
    label.append(optional);
  }
  let input;
  if (q.kind === 'choice') {
    input = document.createElement('select');
    const none = document.createElement('option');
    none.value = '';
    none.textContent = 'Choose…';
    input.append(none);
    for (const option of q.options ?? []) {
      const o = document.createElement('option');
      o.value = option;
      o.textContent = option;
      input.append(o);
    }
  } else {
    input = document.createElement('input');
    input.type = q.kind === 'checkbox' ? 'checkbox' : 'text';
    if (q.kind !== 'checkbox') input.maxLength = 200;
    if (q.key === 'license_number') input.autocomplete = 'off';
  }
  input.id = id;
  input.name = id;
  input.dataset.questionKey = q.key;
  input.dataset.kind = q.kind;
  if (q.required) input.required = true;
  const error = document.createElement('span');
  error.id = `${id}-error`;
  error.className = 'field-error';
  // A checkbox sits before its label, as the consent box does.
  if (q.kind === 'checkbox') wrap.append(input, label, error);
  else wrap.append(label, input, error);
  return wrap;
}

// Fills `container` with the questions (an array from the series JSON; missing: none).
export function renderQuestions(container, questions) {
  const list = Array.isArray(questions) ? questions : [];
  const signature = JSON.stringify(list);
  if (signature === rendered) return;
  rendered = signature;
  container.replaceChildren(...list.map(fieldFor));
  container.hidden = list.length === 0;
}

// {key: value} for the signup body: text as typed, a choice's option, a checkbox's true/false.
// Unanswered optional text and choices are left out.
export function answersOf(container) {
  const answers = {};
  for (const input of container.querySelectorAll('[data-question-key]')) {
    const key = input.dataset.questionKey;
    if (input.dataset.kind === 'checkbox') answers[key] = input.checked;
    else if (input.value.trim() !== '') answers[key] = input.value;
  }
  return answers;
}

export function clearQuestionErrors(container) {
  for (const input of container.querySelectorAll('[data-question-key]')) {
    input.removeAttribute('aria-invalid');
    input.removeAttribute('aria-describedby');
    document.getElementById(`${input.id}-error`).textContent = '';
  }
}

// The server's 422 for field "answers.<key>" under that question's field; false when the field
// names no question on the page.
export function showQuestionError(container, field, message) {
  if (typeof field !== 'string' || !field.startsWith('answers.')) return false;
  const input = container.querySelector(`#${CSS.escape(idOf(field.slice('answers.'.length)))}`);
  if (!input) return false;
  document.getElementById(`${input.id}-error`).textContent = message;
  input.setAttribute('aria-invalid', 'true');
  input.setAttribute('aria-describedby', `${input.id}-error`);
  input.focus();
  return true;
}
