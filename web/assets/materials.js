// "My materials" page (/materials/{id}[#token=...]): every bonus drop released to this registrant,
// newest first, with a New badge for the ones not seen yet. Once they are on screen the seen marker
// moves, so the badges show this one time. Token handling is the room page's: from the URL hash
// (then removed from the address bar) or this device's localStorage. Below the list, the email
// preference: a checkbox for drop notices (GET/PUT /api/me/email), saved as it is changed.
import { request, idFromPath, errorOf, NetworkError } from '/assets/api.js';
import { createDropList, markSeen } from '/assets/drops.js';
import { viewerTimeZone } from '/assets/format.js';
import { storeToken, loadToken, forgetToken } from '/assets/token.js';

const $ = (id) => document.getElementById(id);
const webinarId = idFromPath('materials');

function takeTokenFromHash() {
  const hash = location.hash.startsWith('#') ? location.hash.slice(1) : location.hash;
  if (!hash) return null;
  const fromHash = new URLSearchParams(hash).get('token');
  if (fromHash === null) return null;
  history.replaceState(history.state, '', location.pathname + location.search);
  return fromHash.trim() || null;
}

function showNoAccess(message, { toRoom = false } = {}) {
  $('page-status').hidden = true;
  $('materials').hidden = true;
  $('no-access-text').textContent = message;
  const link = $('no-access-link');
  if (webinarId && toRoom) {
    link.href = `/live/${webinarId}`;
    link.textContent = 'Go to the webinar room';
  } else if (webinarId) {
    link.href = `/w/${webinarId}`;
    link.textContent = 'Go to the registration page';
  } else {
    link.href = '/';
    link.textContent = 'See all upcoming webinars';
  }
  $('no-access').hidden = false;
  document.title = 'Materials not available — Cohort';
}

// No registrant token on this device: is this browser signed in to the organizer console (its cookie)?
async function signedInAsOrganizer() {
  try {
    const res = await request('GET', '/api/session');
    return res.status === 200 && Boolean(res.data?.organizer);
  } catch (err) {
    if (!(err instanceof NetworkError)) throw err;
    return false;
  }
}

function unreachable() {
  $('page-status').textContent = 'We could not reach the server. Please check your connection and reload the page.';
}

// ---- email preference ----

let prefsToken = null;

function showPrefs(prefs) {
  const box = $('drop-notices');
  const unsubscribed = prefs.unsubscribed === true;
  box.checked = !unsubscribed && prefs.drop_notices !== false;
  // The one-click unsubscribe stops reminders and drop notices for good: nothing to switch on.
  box.disabled = unsubscribed;
  $('email-unsubscribed').hidden = !unsubscribed;
  box.setAttribute('aria-describedby', unsubscribed ? 'email-unsubscribed' : 'email-prefs-hint');
  $('email-prefs-hint').hidden = unsubscribed;
  $('email-prefs').hidden = false;
}

async function loadPrefs(token) {
  prefsToken = token;
  let res;
  try {
    res = await request('GET', '/api/me/email', { token });
  } catch (err) {
    if (!(err instanceof NetworkError)) throw err;
    return; // the page works without it
  }
  if (token !== prefsToken) return;
  if (res.status === 200 && res.data && typeof res.data === 'object') showPrefs(res.data);
  else $('email-prefs').hidden = true;
}

$('drop-notices').addEventListener('change', async () => {
  const box = $('drop-notices');
  const status = $('email-prefs-status');
  const wanted = box.checked;
  box.disabled = true;
  status.textContent = 'Saving…';
  let res = null;
  try {
    res = await request('PUT', '/api/me/email', { token: prefsToken, body: { drop_notices: wanted } });
  } catch (err) {
    if (!(err instanceof NetworkError)) throw err;
  }
  box.disabled = false;
  if (res && res.status === 200 && res.data && typeof res.data === 'object') {
    showPrefs(res.data);
    if (res.data.unsubscribed === true) status.textContent = 'Not saved: you unsubscribed from reminder and drop emails for this series.';
    else status.textContent = res.data.drop_notices ? 'Saved: we will email you when new bonus materials are released.' : 'Saved: no more emails about new bonus materials.';
    return;
  }
  box.checked = !wanted;
  if (!res) status.textContent = 'Not saved: we could not reach the server. Please try again.';
  else if (res.status === 401 || res.status === 403) status.textContent = 'Not saved: we do not recognise your personal link any more. Open the link from your registration email again.';
  else status.textContent = `Not saved: ${String(errorOf(res.data).message || 'something went wrong').replace(/[.\s]+$/, '')}. Please try again.`;
});

async function load() {
  if (!webinarId) {
    showNoAccess('This address does not point to a webinar.');
    return;
  }
  const fromHash = takeTokenFromHash();
  if (fromHash) storeToken(webinarId, fromHash);
  const token = fromHash || loadToken(webinarId);
  if (!token) {
    if (await signedInAsOrganizer()) {
      showNoAccess('This page lists the materials of one registrant. As the organizer, manage the drops in the webinar room.', { toRoom: true });
    } else {
      showNoAccess('This page needs your personal join link. Open the link you received when you registered, or register on the webinar page.');
    }
    return;
  }

  let drops;
  let webinar;
  try {
    [drops, webinar] = await Promise.all([
      request('GET', `/api/webinars/${webinarId}/drops`, { token }),
      request('GET', `/api/webinars/${webinarId}`),
    ]);
  } catch (err) {
    if (!(err instanceof NetworkError)) throw err;
    unreachable();
    return;
  }
  if (drops.status === 401 || drops.status === 403) {
    forgetToken(webinarId);
    showNoAccess('We do not recognise this personal link. It may be incomplete, or the registration was cancelled. Open the whole link you received when you registered, or register again on the webinar page.');
    return;
  }
  if (drops.status === 404) {
    showNoAccess('This webinar does not exist.');
    return;
  }
  if (drops.status !== 200 || !Array.isArray(drops.data?.drops)) {
    $('page-status').textContent = 'We could not load your bonus materials right now. Please reload the page in a moment.';
    return;
  }

  const title = webinar.status === 200 && webinar.data ? String(webinar.data.title ?? '') : '';
  $('webinar-title').textContent = title;
  $('webinar-title').hidden = !title;
  document.title = title ? `Bonus materials — ${title} — Cohort` : 'Your bonus materials — Cohort';
  $('room-link').href = `/live/${webinarId}`;
  const zone = viewerTimeZone();
  $('tz-note').textContent = zone ? `Times are shown in your time zone (${zone}).` : 'Times are shown in your time zone.';

  const list = createDropList($('drops-list'), $('drops-empty'), { token, headingLevel: 2 });
  list.reset();
  list.merge(drops.data.drops);
  $('tz-note').hidden = list.size === 0;
  $('page-status').hidden = true;
  $('no-access').hidden = true;
  $('materials').hidden = false;
  loadPrefs(token);
  // After rendering: this visit shows the badges, the next one does not.
  if (list.hasUnseen) requestAnimationFrame(() => markSeen(webinarId, token, list.newestReleasedAt));
}

window.addEventListener('hashchange', () => { if (new URLSearchParams(location.hash.slice(1)).has('token')) load(); });
load();
