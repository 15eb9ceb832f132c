// Printable certificate of attendance (/certificate?webinar=ID&session=N&registration=RID), for
// organizers: the series from GET /api/webinars/{id}, the registrant's minutes from the session's
// attendance report (GET /api/webinars/{id}/attendance?session=N, session cookie). A certificate is
// shown only when the report says the registrant attended (attendance.min_minutes or more inside
// the session); otherwise the page says why there is none. Times are in the viewer's time zone,
// named on the certificate. "Print" (or the browser's own print) prints only the certificate.
//
// Stable hooks for browser tests (data-testid): certificate-status, certificate-error,
// certificate, certificate-name, certificate-series, certificate-session, certificate-date,
// certificate-time, certificate-zone, certificate-minutes, certificate-span, certificate-rule,
// certificate-issued, certificate-verify, certificate-print, certificate-running.
import { request, errorOf, NetworkError } from '/assets/api.js';
import { el, clear, focusRegion } from '/assets/dom.js';
import { parseTime, sessionParts, zoneName, viewerTimeZone } from '/assets/format.js';

const $ = (id) => document.getElementById(id);
const ID = /^[1-9]\d{0,15}$/;
const issuedFormat = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'long', day: 'numeric' });
const timeFormat = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' });
const dayTimeFormat = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit' });

const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;

// The ids from the address; `missing` names the absent or malformed ones.
function readParams() {
  const q = new URLSearchParams(location.search);
  const ids = {};
  const missing = [];
  for (const [key, label] of [['webinar', 'webinar'], ['session', 'session number'], ['registration', 'registration']]) {
    const value = (q.get(key) || '').trim();
    if (ID.test(value)) ids[key] = value;
    else missing.push(label);
  }
  return { ids, missing };
}

function consoleLink(webinarId) {
  return webinarId ? `/console#series=${encodeURIComponent(webinarId)}&tab=attendance` : '/console';
}

function showProblem(heading, text, actions = []) {
  $('cert-status').hidden = true;
  $('cert-view').hidden = true;
  $('cert-problem-heading').textContent = heading;
  $('cert-problem-text').textContent = text;
  clear($('cert-problem-actions')).append(...actions);
  $('cert-problem').hidden = false;
  document.title = `${heading} — Cohort`;
  focusRegion($('cert-problem-heading'));
}

const linkButton = (href, text, secondary = false) => el('a', { class: `button${secondary ? ' secondary' : ''}`, href }, text);
const retryButton = () => {
  const b = el('button', { type: 'button', class: 'button secondary' }, 'Try again');
  b.addEventListener('click', () => location.reload());
  return b;
};

async function get(path) {
  try {
    return await request('GET', path);
  } catch (err) {
    if (err instanceof NetworkError) return null;
    throw err;
  }
}

// Error page for an API answer that is not 200.
function problemFor(res, ids) {
  const message = String(errorOf(res?.data).message || '').trim().replace(/[.\s]+$/, '');
  if (!res) {
    return showProblem('The server could not be reached', 'Please check your connection and try again.', [retryButton()]);
  }
  if (res.status === 401) {
    return showProblem('Please sign in first',
      'Certificates come from the attendance report, which only organizers can see. Sign in to the organizer console, then open this link again.',
      [linkButton('/console', 'Sign in to the organizer console'), retryButton()]);
  }
  if (res.status === 403) {
    return showProblem('Not allowed', `The server refused to show this attendance record${message ? ` (${message})` : ''}.`,
      [linkButton('/console', 'Open the organizer console', true)]);
  }
  if (res.status === 404) {
    return showProblem('Not found', `${message ? `${message.charAt(0).toUpperCase()}${message.slice(1)}` : 'This series or session does not exist'}: there is no attendance record for webinar ${ids.webinar}, session ${ids.session}.`,
      [linkButton('/console', 'Open the organizer console', true)]);
  }
  if (res.status === 400) {
    return showProblem('This certificate link is not valid', `${message || 'The server did not accept it'}. Open the certificate again from the Attendance tab of the organizer console.`,
      [linkButton(consoleLink(ids.webinar), 'Open the attendance report', true)]);
  }
  const busy = res.status === 503 || res.status === 429;
  return showProblem('The attendance record could not be loaded',
    busy ? 'The server is busy. Please try again in a moment.' : `${message || `The server answered ${res.status}`}. Please try again.`,
    [retryButton()]);
}

// "7:02 PM", with the date when it is not the session's day.
function clockText(date, sessionStart) {
  if (!date) return '';
  const sameDay = sessionStart && date.toDateString() === sessionStart.toDateString();
  return (sameDay ? timeFormat : dayTimeFormat).format(date);
}

function render({ webinar, report, registrant, ids }) {
  const session = report.session && typeof report.session === 'object' ? report.session : {};
  const number = Number.isFinite(session.number) ? session.number : Number(ids.session);
  const parts = sessionParts(session);
  const start = parts.start || null;
  const end = parts.end || null;
  const minMinutes = Number.isFinite(report.min_minutes) ? report.min_minutes : null;
  const minutes = Number.isFinite(registrant.minutes) ? registrant.minutes : 0;
  const name = String(registrant.name ?? '').trim() || `Registrant ${ids.registration}`;
  const title = String(webinar.title ?? '').trim() || `Webinar series ${ids.webinar}`;
  const total = Array.isArray(webinar.sessions) ? webinar.sessions.length : 0;
  const lengthMinutes = start && end ? Math.round((end - start) / 60000) : null;

  $('cert-name').textContent = name;
  $('cert-series').textContent = title;
  $('cert-session-phrase').textContent = total > 1 && number <= total ? `session ${number} of ${total}` : `session ${number}`;
  $('cert-date').textContent = parts.date;
  $('cert-time').textContent = parts.time;
  const zone = viewerTimeZone();
  const shortZone = start ? zoneName(start) : '';
  $('cert-zone').textContent = zone && zone !== shortZone ? `Time zone: ${zone}` : '';

  $('cert-minutes').textContent = lengthMinutes
    ? `${minutes} of ${plural(lengthMinutes, 'minute', 'minutes')}`
    : plural(minutes, 'minute', 'minutes');
  const joined = parseTime(registrant.joined_at);
  const left = parseTime(registrant.left_at);
  const span = [joined ? `joined ${clockText(joined, start)}` : '', left ? `left ${clockText(left, start)}` : ''].filter(Boolean).join(', ');
  $('cert-span').textContent = span ? `${span.charAt(0).toUpperCase()}${span.slice(1)}` : '';

  $('cert-rule').textContent = minMinutes !== null
    ? `Attended = at least ${plural(minMinutes, 'minute', 'minutes')} of the live session, counted between its scheduled start and end.`
    : 'Attended = present in the live session for the organizer’s minimum time.';

  $('cert-issued').textContent = issuedFormat.format(new Date());
  $('cert-verify').textContent = `Verification: webinar ${ids.webinar} · session ${number} · registration ${ids.registration}. The organizer can confirm this record in the session’s attendance report.`;

  const running = end && end.getTime() > Date.now();
  const runningNote = $('cert-running');
  runningNote.textContent = running
    ? `Session ${number} is still running (until ${timeFormat.format(end)}${shortZone ? ` ${shortZone}` : ''}): the minutes are those so far. Reload after the session has ended for the final figure.`
    : '';
  runningNote.hidden = !running;

  $('cert-back').href = consoleLink(ids.webinar);
  document.title = `Certificate of attendance — ${name} — ${title}, session ${number}`;
  $('cert-status').hidden = true;
  $('cert-problem').hidden = true;
  $('cert-view').hidden = false;
  focusRegion($('cert-heading'));
}

async function main() {
  $('cert-print').addEventListener('click', () => window.print());

  const { ids, missing } = readParams();
  if (missing.length) {
    const list = missing.length === 1 ? missing[0] : `${missing.slice(0, -1).join(', ')} and ${missing[missing.length - 1]}`;
    showProblem('This certificate link is incomplete',
      `It needs the webinar, session number and registration (as …?webinar=1&session=2&registration=3); the ${list} ${missing.length === 1 ? 'is' : 'are'} missing or not a positive whole number. Open the certificate from the Attendance tab of the organizer console.`,
      [linkButton(consoleLink(ids.webinar), 'Open the organizer console', true)]);
    return;
  }

  const webinarPath = `/api/webinars/${ids.webinar}`;
  const [webinarRes, reportRes] = await Promise.all([
    get(webinarPath),
    get(`${webinarPath}/attendance?session=${encodeURIComponent(ids.session)}`),
  ]);
  // The report first: "sign in" matters more than anything the public series answer says.
  if (!reportRes || reportRes.status !== 200 || !reportRes.data || typeof reportRes.data !== 'object') {
    problemFor(reportRes, ids);
    return;
  }
  if (!webinarRes || webinarRes.status !== 200 || !webinarRes.data || typeof webinarRes.data !== 'object') {
    problemFor(webinarRes, ids);
    return;
  }
  const report = reportRes.data;
  const webinar = webinarRes.data;
  const registrants = Array.isArray(report.registrants) ? report.registrants : [];
  const registrant = registrants.find((r) => String(r.registration_id) === ids.registration);
  const back = linkButton(consoleLink(ids.webinar), 'Open the attendance report', true);
  if (!registrant) {
    showProblem('No such registrant in this session',
      `Registration ${ids.registration} is not in the attendance report of session ${ids.session} of “${webinar.title ?? `webinar ${ids.webinar}`}”, so there is no certificate.`,
      [back]);
    return;
  }

  const session = report.session && typeof report.session === 'object' ? report.session : {};
  const start = parseTime(session.starts_at);
  const name = String(registrant.name ?? '').trim() || `Registration ${ids.registration}`;
  if (start && start.getTime() > Date.now()) {
    showProblem('This session has not taken place yet',
      `Session ${ids.session} starts ${sessionParts(session).date}, ${sessionParts(session).time}. A certificate can be issued once ${name} has attended it.`,
      [back]);
    return;
  }
  if (registrant.attended !== true) {
    const minutes = Number.isFinite(registrant.minutes) ? registrant.minutes : 0;
    const rule = Number.isFinite(report.min_minutes) ? ` Attendance needs at least ${plural(report.min_minutes, 'minute', 'minutes')} of the live session.` : '';
    const seen = minutes > 0 || registrant.joined_at
      ? `${name} was in the live session for ${plural(minutes, 'minute', 'minutes')}.`
      : `${name} did not join the live session.`;
    const running = parseTime(session.ends_at)?.getTime() > Date.now() ? ' The session is still running: reload later.' : '';
    showProblem(`${name} did not attend session ${ids.session}`, `${seen}${rule} No certificate is issued.${running}`, [back]);
    return;
  }
  render({ webinar, report, registrant, ids });
}

main().catch((err) => {
  showProblem('The certificate could not be shown', String(err?.message || err), [retryButton()]);
});
