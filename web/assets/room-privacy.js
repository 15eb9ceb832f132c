// "Your data" on the room page (/live/{id}): download everything Cohort holds about the
// registrant (GET /api/me/export) or erase it (POST /api/me/erase, after a confirmation). After
// erasure the link is dead: the room gives way to a note saying what happened. Imported by
// live.js; mounts at DOMContentLoaded, when live.js has moved the token from the URL fragment
// into storage.
import { request, idFromPath, NetworkError } from '/assets/api.js';
import { el, focusRegion } from '/assets/dom.js';
import { loadToken, forgetToken } from '/assets/token.js';

const webinarId = idFromPath('live');
const $ = (id) => document.getElementById(id);

function showError(text) {
  const error = $('privacy-error');
  error.textContent = text;
  error.hidden = false;
}

async function download() {
  const token = loadToken(webinarId);
  $('privacy-error').hidden = true;
  let res;
  try {
    res = await fetch('/api/me/export', { headers: { authorization: `Bearer ${token}` }, cache: 'no-store' });
  } catch {
    showError('We could not reach the server. Please check your connection and try again.');
    return;
  }
  if (res.status !== 200) {
    showError('Your data could not be downloaded right now. Please try again in a moment.');
    return;
  }
  const url = URL.createObjectURL(await res.blob());
  const link = el('a', { href: url, download: `cohort-my-data-${webinarId}.json`, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  $('privacy-status').textContent = 'Your data was downloaded as a JSON file.';
}

function openConfirm(open) {
  $('erase-confirm').hidden = !open;
  $('erase-button').setAttribute('aria-expanded', String(open));
  if (open) focusRegion($('erase-confirm-text'));
  else $('erase-button').focus();
}

function showErased() {
  forgetToken(webinarId);
  $('room').hidden = true;
  $('page-status').hidden = true;
  const done = el('div', { id: 'erased' },
    el('h1', { id: 'erased-heading' }, 'Your data was erased'),
    el('p', {}, 'Your name, email address, signup answers and what you wrote in the chat and the Q&A are gone, and your registration is cancelled. This personal link no longer works.'),
    el('p', {}, 'Continuing-education certificates already issued are kept as the provider\'s records, for as long as the webinar\'s privacy notice says.'),
    el('p', {}, el('a', { href: '/' }, 'See all upcoming webinars')));
  $('room').after(done);
  focusRegion($('erased-heading'));
}

async function erase() {
  const button = $('erase-yes');
  button.disabled = true;
  let res = null;
  try {
    res = await request('POST', '/api/me/erase', { token: loadToken(webinarId), body: { confirm: 'erase' } });
  } catch (err) {
    if (!(err instanceof NetworkError)) throw err;
  } finally {
    button.disabled = false;
  }
  if (res && (res.status === 200 || res.status === 410)) {
    showErased();
    return;
  }
  openConfirm(false);
  showError('Your data was not erased because something went wrong. Please try again.');
}

function mount() {
  const manage = $('manage-section');
  if (!webinarId || !manage || !loadToken(webinarId)) return;  // the organizer's view has no data of its own
  const section = el('section', { id: 'privacy-section', class: 'privacy-section', 'aria-labelledby': 'privacy-heading' },
    el('h3', { id: 'privacy-heading' }, 'Your data'),
    el('p', {}, 'Download everything Cohort holds about you, or erase your personal data for good.'),
    el('div', { class: 'actions' },
      el('button', { type: 'button', id: 'download-button', class: 'button secondary' }, 'Download my data'),
      el('button', { type: 'button', id: 'erase-button', class: 'button danger secondary', 'aria-expanded': 'false', 'aria-controls': 'erase-confirm' },
        'Erase my data')),
    el('div', { id: 'erase-confirm', class: 'notice confirm', hidden: true },
      el('p', { id: 'erase-confirm-text', tabindex: '-1' },
        'Erase your personal data? Your name, email address, signup answers and what you wrote in the chat and the Q&A are erased, your registration is cancelled and this link stops working. This cannot be undone.'),
      el('div', { class: 'actions' },
        el('button', { type: 'button', id: 'erase-yes', class: 'button danger' }, 'Yes, erase my data'),
        el('button', { type: 'button', id: 'erase-no', class: 'button secondary' }, 'No, keep it'))),
    el('p', { id: 'privacy-status', role: 'status' }),
    el('p', { id: 'privacy-error', class: 'notice error', role: 'alert', hidden: true }));
  manage.append(section);
  $('download-button').addEventListener('click', download);
  $('erase-button').addEventListener('click', () => openConfirm($('erase-confirm').hidden));
  $('erase-no').addEventListener('click', () => openConfirm(false));
  $('erase-yes').addEventListener('click', erase);
  $('erase-confirm').addEventListener('keydown', (e) => { if (e.key === 'Escape') openConfirm(false); });
}

document.addEventListener('DOMContentLoaded', mount);
