// "My CE" page (/ce/{id}[#token=...]): each session's CE standing — minutes attended against
// what live credit needs, the replay watched, exactly what is still missing (the server's words),
// the attestation to tick, the link to the post-test and evaluation page, and once complete the
// certificate (PDF fetched with the token, saved as a file) and its verification link. Token
// handling is the room page's: from the URL hash (then removed) or this device's localStorage.
import { request, idFromPath, errorOf, NetworkError } from '/assets/api.js';
import { el, clear } from '/assets/dom.js';
import { sessionParts, viewerTimeZone } from '/assets/format.js';
import { storeToken, loadToken, forgetToken } from '/assets/token.js';

const $ = (id) => document.getElementById(id);
const webinarId = idFromPath('ce');
let token = null;

function takeTokenFromHash() {
  const hash = location.hash.startsWith('#') ? location.hash.slice(1) : location.hash;
  if (!hash) return null;
  const fromHash = new URLSearchParams(hash).get('token');
  if (fromHash === null) return null;
  history.replaceState(history.state, '', location.pathname + location.search);
  return fromHash.trim() || null;
}

function showNoAccess(message) {
  $('page-status').hidden = true;
  $('ce').hidden = true;
  $('no-access-text').textContent = message;
  const link = $('no-access-link');
  link.href = webinarId ? `/w/${webinarId}` : '/';
  link.textContent = webinarId ? 'Go to the registration page' : 'See all upcoming webinars';
  $('no-access').hidden = false;
  document.title = 'CE credit not available — Cohort';
}

const hoursText = (h) => `${Number(h).toLocaleString(undefined, { maximumFractionDigits: 2 })} contact ${Number(h) === 1 ? 'hour' : 'hours'}`;
const ceuText = (c) => `${Number(c).toLocaleString(undefined, { minimumFractionDigits: 1, maximumFractionDigits: 2 })} CEU`;
const stateText = { upcoming: 'Upcoming', in_progress: 'In progress', complete: 'Complete', failed: 'Not passed' };

function renderAbout(ce) {
  const facts = clear($('ce-facts'));
  const item = (label, value) => value && facts.append(el('li', {}, el('span', { class: 'label', text: `${label}: ` }), String(value)));
  item('Provider', [ce.provider?.name, ce.provider?.number ? `(provider no. ${ce.provider.number})` : ''].filter(Boolean).join(' '));
  item('Level', ce.instructional_level);
  item('Total', `${hoursText(ce.total_contact_hours)} · ${ceuText(ce.total_ceus)}`);
  const kinds = [ce.live_credit ? 'live' : '', ce.recorded_credit ? 'recorded (replay)' : ''].filter(Boolean).join(' or ');
  item('Credit', kinds ? `${kinds}, from ${ce.min_percent} % of the session` : '');
  const objectives = Array.isArray(ce.objectives) ? ce.objectives : [];
  clear($('ce-objectives')).append(...objectives.map((o) => el('li', { text: String(o) })));
  $('ce-objectives-box').hidden = objectives.length === 0;
  $('ce-about').hidden = false;
}

function progressBar(s) {
  const id = `ce-bar-${s.number}`;
  const needed = Number(s.minutes_needed);
  const bar = el('progress', { id, max: String(s.duration_minutes), value: String(Math.min(s.minutes_attended, s.duration_minutes)) });
  const parts = [el('label', { for: id, text: `Attended ${s.minutes_attended} of ${s.duration_minutes} minutes` }), bar,
    el('p', { class: 'hint', text: `Live credit needs ${needed} ${needed === 1 ? 'minute' : 'minutes'}.` })];
  if (s.replay_available) parts.push(el('p', { class: 'hint', text: `Replay watched: ${s.replay_percent} %.` }));
  return el('div', { class: 'ce-bar' }, ...parts);
}

function attestation(s) {
  const a = s.attestation ?? {};
  if (!a.text) return null;
  const boxId = `ce-attest-${s.number}`;
  const box = el('input', { type: 'checkbox', id: boxId, 'data-testid': 'attest-box' });
  const button = el('button', { type: 'button', class: 'button secondary', text: 'Confirm', disabled: true, 'data-testid': 'attest-button' });
  const wrap = el('div', { class: 'ce-attest' },
    el('div', { class: 'field checkbox' }, box, el('label', { for: boxId, text: String(a.text) })));
  if (a.ticked) {
    box.checked = true;
    box.disabled = true;
    wrap.append(el('p', { class: 'hint', text: 'Ticked — thank you.' }));
    return wrap;
  }
  if (!a.can_tick) {
    box.disabled = true;
    wrap.append(el('p', { class: 'hint', text: 'You can tick this once the session has ended.' }));
    return wrap;
  }
  box.addEventListener('change', () => { button.disabled = !box.checked; });
  button.addEventListener('click', () => attest(s.number, button));
  wrap.append(button);
  return wrap;
}

async function downloadPdf(cert, button) {
  const status = $('action-status');
  button.disabled = true;
  status.textContent = 'Preparing your certificate…';
  try {
    const res = await fetch(cert.pdf, { headers: { authorization: `Bearer ${token}` }, cache: 'no-store' });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const url = URL.createObjectURL(await res.blob());
    const a = el('a', { href: url, download: `cohort-certificate-${cert.code}.pdf` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    status.textContent = 'Your certificate was downloaded.';
  } catch {
    status.textContent = 'We could not download the certificate right now. Please try again in a moment.';
  } finally {
    button.disabled = false;
  }
}

function links(s) {
  const out = el('div', { class: 'ce-links' });
  const needsPage = (s.test?.required && s.test?.published) || s.evaluation?.required;
  if (needsPage && s.state !== 'upcoming') {
    const label = s.test?.required ? (s.test.passed ? 'Post-test and evaluation' : 'Take the post-test') : 'Fill in the evaluation';
    out.append(el('a', { class: s.test?.open ? 'button' : 'button secondary', 'data-testid': 'test-link',
      href: `/ce/${webinarId}/test#token=${encodeURIComponent(token)}&session=${s.number}`, text: label }));
  }
  const cert = s.certificate;
  if (cert && cert.code) {
    const button = el('button', { type: 'button', class: 'button', text: 'Download certificate (PDF)', 'data-testid': 'certificate-download' });
    button.addEventListener('click', () => downloadPdf(cert, button));
    out.append(button, el('a', { class: 'ce-verify', href: cert.verify, text: `Verify: ${location.origin}${cert.verify}` }));
  }
  return out.childElementCount ? out : null;
}

function sessionCard(s) {
  const { date, time } = sessionParts(s);
  const title = s.title ? `Session ${s.number}: ${s.title}` : `Session ${s.number}`;
  const missing = Array.isArray(s.missing) ? s.missing : [];
  const kind = s.kind === 'live' ? 'live credit' : s.kind === 'recorded' ? 'recorded credit' : '';
  const summary = s.state === 'complete'
    ? el('p', { class: 'ce-done', text: `Complete — ${kind}, ${hoursText(s.contact_hours)} (${ceuText(s.ceus)}).` })
    : el('ul', { class: 'ce-missing', 'aria-label': 'Still needed', 'data-testid': 'missing' }, ...missing.map((m) => el('li', { text: String(m.text) })));
  return el('li', { class: 'card ce-session', id: `ce-session-${s.number}`, 'data-testid': 'ce-session' },
    el('div', { class: 'ce-session-head' },
      el('h2', { text: title }),
      el('span', { class: `ce-state ${s.state}`, text: stateText[s.state] ?? s.state })),
    el('p', { class: 'ce-when', text: `${date}${time ? ` · ${time}` : ''} · ${hoursText(s.contact_hours)} · ${ceuText(s.ceus)}${s.approval_number ? ` · approval no. ${s.approval_number}` : ''}` }),
    s.state === 'upcoming' ? null : progressBar(s),
    summary,
    attestation(s),
    links(s));
}

function render(data) {
  const title = String(data.title ?? '');
  $('webinar-title').textContent = title;
  document.title = title ? `My CE credit — ${title} — Cohort` : 'My CE credit — Cohort';
  $('room-link').href = `/live/${webinarId}`;
  const offered = data.ce?.offered === true;
  $('not-offered').hidden = offered;
  $('ce-about').hidden = true;
  if (offered) renderAbout(data.ce);
  const sessions = Array.isArray(data.sessions) ? data.sessions : [];
  clear($('ce-sessions')).append(...sessions.map(sessionCard));
  const zone = viewerTimeZone();
  $('tz-note').textContent = zone ? `Times are shown in your time zone (${zone}).` : 'Times are shown in your time zone.';
  $('tz-note').hidden = sessions.length === 0;
  $('page-status').hidden = true;
  $('no-access').hidden = true;
  $('ce').hidden = false;
}

async function attest(number, button) {
  const status = $('action-status');
  button.disabled = true;
  let res = null;
  try {
    res = await request('POST', `/api/me/ce/${number}/attest`, { token });
  } catch (err) {
    if (!(err instanceof NetworkError)) throw err;
  }
  if (res && res.status === 200 && res.data) {
    $(`ce-session-${number}`).replaceWith(sessionCard(res.data));
    status.textContent = `Session ${number}: attestation saved.`;
    return;
  }
  button.disabled = false;
  status.textContent = res ? `Not saved: ${String(errorOf(res.data).message || 'something went wrong').replace(/[.\s]+$/, '')}.`
    : 'Not saved: we could not reach the server. Please try again.';
}

async function load() {
  if (!webinarId) {
    showNoAccess('This address does not point to a webinar.');
    return;
  }
  const fromHash = takeTokenFromHash();
  if (fromHash) storeToken(webinarId, fromHash);
  token = fromHash || loadToken(webinarId);
  if (!token) {
    showNoAccess('This page needs your personal join link. Open the link you received when you registered, or register on the webinar page.');
    return;
  }
  let res;
  try {
    res = await request('GET', '/api/me/ce', { token });
  } catch (err) {
    if (!(err instanceof NetworkError)) throw err;
    $('page-status').textContent = 'We could not reach the server. Please check your connection and reload the page.';
    return;
  }
  if (res.status === 401 || res.status === 403) {
    forgetToken(webinarId);
    showNoAccess('We do not recognise this personal link. It may be incomplete, or the registration was cancelled. Open the whole link you received when you registered.');
    return;
  }
  if (res.status !== 200 || !res.data) {
    $('page-status').textContent = 'We could not load your CE credit right now. Please reload the page in a moment.';
    return;
  }
  if (String(res.data.webinar_id) !== String(webinarId)) {
    showNoAccess('Your personal link on this device is for another webinar. Open the link you received for this one.');
    return;
  }
  render(res.data);
}

window.addEventListener('hashchange', () => { if (new URLSearchParams(location.hash.slice(1)).has('token')) load(); });
load();
