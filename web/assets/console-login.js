// Console sign-in: GET /api/session decides between the form and the console, POST /api/session
// signs in (the server sets the HttpOnly `cohort_session` cookie), DELETE signs out. Errors go to
// the form's alert region: wrong email or password (one message for both), too many attempts with
// the wait from Retry-After, validation, or an unreachable server.
import { request, errorOf, NetworkError } from '/assets/api.js';
import { el, focusRegion } from '/assets/dom.js';

const $ = (id) => document.getElementById(id);

// { organizer, expires_at } when signed in, false when not, null when the server is unreachable
// or answers something unexpected.
export async function currentSession() {
  try {
    const res = await request('GET', '/api/session');
    if (res.status === 200 && res.data?.organizer) return res.data;
    if (res.status === 401 || res.status === 404) return false;
    return null;
  } catch (err) {
    if (!(err instanceof NetworkError)) throw err;
    return null;
  }
}

export async function signOut() {
  try {
    const res = await request('DELETE', '/api/session');
    return res.status === 204 || res.status === 200 || res.status === 401;
  } catch (err) {
    if (!(err instanceof NetworkError)) throw err;
    return false;
  }
}

// Seconds to wait from a Retry-After header (seconds or an HTTP date); at least 1.
function retryAfterSeconds(header) {
  const text = String(header ?? '').trim();
  if (/^\d+$/.test(text)) return Math.max(1, Number(text));
  const at = Date.parse(text);
  if (!Number.isNaN(at)) return Math.max(1, Math.ceil((at - Date.now()) / 1000));
  return 30;
}

// The sign-in POST reads a header (Retry-After), so it calls fetch itself, like api.js does.
async function postSession(email, password) {
  let res;
  try {
    res = await fetch('/api/session', {
      method: 'POST',
      headers: { accept: 'application/json', 'content-type': 'application/json' },
      body: JSON.stringify({ email, password }),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch {
    return null;
  }
  let data = null;
  if ((res.headers.get('content-type') || '').includes('application/json')) {
    try { data = await res.json(); } catch { data = null; }
  }
  return { status: res.status, data, retryAfter: res.headers.get('retry-after') };
}

export function mountLogin({ onSignedIn }) {
  const view = $('login-view');
  const form = $('login-form');
  const email = $('login-email');
  const password = $('login-password');
  const submit = $('login-submit');
  const alertBox = $('login-error');
  const note = $('login-note');
  let busy = false;
  let waitUntil = 0;
  let waitTimer = null;

  function setAlert(text) {
    alertBox.textContent = text;
  }

  function fieldError(input, text) {
    const span = $(`${input.id}-error`);
    span.textContent = text;
    if (text) {
      input.setAttribute('aria-invalid', 'true');
      input.setAttribute('aria-describedby', span.id);
    } else {
      input.removeAttribute('aria-invalid');
      input.removeAttribute('aria-describedby');
    }
  }

  function clearErrors() {
    setAlert('');
    fieldError(email, '');
    fieldError(password, '');
  }

  function submitLabel() {
    const left = Math.ceil((waitUntil - Date.now()) / 1000);
    if (left > 0) {
      submit.textContent = `Wait ${left} s`;
      submit.disabled = true;
      waitTimer = setTimeout(submitLabel, 250);
      return;
    }
    waitTimer = null;
    submit.disabled = busy;
    submit.textContent = busy ? 'Signing in…' : 'Sign in';
    if (waitUntil) {
      waitUntil = 0;
      setAlert('You can try again now.');
    }
  }

  function startWait(seconds) {
    clearTimeout(waitTimer);
    waitUntil = Date.now() + seconds * 1000;
    // The number stays with its unit when the line wraps; the text keeps a plain space.
    alertBox.replaceChildren('Too many attempts — try again in ', el('span', { class: 'nowrap' }, `${seconds} s`), '.');
    submitLabel();
  }

  async function onSubmit(event) {
    event.preventDefault();
    if (busy || waitUntil > Date.now()) return;
    clearErrors();
    const emailValue = email.value.trim();
    if (!emailValue) {
      fieldError(email, 'Enter your email address.');
      email.focus();
      return;
    }
    if (!password.value) {
      fieldError(password, 'Enter your password.');
      password.focus();
      return;
    }
    busy = true;
    submitLabel();
    form.setAttribute('aria-busy', 'true');
    const res = await postSession(emailValue, password.value);
    busy = false;
    form.removeAttribute('aria-busy');
    submitLabel();
    if (res && res.status === 200 && res.data?.organizer) {
      password.value = '';
      onSignedIn(res.data);
      return;
    }
    if (!res) {
      setAlert('We could not reach the server. Please check your connection and try again.');
      return;
    }
    const error = errorOf(res.data);
    if (res.status === 401) {
      setAlert('Email or password is wrong.');
      password.value = '';
      password.focus();
    } else if (res.status === 429) {
      startWait(retryAfterSeconds(res.retryAfter));
    } else if (res.status === 422 || res.status === 400) {
      const message = typeof error.message === 'string' && error.message ? error.message : 'Please check this field.';
      const text = `${message.charAt(0).toUpperCase()}${message.slice(1)}`;
      if (error.field === 'password') {
        fieldError(password, text);
        password.focus();
      } else {
        fieldError(email, text);
        email.focus();
      }
      setAlert(text);
    } else if (res.status === 404 || res.status === 405) {
      setAlert('Signing in is not available on this server yet.');
    } else {
      setAlert(`Signing in did not work: ${typeof error.message === 'string' && error.message ? error.message : 'something went wrong'}. Please try again.`);
    }
  }

  form.addEventListener('submit', onSubmit);

  return {
    // `message`: why the form shows (e.g. the session ended), shown above it.
    show(message = '') {
      note.textContent = message;
      note.hidden = !message;
      clearErrors();
      view.hidden = false;
      document.title = 'Sign in — Cohort organizer console';
      if (message) focusRegion(note);
      else if (!email.value) email.focus();
    },
    hide() {
      view.hidden = true;
      note.hidden = true;
    },
  };
}
