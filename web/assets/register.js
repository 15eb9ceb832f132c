// Registration page (/w/{id}): shows the webinar and posts the sign-up form, with the answers to
// the series' own questions (register-questions.js renders them and shows their errors). With the server's
// registration.confirm_email, a signup answers "pending" and the mailed link comes back here as
// /w/{id}#confirm=<token>: the page shows a button that posts the confirmation (a GET alone
// confirms nothing, since mail scanners open links).
import { request, errorOf, idFromPath, NetworkError } from '/assets/api.js';
import { copyText, focusRegion } from '/assets/dom.js';
import { answersOf, clearQuestionErrors, renderQuestions, showQuestionError } from '/assets/register-questions.js';
import { seatsText, sessionCountText } from '/assets/format.js';
import { renderSessions } from '/assets/sessions.js';
import { storeToken } from '/assets/token.js';
import '/assets/privacy-notice.js';  // the privacy notice above the Register button

const FIELDS = ['name', 'email', 'profession', 'consent'];
const $ = (id) => document.getElementById(id);

const webinarId = idFromPath('w');
const form = $('register-form');
const submitButton = $('submit-button');
let webinarTitle = '';

function showNotFound() {
  $('page-status').hidden = true;
  $('webinar').hidden = true;
  $('not-found').hidden = false;
  document.title = 'Webinar not found — Cohort';
  focusRegion($('not-found').querySelector('h1'));
}

function renderWebinar(webinar) {
  webinarTitle = String(webinar.title ?? '');
  document.title = `${webinarTitle} — Cohort`;
  $('webinar-title').textContent = webinarTitle;
  $('webinar-description').textContent = String(webinar.description ?? '');
  const seats = seatsText(webinar);
  $('seats').textContent = seats.text;
  $('seats').classList.toggle('full', seats.full);
  const sessions = Array.isArray(webinar.sessions) ? webinar.sessions : [];
  $('session-count').textContent = sessions.length ? sessionCountText(sessions.length) : '';
  renderSessions($('session-list'), $('tz-note'), sessions);
  renderQuestions($('questions'), webinar.questions);
  $('full-note').hidden = !seats.full;
  submitButton.textContent = seats.full ? 'Join the waitlist' : 'Register';
  $('register-heading').textContent = seats.full ? 'Join the waitlist for free' : 'Register for free';
  $('page-status').hidden = true;
  $('not-found').hidden = true;
  $('webinar').hidden = false;
}

async function loadWebinar() {
  if (!webinarId) { showNotFound(); return; }
  let res;
  try {
    res = await request('GET', `/api/webinars/${webinarId}`);
  } catch (err) {
    if (!(err instanceof NetworkError)) throw err;
    $('page-status').textContent = 'We could not load this webinar. Please check your connection and reload the page.';
    return;
  }
  if (res.status === 404) { showNotFound(); return; }
  if (res.status !== 200 || !res.data) {
    $('page-status').textContent = 'We could not load this webinar right now. Please try again in a moment.';
    return;
  }
  renderWebinar(res.data);
}

function describedBy(input, errorId, on) {
  const ids = (input.getAttribute('aria-describedby') || '').split(/\s+/).filter((x) => x && x !== errorId);
  if (on) ids.unshift(errorId);
  if (ids.length) input.setAttribute('aria-describedby', ids.join(' '));
  else input.removeAttribute('aria-describedby');
}

function clearMessages() {
  for (const field of FIELDS) {
    const input = $(field);
    input.removeAttribute('aria-invalid');
    describedBy(input, `${field}-error`, false);
    $(`${field}-error`).textContent = '';
  }
  clearQuestionErrors($('questions'));
  $('form-error').hidden = true;
  $('form-error').textContent = '';
  $('form-notice').hidden = true;
  $('form-notice').replaceChildren();
}

const capitalized = (message) => (typeof message === 'string' && message
  ? message.charAt(0).toUpperCase() + message.slice(1) : 'Please check this field.');

function showFieldError(field, message) {
  const input = $(field);
  $(`${field}-error`).textContent = capitalized(message);
  input.setAttribute('aria-invalid', 'true');
  describedBy(input, `${field}-error`, true);
  input.focus();
}

function showFormError(message) {
  $('form-error').textContent = message;
  $('form-error').hidden = false;
}

function showAlreadyRegistered() {
  const notice = $('form-notice');
  const strong = document.createElement('strong');
  strong.textContent = 'This email is already registered for this webinar.';
  const rest = document.createElement('p');
  rest.textContent = 'Use the personal join link you received when you registered. No new link is created for the same address.';
  const first = document.createElement('p');
  first.append(strong);
  notice.replaceChildren(first, rest);
  notice.hidden = false;
  notice.focus();
}

function showPending() {
  $('pending-text').textContent =
    `To finish, open the link in the email we just sent to the address you gave. Your place for ${webinarTitle} is kept for you until then.`;
  $('register-section').hidden = true;
  $('pending').hidden = false;
  focusRegion($('pending-heading'));
}

function showSuccess(result) {
  const waitlisted = result.status === 'waitlisted';
  $('success-heading').textContent = waitlisted ? "You're on the waitlist" : "You're registered";
  $('success-text').textContent = waitlisted
    ? `All seats for ${webinarTitle} are taken right now. If a seat opens up you are moved in automatically; your personal link always shows your current status.`
    : `Your seat for ${webinarTitle} is saved. Use your personal link to enter the live room when the session starts.`;
  const link = $('join-link');
  link.href = result.join_url;
  link.textContent = result.join_url;
  $('copy-status').textContent = '';
  $('register-section').hidden = true;
  $('success').hidden = false;
  focusRegion($('success-heading'));
}

async function copyJoinLink() {
  const copied = await copyText($('join-link').href);
  $('copy-button').focus();  // the fallback's hidden textarea took it
  $('copy-status').textContent = copied ? 'Link copied.' : 'Copy did not work here: select the link and copy it by hand.';
}

async function submit(event) {
  event.preventDefault();
  if (submitButton.disabled) return;
  clearMessages();
  const body = {
    name: $('name').value,
    email: $('email').value,
    profession: $('profession').value,
    consent: $('consent').checked,
  };
  const answers = answersOf($('questions'));
  if (Object.keys(answers).length) body.answers = answers;
  if ($('website').value) body.website = $('website').value;
  // So the emails give session times in the reader's zone (the server ignores one it does not know).
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (zone) body.time_zone = zone;
  submitButton.disabled = true;
  form.setAttribute('aria-busy', 'true');
  const label = submitButton.textContent;
  submitButton.textContent = 'Sending…';
  let res;
  try {
    res = await request('POST', `/api/webinars/${webinarId}/registrations`, { body });
  } catch (err) {
    if (!(err instanceof NetworkError)) throw err;
    res = null;
  } finally {
    submitButton.disabled = false;
    form.removeAttribute('aria-busy');
    submitButton.textContent = label;
  }
  if (!res) {
    showFormError('We could not reach the server, so you are not registered yet. Please check your connection and try again.');
    return;
  }
  const data = res.data || {};
  if (res.status === 201 && typeof data.join_url === 'string') {
    if (typeof data.token === 'string') storeToken(data.webinar_id ?? webinarId, data.token);
    showSuccess(data);
    loadWebinar();
    return;
  }
  if (res.status === 201 && data.status === 'pending') { showPending(); return; }
  if (res.status === 200 && data.status === 'already_registered') { showAlreadyRegistered(); return; }
  if (res.status === 429) {
    showFormError('Too many signups right now, so you are not registered yet. Please wait a minute and try again.');
    return;
  }
  if (res.status === 404) { showNotFound(); return; }
  const error = errorOf(data);
  if (res.status === 422 && showQuestionError($('questions'), error.field, capitalized(error.message))) return;
  if (res.status === 422 && FIELDS.includes(error.field)) {
    showFieldError(error.field, typeof error.message === 'string' && error.message ? error.message : 'Please check this field.');
    return;
  }
  showFormError('Something went wrong and you are not registered yet. Please try again in a moment.');
}

// The token from the confirmation mail's link; the fragment never reaches the server's logs.
function confirmTokenOf(hash = location.hash) {
  const token = new URLSearchParams(hash.replace(/^#/, '')).get('confirm');
  return token || null;
}

function showConfirmError(message) {
  $('confirm-error').textContent = message;
  $('confirm-error').hidden = false;
}

async function confirm(token) {
  const button = $('confirm-button');
  if (button.disabled) return;
  button.disabled = true;
  $('confirm-error').hidden = true;
  let res;
  try {
    res = await request('POST', '/api/me/confirm', { token });
  } catch (err) {
    if (!(err instanceof NetworkError)) throw err;
    res = null;
  } finally {
    button.disabled = false;
  }
  if (!res) { showConfirmError('We could not reach the server. Please check your connection and try again.'); return; }
  if (res.status === 200 && res.data) {
    history.replaceState(null, '', location.pathname);
    storeToken(webinarId, token);
    $('confirm-section').hidden = true;
    showSuccess({ status: res.data.status, join_url: `${location.origin}/live/${webinarId}#token=${token}` });
    loadWebinar();
    return;
  }
  if (res.status === 410) {
    showConfirmError('This link has expired and the place was released. You can sign up again below.');
    $('register-section').hidden = false;
    return;
  }
  showConfirmError('This confirmation link is not valid (copy the whole link from the email), or the registration was cancelled.');
}

const confirmToken = confirmTokenOf();
if (confirmToken) {
  $('register-section').hidden = true;
  $('confirm-section').hidden = false;
  $('confirm-button').addEventListener('click', () => confirm(confirmToken));
}
form.addEventListener('submit', submit);
$('copy-button').addEventListener('click', copyJoinLink);
loadWebinar();
