// Organizer console (/console): sign in with email and password (session cookie, no token on the
// page), the webinar series list with create/edit/move/delete, and per series the tabs Registrants,
// Stream, Bonus drops, Chat, Recordings, Attendance and Email. The selected series and tab are kept
// in the address (#series=ID&tab=NAME) so a reload or a link from the live room comes back to them.
// While the page is visible, the open series' counts (and the open Registrants, Bonus drops or
// Email panel) are refreshed every 15 s; the drop list is also reloaded just after the earliest
// scheduled release, so "Scheduled" turns into "Released" without a reload.
//
// Stable hooks for browser tests (data-testid; the element ids are stable too):
//   sign-in:   login-email, login-password, login-submit, login-error (alert region),
//              signed-in-as, logout
//   series:    series-new, series-list, series-item (data-series-id), detail-title, detail-signup,
//              series-edit, series-delete, series-delete-confirm,
//              detail-sessions, session-move, session-move-at, session-move-save
//   form:      series-title, series-description, series-capacity, series-mode-keep,
//              series-mode-weekly, series-weekly-first, series-weekly-count, series-weekly-duration,
//              series-mode-dates, series-add-date, series-date, series-date-duration,
//              series-save, series-cancel
//   tabs:      tab-registrants, tab-stream, tab-drops, tab-chat, tab-recordings, tab-attendance,
//              tab-assessment (console-assessment.js), tab-certificates (console-certificates.js),
//              tab-email, tab-privacy (console-privacy.js: privacy-text, privacy-save, privacy-default,
//              privacy-preview, privacy-rid, privacy-export, privacy-erase)
//   panels:    registrant-search, registrant-status, registrants-table, registrant-row
//              (data-id, data-status), registrant-cancel, registrant-cancel-confirm,
//              registrants-summary, registrants-empty, registrants-more, registrants-csv;
//              open-live-room, chat-live-room, chat-csv; recordings-list, recording-item,
//              recording-delete; attendance-session, attendance-table, attendance-row,
//              attendance-summary, attendance-chart, attendance-csv, attendance-certificate;
//              email-summary, email-transport, email-filter, email-refresh, email-empty,
//              email-table, email-row (data-id, data-state), email-view (the row's View button),
//              email-dialog, email-source (the <pre>), email-view-close, email-more
//   The Stream and Bonus drops panels reuse the live room's ids (sm-*, dm-*).
import { focusRegion } from '/assets/dom.js';
import { mountDropManager } from '/assets/drop-manager.js';
import { mountStreamManager } from '/assets/stream-manager.js';
import { onUnauthorized } from '/assets/console-common.js';
import { mountLogin, currentSession, signOut } from '/assets/console-login.js';
import { mountSeries } from '/assets/console-series.js';
import { mountRegistrants } from '/assets/console-registrants.js';
import { mountQuestions } from '/assets/console-questions.js';
import { mountRecordings } from '/assets/console-recordings.js';
import { mountAttendance } from '/assets/console-attendance.js';
import { mountAssessment } from '/assets/console-assessment.js';
import { mountEmail } from '/assets/console-email.js';
import { mountCe } from '/assets/console-ce.js';
import { mountPrivacy } from '/assets/console-privacy.js';
import { mountCertificates } from '/assets/console-certificates.js';

const $ = (id) => document.getElementById(id);
const TABS = ['registrants', 'stream', 'drops', 'chat', 'recordings', 'attendance', 'ce', 'assessment', 'certificates', 'email', 'privacy'];
const POLL_MS = 15_000;
// After a drop's release time the list is reloaded this much later (the server releases on time).
const RELEASE_GRACE_MS = 1_500;
// A release further ahead is looked at again after this long (setTimeout's range, and a moved session).
const RELEASE_MAX_WAIT_MS = 3_600_000;

let signedIn = false;
let activeTab = 'registrants';
let webinar = null; // the selected series
let streamBox = null; // { manager, webinarId }
let dropBox = null; // { manager, webinarId, sessionsKey, observer, timer }
let pollTimer = null;

function announce(text) {
  const region = $('console-announce');
  // Same text twice in a row is still announced.
  region.textContent = '';
  setTimeout(() => { region.textContent = text; }, 50);
}

// ---- address ----

function readHash() {
  const params = new URLSearchParams(location.hash.replace(/^#/, ''));
  const id = params.get('series');
  const tab = params.get('tab');
  return { id: id && /^[1-9]\d{0,15}$/.test(id) ? id : null, tab: TABS.includes(tab) ? tab : null };
}

function writeHash() {
  const hash = webinar ? `#series=${webinar.id}&tab=${activeTab}` : '';
  if (location.hash !== hash) history.replaceState(history.state, '', `${location.pathname}${location.search}${hash}`);
}

// ---- stream and drops: the live room's managers, each mounted afresh into its slot per series ----

// Like the other panels' headings: h3, under the series' h2 (the room page has them at h2).
const MANAGER_HEADING_LEVEL = 3;

function unmountManagers() {
  streamBox?.manager.destroy();
  streamBox = null;
  unmountDrops();
}

function showStream(w) {
  $('stream-live-link').href = `/live/${w.id}`;
  if (streamBox && String(streamBox.webinarId) === String(w.id)) {
    streamBox.manager.refresh();
    return;
  }
  streamBox?.manager.destroy();
  const manager = mountStreamManager($('stream-slot'), { webinarId: w.id, headingLevel: MANAGER_HEADING_LEVEL });
  streamBox = { webinarId: w.id, manager };
}

const sessionsKey = (w) => JSON.stringify((w.sessions ?? []).map((s) => [s.number, s.starts_at]));

function unmountDrops() {
  if (!dropBox) return;
  dropBox.observer.disconnect();
  clearTimeout(dropBox.timer);
  dropBox.manager.destroy?.();
  dropBox = null;
}

// Reloading re-draws the list: not while the keyboard is on one of its buttons (a pending
// "Confirm delete" lives there), nor while the drops are not on screen.
function dropsRefreshable() {
  if (!dropBox || activeTab !== 'drops' || document.hidden) return false;
  const list = document.getElementById('dm-list');
  return !(list && list.contains(document.activeElement));
}

// One timer for the earliest drop still shown as scheduled: the list reloads just after its
// release time. Called whenever the manager re-draws its list (a MutationObserver sees it).
function armReleaseTimer() {
  if (!dropBox) return;
  clearTimeout(dropBox.timer);
  dropBox.timer = null;
  const now = Date.now();
  let earliest = Infinity;
  for (const time of document.querySelectorAll('#dm-list > li.scheduled .dm-when time[datetime]')) {
    const at = Date.parse(time.getAttribute('datetime'));
    if (Number.isFinite(at) && at + RELEASE_GRACE_MS > now && at < earliest) earliest = at;
  }
  if (earliest === Infinity) return; // nothing ahead; a release already due is left to the 15 s poll
  const box = dropBox;
  const due = () => {
    if (box !== dropBox) return;
    box.timer = null;
    if (dropsRefreshable()) box.manager.refresh(); // the re-drawn list arms the next one
    // Focus in the list: try again shortly. Another tab or a hidden page: showing the tab or
    // the page again reloads the list anyway.
    else if (activeTab === 'drops' && !document.hidden) box.timer = setTimeout(due, 5_000);
  };
  box.timer = setTimeout(due, Math.min(earliest + RELEASE_GRACE_MS - now, RELEASE_MAX_WAIT_MS));
}

function showDrops(w) {
  // The manager's session pickers are filled once: a changed schedule gets a new manager.
  if (dropBox && String(dropBox.webinarId) === String(w.id) && dropBox.sessionsKey === sessionsKey(w)) {
    dropBox.manager.refresh();
    return;
  }
  unmountDrops();
  const manager = mountDropManager($('drops-slot'), { webinarId: w.id, sessions: w.sessions, headingLevel: MANAGER_HEADING_LEVEL });
  // Attached before the list's first drawing: the manager loads it asynchronously.
  const observer = new MutationObserver(armReleaseTimer);
  observer.observe(document.getElementById('dm-list'), { childList: true, subtree: true, characterData: true });
  dropBox = { webinarId: w.id, sessionsKey: sessionsKey(w), observer, timer: null, manager };
}

function showChat(w) {
  $('chat-live-link').href = `/live/${w.id}`;
  $('chat-csv').href = `/api/webinars/${w.id}/chat.csv`;
}

// ---- panels and tabs ----

// Every (re)load of the registrants also refreshes the series' counts in the header and list.
const registrants = mountRegistrants({ announce, onLoaded: () => series.refreshSelected() });
const recordings = mountRecordings({ announce });
const questions = mountQuestions({ announce });
const attendance = mountAttendance();
const assessment = mountAssessment();
const email = mountEmail({ announce });
const ce = mountCe($('ce-slot'));
const privacy = mountPrivacy({ announce });
const certificates = mountCertificates({ announce });

const panels = {
  registrants: (w) => { registrants.show(w); questions.show(w); },
  stream: showStream,
  drops: showDrops,
  chat: showChat,
  recordings: (w) => recordings.show(w),
  attendance: (w) => attendance.show(w),
  ce: (w) => ce.show(w),
  assessment: (w) => assessment.show(w),
  certificates: (w) => certificates.show(w),
  email: (w) => email.show(w),
  privacy: (w) => privacy.show(w),
};

// ---- keeping the open series current ----

function poll() {
  if (!signedIn || !webinar || document.hidden) return;
  if (activeTab === 'registrants') {
    registrants.poll(); // refreshes the counts when it reloads
    return;
  }
  series.refreshSelected();
  if (activeTab === 'drops' && dropsRefreshable()) dropBox.manager.refresh();
  else if (activeTab === 'email') email.poll();
}

function startPolling() {
  stopPolling();
  pollTimer = setInterval(poll, POLL_MS);
}

function stopPolling() {
  clearInterval(pollTimer);
  pollTimer = null;
}

// No requests from a tab in the background; on coming back, catch up at once.
document.addEventListener('visibilitychange', () => {
  if (!signedIn) return;
  if (document.hidden) {
    stopPolling();
    return;
  }
  poll();
  startPolling();
});

function tabButtons() {
  return TABS.map((name) => $(`tab-${name}`));
}

function activate(name, { focus = false } = {}) {
  if (!TABS.includes(name)) name = 'registrants';
  activeTab = name;
  for (const button of tabButtons()) {
    const on = button.dataset.tab === name;
    button.setAttribute('aria-selected', String(on));
    button.tabIndex = on ? 0 : -1;
    $(button.getAttribute('aria-controls')).hidden = !on;
  }
  if (focus) $(`tab-${name}`).focus();
  if (webinar) panels[name](webinar);
  writeHash();
}

$('series-tabs').addEventListener('click', (e) => {
  const button = e.target.closest('[role="tab"]');
  if (button) activate(button.dataset.tab);
});

// Arrow keys move between tabs (and show them), Home/End jump to the ends.
$('series-tabs').addEventListener('keydown', (e) => {
  const i = TABS.indexOf(activeTab);
  let next = null;
  if (e.key === 'ArrowRight' || e.key === 'ArrowDown') next = TABS[(i + 1) % TABS.length];
  else if (e.key === 'ArrowLeft' || e.key === 'ArrowUp') next = TABS[(i - 1 + TABS.length) % TABS.length];
  else if (e.key === 'Home') next = TABS[0];
  else if (e.key === 'End') next = TABS[TABS.length - 1];
  if (next === null) return;
  e.preventDefault();
  activate(next, { focus: true });
});

// ---- series ----

function resetPanels() {
  registrants.reset();
  questions.reset();
  recordings.reset();
  attendance.reset();
  ce.reset();
  assessment.reset();
  certificates.reset();
  email.reset();
  privacy.reset();
  unmountManagers();
}

const series = mountSeries({
  announce,
  onSelect(w) {
    if (!webinar || String(webinar.id) !== String(w.id)) resetPanels();
    webinar = w;
    activate(activeTab);
  },
  onChange(w) {
    webinar = w;
    // The panels that show sessions follow the new schedule.
    if (['drops', 'attendance', 'ce', 'assessment', 'certificates'].includes(activeTab)) panels[activeTab](w);
  },
  onDeleted() {
    webinar = null;
    resetPanels();
    writeHash();
    document.title = 'Organizer console — Cohort';
  },
});

// ---- signing in and out ----

const login = mountLogin({
  onSignedIn: async (session) => {
    await enterConsole(session);
    focusRegion($('series-heading'));
  },
});

async function enterConsole(session) {
  signedIn = true;
  login.hide();
  $('console-status').hidden = true;
  $('console-retry-row').hidden = true;
  $('signed-in-as').textContent = `Signed in as ${String(session.organizer?.email ?? '')}`;
  $('account').hidden = false;
  $('console-view').hidden = false;
  document.title = 'Organizer console — Cohort';
  if (!document.hidden) startPolling();
  await series.loadList();
  const { id, tab } = readHash();
  if (tab) activeTab = tab;
  if (id) await series.select(id);
}

function leaveConsole(message) {
  signedIn = false;
  stopPolling();
  webinar = null;
  resetPanels();
  series.reset();
  $('account').hidden = true;
  $('console-view').hidden = true;
  $('console-status').hidden = true;
  login.show(message);
}

// Any API call answered 401: the session expired or was ended elsewhere.
onUnauthorized(() => {
  if (!signedIn) return;
  leaveConsole('Your session has ended. Please sign in again.');
});

$('logout').addEventListener('click', async () => {
  const button = $('logout');
  button.disabled = true;
  const ok = await signOut();
  button.disabled = false;
  if (!ok) {
    announce('Signing out did not work because the server could not be reached. Please try again.');
    return;
  }
  history.replaceState(history.state, '', `${location.pathname}${location.search}`);
  leaveConsole('You are signed out.');
});

async function start() {
  $('console-status').hidden = false;
  $('console-status').textContent = 'Checking whether you are signed in…';
  $('console-retry-row').hidden = true;
  const session = await currentSession();
  if (session === null) {
    $('console-status').textContent = 'We could not reach the server. Please check your connection and try again.';
    $('console-retry-row').hidden = false;
    return;
  }
  if (!session) {
    $('console-status').hidden = true;
    login.show();
    return;
  }
  await enterConsole(session);
}

$('console-retry').addEventListener('click', start);
window.addEventListener('hashchange', () => {
  if (!signedIn) return;
  const { id, tab } = readHash();
  if (id && (!webinar || String(webinar.id) !== id)) {
    if (tab) activeTab = tab;
    series.select(id);
  } else if (tab && tab !== activeTab) {
    activate(tab);
  }
});
start();
