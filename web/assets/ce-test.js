// The post-test and evaluation page (/ce/{id}/test#token=T&session=N). The token comes from the
// URL fragment (then kept in this device's localStorage and dropped from the address bar, like
// the room page) and goes to the API as a bearer token. The server grades: the page only ever
// holds the questions and option ids it was shown, never the right answers.
import { request, errorOf, NetworkError } from '/assets/api.js';
import { el, clear, focusRegion } from '/assets/dom.js';
import { storeToken, loadToken } from '/assets/token.js';

const $ = (id) => document.getElementById(id);
const match = /^\/ce\/([1-9][0-9]{0,15})\/test\/?$/.exec(location.pathname);
const webinarId = match ? match[1] : null;

function readFragment() {
  const params = new URLSearchParams(location.hash.replace(/^#/, ''));
  const session = /^[1-9][0-9]{0,4}$/.test(params.get('session') || '') ? Number(params.get('session')) : 1;
  let token = (params.get('token') || '').trim() || null;
  if (token) {
    storeToken(webinarId, token);
    // Keep the session in the address bar, not the token (it would end up in history and screenshots).
    history.replaceState(history.state, '', `${location.pathname}${location.search}#session=${session}`);
  } else {
    token = loadToken(webinarId);
  }
  return { token, session };
}

const { token, session } = webinarId ? readFragment() : { token: null, session: 1 };
const base = `/api/me/ce/${session}`;

function showNoAccess(message) {
  $('page-status').hidden = true;
  $('ce-page').hidden = true;
  $('no-access-text').textContent = message;
  if (webinarId) {
    $('no-access-link').href = `/w/${webinarId}`;
    $('no-access-link').textContent = 'Go to the registration page';
  }
  $('no-access').hidden = false;
  document.title = 'Post-test not available — Cohort';
}

// An answer that is not a success for the page as a whole: no access, or the server unreachable.
function refused(res) {
  if (res.status === 401) showNoAccess('This link is no longer valid. Use the join link from your registration email.');
  else if (res.status === 404) showNoAccess(errorOf(res.data).message || 'This session does not exist.');
  else showNoAccess(errorOf(res.data).message || 'Something went wrong. Please reload the page.');
}

async function call(method, path, body) {
  try {
    return await request(method, path, { token, body });
  } catch (err) {
    if (!(err instanceof NetworkError)) throw err;
    return { status: 0, data: null };
  }
}

const unreachable = 'We could not reach the server. Please check your connection and try again.';

// ---- post-test ----

function plural(n, word) { return `${n} ${word}${n === 1 ? '' : 's'}`; }

function renderSummary(t) {
  const parts = [`Pass mark ${t.pass_percent}%.`, `${plural(t.attempts.used, 'attempt')} used of ${t.attempts.max}.`];
  if (t.best_score !== null) parts.push(`Best score so far: ${t.best_score}%.`);
  $('test-summary').textContent = parts.join(' ');
}

function showResult(r) {
  const box = clear($('test-result'));
  box.className = `notice ce-result ${r.passed ? 'passed' : 'failed'}`;
  box.append(
    el('p', { class: 'ce-result-score', 'data-testid': 'test-score' }, `${r.score_percent}% — ${r.passed ? 'passed' : 'not passed'}`),
    el('p', {}, `${r.right} of ${r.total} questions right; the pass mark is ${r.pass_percent}%.`),
    r.passed ? el('p', {}, 'Well done. Your post-test for this session is complete.')
      : el('p', {}, r.attempts.left > 0 ? `You have ${plural(r.attempts.left, 'attempt')} left.` : 'You have no attempts left.'),
  );
  box.hidden = false;
}

function questionNode(q, index) {
  const type = q.kind === 'single' ? 'radio' : 'checkbox';
  const legendId = `q-${q.id}-legend`;
  const errorId = `q-${q.id}-error`;
  const options = q.options.map((o) => {
    const id = `q-${q.id}-o-${o.id}`;
    return el('div', { class: type === 'radio' ? 'radio' : 'radio ce-check' },
      el('input', { type, id, name: `q-${q.id}`, value: String(o.id), 'data-question': String(q.id) }),
      el('label', { for: id }, o.text));
  });
  return el('li', {},
    el('fieldset', { class: 'choice', 'aria-describedby': errorId, 'data-question': String(q.id) },
      el('legend', { id: legendId },
        el('span', { class: 'ce-question-number' }, `${index + 1}.`), q.prompt,
        el('span', { class: 'ce-kind-hint' }, q.kind === 'single' ? 'Choose one answer.' : 'Choose every answer that applies.')),
      options,
      el('span', { id: errorId, class: 'field-error' })));
}

let openAttempt = null;

function showAttempt(attempt) {
  openAttempt = attempt;
  const list = clear($('test-questions'));
  attempt.questions.forEach((q, i) => list.append(questionNode(q, i)));
  $('test-error').hidden = true;
  $('test-start-actions').hidden = true;
  $('test-form').hidden = false;
}

function renderTest(t) {
  renderSummary(t);
  $('test-form').hidden = true;
  $('test-start-actions').hidden = true;
  const closed = $('test-closed');
  closed.hidden = true;
  closed.className = 'notice';
  if (t.state === 'open') {
    if (t.open_attempt) return showAttempt(t.open_attempt);
    $('test-start').textContent = t.attempts.used > 0 ? 'Try again' : 'Start the post-test';
    $('test-start-actions').hidden = false;
    return undefined;
  }
  // A pass just shown in the result box needs no second notice.
  if (t.state === 'already_passed' && !$('test-result').hidden) return undefined;
  closed.textContent = t.state === 'already_passed' ? `You passed this post-test with ${t.best_score}%.` : t.message;
  if (t.state === 'already_passed') closed.className = 'notice success';
  closed.hidden = false;
  return undefined;
}

async function loadTest() {
  const res = await call('GET', `${base}/test`);
  if (res.status === 0) { $('page-status').textContent = unreachable; return false; }
  if (res.status !== 200) { refused(res); return false; }
  renderTest(res.data);
  return true;
}

async function startAttempt() {
  const button = $('test-start');
  button.disabled = true;
  const res = await call('POST', `${base}/test/attempts`);
  button.disabled = false;
  if (res.status === 200 || res.status === 201) {
    $('test-result').hidden = true;
    showAttempt(res.data);
    focusRegion($('test-questions').querySelector('legend') || $('test-form'));
    return;
  }
  const closed = $('test-closed');
  closed.textContent = res.status === 0 ? unreachable : errorOf(res.data).message || 'The post-test could not start.';
  closed.hidden = false;
  if (res.status === 409 || res.status === 403) await loadTest();
}

function collectAnswers() {
  const answers = {};
  for (const q of openAttempt.questions) answers[q.id] = [];
  for (const input of $('test-form').querySelectorAll('input:checked')) answers[input.dataset.question].push(Number(input.value));
  return answers;
}

async function submitAttempt(event) {
  event.preventDefault();
  const answers = collectAnswers();
  for (const span of $('test-form').querySelectorAll('.field-error')) span.textContent = '';
  const unanswered = openAttempt.questions.filter((q) => answers[q.id].length === 0);
  if (unanswered.length > 0) {
    for (const q of unanswered) $(`q-${q.id}-error`).textContent = 'Please answer this question.';
    const error = $('test-error');
    error.textContent = `Please answer every question (${plural(unanswered.length, 'question')} left).`;
    error.hidden = false;
    focusRegion($(`q-${unanswered[0].id}-legend`));
    return;
  }
  $('test-error').hidden = true;
  const button = $('test-submit');
  button.disabled = true;
  const res = await call('POST', `${base}/test/attempts/${openAttempt.id}`, { answers });
  button.disabled = false;
  if (res.status === 200) {
    openAttempt = null;
    showResult(res.data);
    await loadTest();
    focusRegion($('test-result'));
    await loadEvaluation();
    return;
  }
  const err = errorOf(res.data);
  const field = /^answers\.(\d+)$/.exec(err.field || '');
  if (res.status === 422 && field && $(`q-${field[1]}-error`)) $(`q-${field[1]}-error`).textContent = err.message;
  const error = $('test-error');
  error.textContent = res.status === 0 ? unreachable : err.message || 'Your answers could not be sent.';
  error.hidden = false;
  if (res.status === 409) await loadTest();
}

// ---- evaluation ----

let evaluationItems = [];

function itemNode(item) {
  const errorId = `e-${item.id}-error`;
  const optional = item.required ? null : el('span', { class: 'optional' }, ' (optional)');
  if (item.kind === 'scale') {
    const choices = [1, 2, 3, 4, 5].map((n) => {
      const id = `e-${item.id}-${n}`;
      return el('div', { class: 'radio' },
        el('input', { type: 'radio', id, name: `e-${item.id}`, value: String(n), 'data-item': String(item.id) }),
        el('label', { for: id }, String(n)));
    });
    return el('div', { class: 'ce-eval-item' },
      el('fieldset', { class: 'choice', id: `e-${item.id}-group`, 'aria-describedby': errorId },
        el('legend', { id: `e-${item.id}-legend` }, item.prompt, optional),
        el('div', { class: 'ce-scale' }, choices),
        el('div', { class: 'ce-scale-ends', 'aria-hidden': 'true' }, el('span', {}, '1 = strongly disagree'), el('span', {}, '5 = strongly agree')),
        el('span', { id: errorId, class: 'field-error' })));
  }
  const id = `e-${item.id}-text`;
  return el('div', { class: 'field ce-eval-item' },
    el('label', { for: id, id: `e-${item.id}-legend` }, item.prompt, optional),
    el('textarea', { id, rows: '4', maxlength: '2000', 'data-item': String(item.id), 'aria-describedby': errorId }),
    el('span', { id: errorId, class: 'field-error' }));
}

function renderSubmitted(e) {
  const closed = $('evaluation-closed');
  closed.className = 'notice success';
  closed.replaceChildren(el('p', {}, 'Thank you: your evaluation was received.'));
  const list = el('dl', { class: 'ce-answers' });
  for (const item of e.items) {
    const answer = e.submission.answers[item.id];
    if (answer === undefined) continue;
    list.append(el('dt', {}, item.prompt), el('dd', { class: 'ce-answer' }, item.kind === 'scale' ? `${answer} of 5` : String(answer)));
  }
  closed.append(list);
  closed.hidden = false;
}

function renderEvaluation(e) {
  evaluationItems = e.items;
  $('evaluation-intro').textContent = e.required
    ? 'The evaluation is required for your certificate. It takes a minute; every answer helps us improve the series.'
    : 'Tell us how the session went. It takes a minute.';
  $('evaluation-form').hidden = true;
  const closed = $('evaluation-closed');
  closed.className = 'notice';
  closed.hidden = true;
  if (e.state === 'submitted') return renderSubmitted(e);
  if (e.state !== 'open') {
    closed.textContent = e.message;
    closed.hidden = false;
    return undefined;
  }
  clear($('evaluation-items')).append(...e.items.map(itemNode));
  $('evaluation-error').hidden = true;
  $('evaluation-form').hidden = false;
  return undefined;
}

async function loadEvaluation() {
  const res = await call('GET', `${base}/evaluation`);
  if (res.status !== 200) {
    const closed = $('evaluation-closed');
    closed.textContent = res.status === 0 ? unreachable : errorOf(res.data).message || 'The evaluation could not be loaded.';
    closed.hidden = false;
    return;
  }
  renderEvaluation(res.data);
}

function markItem(itemId, message) {
  $(`e-${itemId}-error`).textContent = message;
  const target = $(`e-${itemId}-group`) || $(`e-${itemId}-text`);
  target?.setAttribute('aria-invalid', message ? 'true' : 'false');
}

async function submitEvaluation(event) {
  event.preventDefault();
  const answers = {};
  const missing = [];
  for (const item of evaluationItems) {
    markItem(item.id, '');
    if (item.kind === 'scale') {
      const checked = $('evaluation-form').querySelector(`input[name="e-${item.id}"]:checked`);
      if (checked) answers[item.id] = Number(checked.value);
    } else {
      const text = $(`e-${item.id}-text`).value.trim();
      if (text) answers[item.id] = text;
    }
    if (item.required && answers[item.id] === undefined) missing.push(item);
  }
  const error = $('evaluation-error');
  if (missing.length > 0) {
    for (const item of missing) markItem(item.id, item.kind === 'scale' ? 'Please choose 1 to 5.' : 'Please answer this question.');
    error.textContent = 'Please answer the required questions.';
    error.hidden = false;
    focusRegion($(`e-${missing[0].id}-legend`));
    return;
  }
  error.hidden = true;
  const button = $('evaluation-submit');
  button.disabled = true;
  const res = await call('POST', `${base}/evaluation`, { answers });
  button.disabled = false;
  if (res.status === 201) {
    renderEvaluation(res.data);
    focusRegion($('evaluation-closed'));
    return;
  }
  const err = errorOf(res.data);
  const field = /^answers\.(\d+)$/.exec(err.field || '');
  if (res.status === 422 && field && $(`e-${field[1]}-error`)) markItem(field[1], err.message);
  error.textContent = res.status === 0 ? unreachable : err.message || 'Your evaluation could not be sent.';
  error.hidden = false;
  if (res.status === 409) await loadEvaluation();
}

// The series' title under the heading; the page works without it.
async function loadTitle() {
  const res = await call('GET', `/api/webinars/${webinarId}`);
  if (res.status === 200 && typeof res.data?.title === 'string') $('webinar-title').textContent = res.data.title;
}

async function main() {
  if (!webinarId) return showNoAccess('This address does not name a webinar.');
  if (!token) return showNoAccess('Open this page from the link on your My CE page or in your email.');
  $('session-number').textContent = String(session);
  $('my-ce-link').href = `/ce/${webinarId}#token=${encodeURIComponent(token)}`;
  document.title = `Session ${session} post-test — Cohort`;
  if (!(await loadTest())) return undefined;
  await Promise.all([loadEvaluation(), loadTitle()]);
  $('page-status').hidden = true;
  $('ce-page').hidden = false;
  return undefined;
}

$('test-start').addEventListener('click', startAttempt);
$('test-form').addEventListener('submit', submitAttempt);
// An answer given clears that question's "please answer" note.
$('test-form').addEventListener('change', (event) => {
  const id = event.target.dataset?.question;
  if (id && $(`q-${id}-error`)) $(`q-${id}-error`).textContent = '';
});
$('evaluation-form').addEventListener('change', (event) => {
  const id = event.target.dataset?.item;
  if (id && $(`e-${id}-error`)) markItem(id, '');
});
$('evaluation-form').addEventListener('submit', submitEvaluation);
main();
