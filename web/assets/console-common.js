// Shared by the organizer console's modules: the API call (session cookie, no token; a 401 sends
// the console back to the sign-in form), error texts from the API's error shape, local date/time
// inputs ↔ UTC RFC 3339, and a two-step inline confirmation for destructive buttons.
import { request, errorOf, NetworkError } from '/assets/api.js';
import { viewerTimeZone } from '/assets/format.js';

export { copyText } from '/assets/dom.js';

let unauthorized = null;

// Called once by console.js: what to do when the server says the session is gone.
export function onUnauthorized(fn) {
  unauthorized = fn;
}

// For a call made without api() (a text answer) that was answered 401.
export function signedOut() {
  unauthorized?.();
}

// { status, data } for any answer, null when the server could not be reached. No token is sent,
// so the browser's HttpOnly session cookie authenticates (same origin).
export async function api(method, path, body) {
  let res;
  try {
    res = await request(method, path, body === undefined ? {} : { body });
  } catch (err) {
    if (!(err instanceof NetworkError)) throw err;
    return null;
  }
  if (res.status === 401 && path !== '/api/session') unauthorized?.();
  return res;
}

const capitalize = (text) => (text ? text.charAt(0).toUpperCase() + text.slice(1) : text);

// The API's message for an answer, or a plain-language one for the status.
export function messageOf(res) {
  const error = errorOf(res?.data);
  const message = typeof error.message === 'string' ? error.message.trim() : '';
  if (!res) return 'we could not reach the server. Please check your connection and try again';
  if (res.status === 401) return 'you are signed out. Please sign in again';
  if (res.status === 403) return message ? `the server refused this (${message}). Reload the page and try again` : 'the server refused this. Reload the page and try again';
  if (res.status === 404) return message || 'it no longer exists';
  if (res.status === 429) return 'too many requests. Please wait a moment and try again';
  if (res.status === 503) return 'the server is busy. Please try again in a moment';
  return message || 'something went wrong. Please try again';
}

// "The series was not saved: title must be 1-200 characters."
export function problem(res, what) {
  const text = messageOf(res).replace(/[.\s]+$/, '');
  return `${what}: ${text}.`;
}

export { errorOf, capitalize };

const pad = (n) => String(n).padStart(2, '0');

// "2026-12-03T14:30" in the browser's zone, for <input type="datetime-local">.
export function localInputValue(date) {
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) return '';
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

// A datetime-local value (no zone: read in the browser's zone) as UTC RFC 3339, or null.
export function utcFromLocalInput(value) {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(value)) return null;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return null;
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function zoneHint() {
  const zone = viewerTimeZone();
  return zone ? `In your time zone (${zone}).` : 'In your time zone.';
}

export function zoneNote() {
  const zone = viewerTimeZone();
  return zone ? `Times are shown in your time zone (${zone}).` : 'Times are shown in your time zone.';
}

// Whole number within [min, max] from an input's text, or NaN.
export function intFrom(value, min, max) {
  const text = String(value ?? '').trim();
  if (!/^\d+$/.test(text)) return NaN;
  const n = Number(text);
  return n >= min && n <= max ? n : NaN;
}

// Two clicks for a destructive button: the first turns it into "Confirm …" (until it loses focus),
// the second runs `action`. Returns nothing; the button keeps its own label otherwise.
export function twoStep(button, { label, confirmLabel, ariaLabel, confirmAriaLabel }, action) {
  const reset = () => {
    if (button.dataset.confirm !== 'yes') return;
    delete button.dataset.confirm;
    button.textContent = label;
    if (ariaLabel) button.setAttribute('aria-label', ariaLabel);
  };
  button.addEventListener('click', () => {
    if (button.dataset.confirm !== 'yes') {
      button.dataset.confirm = 'yes';
      button.textContent = confirmLabel;
      if (confirmAriaLabel) button.setAttribute('aria-label', confirmAriaLabel);
      return;
    }
    reset();
    action();
  });
  button.addEventListener('blur', reset);
  button.addEventListener('keydown', (e) => { if (e.key === 'Escape') reset(); });
}
