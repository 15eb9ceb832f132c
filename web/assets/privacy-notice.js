// The privacy notice on the signup form (/w/{id}): what is kept, for how long and who sees it —
// the organizer's text or the server's default (GET /api/webinars/{id}/privacy-notice). Placed
// above the form's Register button; a page without the form or a failed load shows nothing.
// Imported by register.js (one module script per page).
import { request, idFromPath } from '/assets/api.js';
import { el } from '/assets/dom.js';

async function showNotice() {
  const webinarId = idFromPath('w');
  const form = document.getElementById('register-form');
  if (!webinarId || !form) return;
  let res;
  try {
    res = await request('GET', `/api/webinars/${webinarId}/privacy-notice`);
  } catch {
    return;
  }
  if (res.status !== 200 || typeof res.data?.text !== 'string' || !res.data.text.trim()) return;
  const paragraphs = res.data.text.split(/\n+/).filter((line) => line.trim());
  const notice = el('section', { id: 'privacy-notice', class: 'field privacy-notice', 'aria-labelledby': 'privacy-notice-heading' },
    el('p', { id: 'privacy-notice-heading', class: 'label-text' }, el('strong', {}, 'Your data')),
    paragraphs.map((line) => el('p', { class: 'hint' }, line)));
  const actions = form.querySelector('.actions');
  form.insertBefore(notice, actions);
}

showNotice();
