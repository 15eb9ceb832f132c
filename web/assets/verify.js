// The public page behind a certificate's verification URL, /verify/{code}: asks the API what it
// knows about the code and says plainly whether the certificate is valid, revoked, replaced by
// another, or unknown. Server data is only ever set as text.
import { request, errorOf, NetworkError } from '/assets/api.js';
import { el, clear } from '/assets/dom.js';

const $ = (id) => document.getElementById(id);

const codeFromPath = () => {
  const m = /^\/verify\/([^/]+)\/?$/.exec(location.pathname);
  return m ? decodeURIComponent(m[1]) : '';
};

const longDate = (iso) =>
  new Date(iso).toLocaleDateString('en-US', { year: 'numeric', month: 'long', day: 'numeric', timeZone: 'UTC' });
const number = (n) => String(Math.round(n * 100) / 100);
const creditText = (kind) => (kind === 'recorded' ? 'Recorded (distance learning)' : 'Live');

function fact(label, value, testid) {
  return [el('dt', { text: label }), el('dd', { text: value, dataset: { testid } })];
}

function show(c) {
  const revoked = c.status === 'revoked';
  const verdict = $('verdict');
  verdict.className = `verdict ${revoked ? 'is-revoked' : 'is-valid'}`;
  verdict.textContent = !revoked ? 'Valid certificate' : c.replaced_by ? 'Replaced — this certificate is no longer valid' : 'Revoked — this certificate is no longer valid';
  const detail = $('verdict-detail');
  clear(detail);
  if (!revoked) {
    detail.textContent = `Issued ${longDate(c.issued_at)} with verification code ${c.code}.`;
  } else if (c.replaced_by) {
    detail.append(`It was revoked on ${longDate(c.revoked_at)} and replaced by a corrected certificate: `,
      el('a', { href: `/verify/${encodeURIComponent(c.replaced_by)}`, text: c.replaced_by, dataset: { testid: 'replaced-by' } }), '.');
  } else {
    detail.textContent = `It was revoked by the provider on ${longDate(c.revoked_at)}. It does not count as evidence of credit.`;
  }
  clear($('facts')).append(
    ...fact('Name', c.name ?? 'Not kept (see below)', 'name'),
    ...fact('Course', c.course_title, 'course'),
    ...fact('Session', c.session_title, 'session'),
    ...fact('Date', longDate(c.date), 'date'),
    ...fact('Credit', creditText(c.kind), 'kind'),
    ...fact('Contact hours', number(c.contact_hours), 'hours'),
    ...fact('CEUs', number(c.ceus), 'ceus'),
    ...fact('Code', c.code, 'code'),
  );
  const note = $('erased-note');
  note.hidden = !c.note;
  note.textContent = c.note ?? '';
  $('result').hidden = false;
  $('page-status').textContent = '';
}

async function main() {
  const code = codeFromPath();
  $('code-input').value = code;
  $('lookup').addEventListener('submit', (event) => {
    event.preventDefault();
    const typed = $('code-input').value.trim();
    if (typed) location.assign(`/verify/${encodeURIComponent(typed)}`);
  });
  try {
    const res = await request('GET', `/api/verify/${encodeURIComponent(code)}`);
    if (res.status === 200 && res.data) return show(res.data);
    if (res.status === 404) {
      $('page-status').textContent = '';
      $('not-found').hidden = false;
      return;
    }
    $('page-status').textContent = errorOf(res.data).message || `The server said ${res.status}; try again later.`;
  } catch (err) {
    $('page-status').textContent = err instanceof NetworkError ? 'Could not reach the server; try again.' : String(err);
  }
}

main();
