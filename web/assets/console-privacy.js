// Console "Privacy" panel: the series' privacy notice (what the signup form shows: the
// organizer's text, or the server's default when empty) with an edit box, and one registrant's
// data by registration id: download the export or erase it (two clicks). The panel's content is
// built here into #privacy-slot, so console.html only holds the tab and an empty slot.
import { el, clear } from '/assets/dom.js';
import { api, problem, twoStep, intFrom, signedOut } from '/assets/console-common.js';

const $ = (id) => document.getElementById(id);
const MAX = 4000;

function build(slot) {
  clear(slot).append(
    el('h3', { id: 'privacy-heading', tabindex: '-1' }, 'Privacy notice'),
    el('p', { class: 'hint' }, 'Shown on the signup form: what is kept, for how long and who sees it. Leave it empty to show the default, written from the server\'s retention settings.'),
    el('form', { id: 'privacy-form', novalidate: true },
      el('div', { class: 'field' },
        el('label', { for: 'privacy-text' }, 'Your notice ', el('span', { class: 'optional' }, '(empty: the default)')),
        el('textarea', { id: 'privacy-text', rows: '8', maxlength: String(MAX), 'aria-describedby': 'privacy-count privacy-text-error', 'data-testid': 'privacy-text' }),
        el('span', { id: 'privacy-count', class: 'hint' }),
        el('span', { id: 'privacy-text-error', class: 'field-error' })),
      el('div', { class: 'actions' },
        el('button', { type: 'submit', id: 'privacy-save', class: 'button small', 'data-testid': 'privacy-save' }, 'Save notice'),
        el('button', { type: 'button', id: 'privacy-default', class: 'button secondary small', 'data-testid': 'privacy-default' }, 'Use the default'))),
    el('p', { id: 'privacy-status', class: 'panel-summary', role: 'status', 'aria-live': 'polite' }),
    el('details', { class: 'privacy-preview' },
      el('summary', {}, 'What the signup form shows now'),
      el('div', { id: 'privacy-preview', class: 'notice', 'data-testid': 'privacy-preview' })),
    el('h3', { id: 'privacy-person-heading' }, 'One registrant\'s data'),
    el('p', { class: 'hint' }, 'The registration id is the id column of the registrants CSV (Registrants tab). Erasing keeps the row for your counts ("Erased registrant"), cancels the registration and ends their link; issued CE certificates are kept as your records.'),
    el('div', { class: 'panel-tools' },
      el('div', { class: 'field' },
        el('label', { for: 'privacy-rid' }, 'Registration id'),
        el('input', { id: 'privacy-rid', type: 'text', inputmode: 'numeric', size: '8', 'data-testid': 'privacy-rid' })),
      el('div', { class: 'field tool-link' },
        el('div', { class: 'actions' },
          el('button', { type: 'button', id: 'privacy-export', class: 'button secondary small', 'data-testid': 'privacy-export' }, 'Download their data'),
          el('button', { type: 'button', id: 'privacy-erase', class: 'button danger secondary small', 'data-testid': 'privacy-erase' }, 'Erase their data')))),
    el('p', { id: 'privacy-person-status', class: 'panel-summary', role: 'status', 'aria-live': 'polite' }));
}

export function mountPrivacy({ announce } = {}) {
  const slot = $('privacy-slot');
  build(slot);
  let webinar = null;

  const count = () => { $('privacy-count').textContent = `${$('privacy-text').value.length}/${MAX}`; };
  const status = (text) => { $('privacy-status').textContent = text; };

  function showNotice(data) {
    $('privacy-text').value = data.custom ? data.text : '';
    count();
    clear($('privacy-preview')).append(...String(data.text).split(/\n+/).filter((l) => l.trim()).map((l) => el('p', {}, l)));
  }

  async function load(w) {
    const res = await api('GET', `/api/webinars/${w.id}/privacy-notice`);
    if (webinar !== w) return;
    if (res?.status === 200 && res.data) {
      showNotice(res.data);
      status(res.data.custom ? 'This series shows your own notice.' : 'This series shows the default notice.');
    } else status(problem(res, 'The notice could not be loaded'));
  }

  async function save(text) {
    if (!webinar) return;
    $('privacy-text-error').textContent = '';
    $('privacy-text').removeAttribute('aria-invalid');
    const res = await api('PUT', `/api/webinars/${webinar.id}/privacy-notice`, { text });
    if (res?.status === 200 && res.data) {
      showNotice(res.data);
      const text = res.data.custom ? 'Saved: the signup form shows your notice.' : 'Saved: the signup form shows the default notice.';
      status(text);
      announce?.(text);
      return;
    }
    if (res?.status === 422) {
      $('privacy-text').setAttribute('aria-invalid', 'true');
      $('privacy-text-error').textContent = problem(res, 'Not saved');
      return;
    }
    status(problem(res, 'The notice was not saved'));
  }

  function registrationId() {
    const id = intFrom($('privacy-rid').value, 1, Number.MAX_SAFE_INTEGER);
    if (Number.isNaN(id)) $('privacy-person-status').textContent = 'Enter a registration id (the id column of the registrants CSV).';
    return Number.isNaN(id) ? null : id;
  }

  async function exportOne() {
    const id = registrationId();
    if (!webinar || id === null) return;
    let res;
    try {
      res = await fetch(`/api/webinars/${webinar.id}/registrations/${id}/export`, { credentials: 'same-origin', cache: 'no-store' });
    } catch {
      $('privacy-person-status').textContent = problem(null, 'Not downloaded');
      return;
    }
    if (res.status === 401) { signedOut(); return; }
    if (res.status !== 200) {
      $('privacy-person-status').textContent = res.status === 404 ? `This series has no registration ${id}.` : 'The export could not be downloaded. Please try again.';
      return;
    }
    const url = URL.createObjectURL(await res.blob());
    const link = el('a', { href: url, download: `registration-${id}.json`, hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    $('privacy-person-status').textContent = `Registration ${id}'s data was downloaded.`;
  }

  async function eraseOne() {
    const id = registrationId();
    if (!webinar || id === null) return;
    const res = await api('POST', `/api/webinars/${webinar.id}/registrations/${id}/erase`);
    const text = res?.status === 200 ? `Registration ${id}'s personal data is erased.` : problem(res, `Registration ${id} was not erased`);
    $('privacy-person-status').textContent = text;
    announce?.(text);
  }

  $('privacy-text').addEventListener('input', count);
  $('privacy-form').addEventListener('submit', (e) => { e.preventDefault(); save($('privacy-text').value); });
  $('privacy-default').addEventListener('click', () => save(''));
  $('privacy-export').addEventListener('click', exportOne);
  twoStep($('privacy-erase'), { label: 'Erase their data', confirmLabel: 'Confirm: erase for good' }, eraseOne);

  return {
    show(w) {
      if (webinar?.id === w.id) return;
      webinar = w;
      status('Loading…');
      load(w);
    },
    reset() {
      webinar = null;
      $('privacy-text').value = '';
      $('privacy-rid').value = '';
      $('privacy-person-status').textContent = '';
      status('');
      clear($('privacy-preview'));
    },
  };
}
