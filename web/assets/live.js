// Personal room page (/live/{id}#token=...): takes the registrant token out of the URL, keeps it
// in localStorage for this webinar, shows the registration from GET /api/me and opens the live chat.
// An organizer (no registrant token on this device, signed in to the console: proved by its
// HttpOnly session cookie — the page never holds an organizer secret) gets the chat with
// moderation tools and the bonus drops manager. Registrants get the bonus materials panel.
// Everyone in the room gets the video area (live stream, then the replay); the organizer also gets
// the Stream box (RTMP URL, stream key). The live parts (chat, presence, drops, stream status) are
// the room's feature modules (room-modules.js) on its one socket (live-room.js).
import { request, idFromPath, NetworkError } from '/assets/api.js';
import { mountDropManager } from '/assets/drop-manager.js';
import { focusRegion } from '/assets/dom.js';
import { openLiveRoom } from '/assets/live-room.js';
import * as roomModules from '/assets/room-modules.js';
import { renderSessions } from '/assets/sessions.js';
import { mountStreamManager } from '/assets/stream-manager.js';
import { storeToken, loadToken, forgetToken } from '/assets/token.js';
import '/assets/room-privacy.js';  // "Your data": download or erase (mounts once this page has run)

const $ = (id) => document.getElementById(id);
const WAITLIST_POLL_MS = 30_000;
const webinarId = idFromPath('live');
let token = null;
let room = null; // the live room: its socket and feature modules (chat, drops, video, presence)
let manager = null; // organizer's drops manager
let streamBox = null; // organizer's Stream box
let webinarInfo = { title: '', sessions: [] };
// Signed in to the console: the organizer view, every request with the session cookie (no token).
let organizerBySession = false;
let roomKey = null;

// The room follows the page: open while the registration is active, closed otherwise. An
// organizer signed in to the console has no token at all (wanted is '' then: the cookie goes instead).
function openRoom(active) {
  const organizer = organizerBySession;
  const wanted = active ? (organizer ? '' : token) : null;
  const key = wanted === null ? null : `${organizer ? 'organizer' : 'registrant'}:${wanted}`;
  if (room && roomKey === key) return;
  room?.destroy();
  room = null;
  roomKey = key;
  $('chat-slot').hidden = key === null;
  if (key === null) return;
  room = openLiveRoom({
    webinarId,
    token: wanted,
    organizer,
    page: { title: webinarInfo.title, sessions: webinarInfo.sessions, dropManager: manager, streamBox },
    modules: Object.values(roomModules),
  });
}

// The cancel link in the confirmation email is the join link plus "&cancel=1".
let cancelAsked = false;

// The token must not linger in the address bar, history or a shared screenshot.
function takeTokenFromHash() {
  const hash = location.hash.startsWith('#') ? location.hash.slice(1) : location.hash;
  if (!hash) return null;
  const params = new URLSearchParams(hash);
  const fromHash = params.get('token');
  if (fromHash === null) return null;
  cancelAsked = params.get('cancel') === '1';
  history.replaceState(history.state, '', location.pathname + location.search);
  return fromHash.trim() || null;
}

function showNoAccess(message) {
  $('page-status').hidden = true;
  $('room').hidden = true;
  $('no-access-text').textContent = message;
  const link = $('no-access-link');
  if (webinarId) {
    link.href = `/w/${webinarId}`;
    link.textContent = 'Go to the registration page';
  } else {
    link.href = '/';
    link.textContent = 'See all upcoming webinars';
  }
  $('no-access').hidden = false;
  document.title = 'Room not available — Cohort';
}

function render(me) {
  const webinar = me.webinar && typeof me.webinar === 'object' ? me.webinar : {};
  const title = String(webinar.title ?? 'this webinar');
  const name = String(me.name ?? '');
  const status = String(me.status ?? '');
  const greeting = {
    registered: `Hi ${name} — you're registered for ${title}`,
    waitlisted: `Hi ${name} — you're on the waitlist for ${title}`,
    cancelled: `Hi ${name} — your registration for ${title} is cancelled`,
  }[status] ?? `Hi ${name} — ${title}`;
  $('greeting').textContent = greeting;
  document.title = `${title} — your room — Cohort`;
  webinarInfo = { title: String(webinar.title ?? ''), sessions: Array.isArray(webinar.sessions) ? webinar.sessions : [] };

  const pill = $('status-pill');
  pill.className = `status-pill ${status}`;
  pill.textContent = { registered: 'Registered', waitlisted: 'Waitlisted', cancelled: 'Cancelled' }[status] ?? status;
  $('status-text').textContent = {
    registered: 'Come back to this page when a session starts.',
    waitlisted: 'All seats are taken, so the live room is not open to you yet. If a seat opens up you are moved in automatically: we email you, and this page opens the room.',
    cancelled: 'You will not receive emails about this series. You can register again at any time.',
  }[status] ?? '';

  renderSessions($('session-list'), $('tz-note'), webinar.sessions);
  const active = status === 'registered' || status === 'waitlisted';
  // The waitlist holds no seat: no chat, stream or replay (the server refuses them too) until promoted.
  const seated = status === 'registered';
  $('live-section').hidden = !seated;
  $('cancel-area').hidden = !active;
  $('device-note').hidden = !active;
  $('register-again').hidden = active;
  $('register-again-link').href = `/w/${encodeURIComponent(me.webinar_id ?? webinarId)}`;
  $('confirm-text').textContent = status === 'waitlisted'
    ? `Leave the waitlist for ${title}? You can register again later.`
    : `Cancel your registration for ${title}? Your seat goes to the next person on the waitlist. You can register again later.`;

  $('page-status').hidden = true;
  $('no-access').hidden = true;
  $('room').hidden = false;
  openRoom(seated);
  watchWaitlist(status === 'waitlisted');
  showCeLink(active);
}

// "My CE credit" (/ce/{id}), shown when the series offers CE credit (the public summary says so).
async function showCeLink(active) {
  $('ce-link-row').hidden = true;
  if (!active) return;
  try {
    const res = await request('GET', `/api/webinars/${webinarId}/ce/summary`);
    $('ce-link').href = `/ce/${encodeURIComponent(webinarId)}`;
    $('ce-link-row').hidden = !(res.status === 200 && res.data?.offered === true);
  } catch (err) {
    if (!(err instanceof NetworkError)) throw err;
  }
}

// While waitlisted, ask every 30 s whether a seat freed up; a promotion re-renders the page with
// the room open. Only the status is compared, so nothing else on the page is disturbed meanwhile.
let waitlistTimer = null;
function watchWaitlist(waiting) {
  clearTimeout(waitlistTimer);
  waitlistTimer = null;
  if (!waiting) return;
  waitlistTimer = setTimeout(async () => {
    let res = null;
    try {
      res = await request('GET', '/api/me', { token });
    } catch (err) {
      if (!(err instanceof NetworkError)) throw err;
    }
    if (res?.status === 200 && res.data && res.data.status !== 'waitlisted') render(res.data);
    else watchWaitlist(true);
  }, WAITLIST_POLL_MS);
}

// No registrant token on this device: is this browser signed in to the organizer console?
async function signedInAsOrganizer() {
  try {
    const res = await request('GET', '/api/session');
    return res.status === 200 && Boolean(res.data?.organizer);
  } catch (err) {
    if (!(err instanceof NetworkError)) throw err;
    return null; // unknown: the server could not be reached
  }
}

// No registrant token on this device, but the console's login: the room with the chat and its tools.
async function loadOrganizerView() {
  let res;
  try {
    res = await request('GET', `/api/webinars/${webinarId}`);
  } catch (err) {
    if (!(err instanceof NetworkError)) throw err;
    $('page-status').textContent = 'We could not reach the server. Please check your connection and reload the page.';
    return;
  }
  if (res.status === 404) {
    showNoAccess('This webinar does not exist.');
    return;
  }
  if (res.status !== 200 || !res.data) {
    $('page-status').textContent = 'We could not load this webinar right now. Please reload the page in a moment.';
    return;
  }
  const title = String(res.data.title ?? 'this webinar');
  $('greeting').textContent = `Organizer view — ${title}`;
  document.title = `${title} — organizer room — Cohort`;
  $('status-pill').className = 'status-pill registered';
  $('status-pill').textContent = 'Organizer';
  $('status-text').textContent = 'You can stream from OBS, delete messages and mute or ban participants in the chat, and release bonus drops.';
  if (organizerBySession) {
    const back = document.createElement('a');
    back.href = `/console#series=${encodeURIComponent(webinarId)}`;
    back.textContent = 'Back to the organizer console';
    $('status-text').append(' ', back);
  }
  renderSessions($('session-list'), $('tz-note'), res.data.sessions);
  webinarInfo = { title, sessions: Array.isArray(res.data.sessions) ? res.data.sessions : [] };
  if (!streamBox) streamBox = mountStreamManager($('stream-manager-slot'), { webinarId });
  if (!manager) manager = mountDropManager($('drop-manager-slot'), { webinarId, sessions: res.data.sessions });
  $('live-section').hidden = false;
  $('manage-section').hidden = true;
  $('page-status').hidden = true;
  $('no-access').hidden = true;
  $('room').hidden = false;
  openRoom(true);
}

async function loadRegistration() {
  if (!webinarId) {
    showNoAccess('This address does not point to a webinar room.');
    return;
  }
  const fromHash = takeTokenFromHash();
  if (fromHash) storeToken(webinarId, fromHash);
  token = fromHash || loadToken(webinarId);
  if (token) organizerBySession = false;
  if (!token) {
    const signedIn = await signedInAsOrganizer();
    if (signedIn === null) {
      $('page-status').textContent = 'We could not reach the server. Please check your connection and reload the page.';
      return;
    }
    if (signedIn) {
      organizerBySession = true;
      await loadOrganizerView();
      return;
    }
    showNoAccess('This page needs your personal join link. Open the link you received when you registered, or register on the webinar page.');
    return;
  }
  let res;
  try {
    res = await request('GET', '/api/me', { token });
  } catch (err) {
    if (!(err instanceof NetworkError)) throw err;
    $('page-status').textContent = 'We could not reach the server. Please check your connection and reload the page.';
    return;
  }
  if (res.status === 401 || res.status === 403) {
    forgetToken(webinarId);
    openRoom(false);
    showNoAccess('We do not recognise this personal link. It may be incomplete or mistyped. Copy the whole link you received when you registered, or register again on the webinar page.');
    return;
  }
  if (res.status !== 200 || !res.data) {
    $('page-status').textContent = 'We could not load your registration right now. Please reload the page in a moment.';
    return;
  }
  render(res.data);
  if (cancelAsked && !$('cancel-area').hidden) openConfirm();
}

function openConfirm() {
  $('confirm').hidden = false;
  $('cancel-button').setAttribute('aria-expanded', 'true');
  $('cancel-error').hidden = true;
  focusRegion($('confirm-text'));
}

function closeConfirm() {
  $('confirm').hidden = true;
  $('cancel-button').setAttribute('aria-expanded', 'false');
  $('cancel-button').focus();
}

async function confirmCancel() {
  const button = $('confirm-cancel');
  button.disabled = true;
  let res = null;
  try {
    res = await request('DELETE', '/api/me', { token });
  } catch (err) {
    if (!(err instanceof NetworkError)) throw err;
  } finally {
    button.disabled = false;
  }
  if (res && res.status === 200 && res.data) {
    $('confirm').hidden = true;
    $('cancel-button').setAttribute('aria-expanded', 'false');
    render(res.data);
    focusRegion($('greeting'));
    return;
  }
  if (res && (res.status === 401 || res.status === 403)) {
    forgetToken(webinarId);
    openRoom(false);
    showNoAccess('We do not recognise this personal link any more. Register again on the webinar page.');
    return;
  }
  $('cancel-error').textContent = 'Your registration was not cancelled because something went wrong. Please try again.';
  $('cancel-error').hidden = false;
}

$('cancel-button').addEventListener('click', () => ($('confirm').hidden ? openConfirm() : closeConfirm()));
$('keep-registration').addEventListener('click', closeConfirm);
$('confirm-cancel').addEventListener('click', confirmCancel);
$('confirm').addEventListener('keydown', (e) => { if (e.key === 'Escape') closeConfirm(); });
window.addEventListener('hashchange', () => { if (new URLSearchParams(location.hash.slice(1)).has('token')) loadRegistration(); });
loadRegistration();
