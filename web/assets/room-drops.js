// "Bonus materials" panel of the room page (live.html ids drops-*, drop-toast*), a registrant's
// feature module of the room (live-room.js; the organizer sees every drop in drop-manager.js). Fed by
// the room's socket: hello's full list (again after each reconnect; merged by id) and each drop
// frame released while the page is open, which goes on top with a polite, dismissible notice. The registrant's seen
// marker moves once new drops have actually been on screen, so the New badge shows this one time.
import { createDropList, markSeen } from '/assets/drops.js';

const NOTICE_MS = 15000;

export const roomModule = {
  mount(room) {
    if (room.organizer) return null;
    const panel = mountRoomDrops({ webinarId: room.webinarId, token: room.token, registrant: true });
    room.on('hello', (hello) => panel.onDrops(Array.isArray(hello.drops) ? hello.drops : []));
    room.on('drop', (frame) => { if (frame.drop && typeof frame.drop === 'object') panel.onDrop(frame.drop); });
    return panel;
  },
};

export function mountRoomDrops({ webinarId, token, registrant }) {
  const $ = (id) => document.getElementById(id);
  const section = $('drops-section');
  const loading = $('drops-loading');
  const toast = $('drop-toast');
  const notice = $('drop-notice');
  const actions = $('drop-toast-actions');
  const dismiss = $('drop-toast-dismiss');
  const show = $('drop-toast-show');

  const list = createDropList($('drops-list'), $('drops-empty'), { token, headingLevel: 4 });
  list.reset();
  $('drops-empty').hidden = true;
  loading.hidden = false;
  $('materials-link').href = `/materials/${encodeURIComponent(webinarId)}`;
  section.hidden = false;

  let helloSeen = false;
  let unseenShown = false; // rendered drops the server does not count as seen yet
  let inView = false;
  let noticeTimer = null;

  const observer = 'IntersectionObserver' in window
    ? new IntersectionObserver((entries) => {
      inView = entries.some((e) => e.isIntersecting);
      maybeMarkSeen();
    })
    : null;
  if (observer) observer.observe($('drops-list'));
  else inView = true;

  function maybeMarkSeen() {
    if (!registrant || !unseenShown || !inView || document.visibilityState !== 'visible') return;
    unseenShown = false;
    markSeen(webinarId, token, list.newestReleasedAt);
  }

  function announce(drops) {
    const titles = drops.map((d) => String(d.title ?? '') || 'Bonus material');
    notice.textContent = titles.length === 1
      ? `New bonus material: ${titles[0]}`
      : `${titles.length} new bonus materials: ${titles.join('; ')}`;
    toast.dataset.open = 'true';
    actions.hidden = false;
    armNoticeTimer();
  }

  // Hides by itself, but never while the pointer or keyboard focus is on it.
  function armNoticeTimer() {
    clearTimeout(noticeTimer);
    noticeTimer = setTimeout(() => {
      if (toast.matches(':hover') || toast.contains(document.activeElement)) armNoticeTimer();
      else closeNotice();
    }, NOTICE_MS);
  }

  function closeNotice() {
    clearTimeout(noticeTimer);
    const hadFocus = toast.contains(document.activeElement);
    toast.dataset.open = 'false';
    actions.hidden = true;
    notice.textContent = '';
    if (hadFocus) $('drops-heading').focus();
  }

  function rendered(drops) {
    if (drops.some((d) => d.seen === false)) unseenShown = true;
    maybeMarkSeen();
  }

  function onDrops(drops) {
    const added = list.merge(drops);
    loading.hidden = true;
    // The first hello is the page's initial list; a later one brings what came out while offline.
    if (helloSeen && added.length) announce(added);
    helloSeen = true;
    rendered(added);
  }

  function onDrop(drop) {
    if (!list.add(drop)) return;
    loading.hidden = true;
    announce([drop]);
    rendered([drop]);
  }

  function onShow(event) {
    event.preventDefault();
    closeNotice();
    section.scrollIntoView({ block: 'start' });
    const first = $('drops-list').querySelector('.drop-title');
    if (first) {
      first.setAttribute('tabindex', '-1');
      first.focus();
    }
  }

  function onKey(event) {
    if (event.key === 'Escape') closeNotice();
  }

  dismiss.addEventListener('click', closeNotice);
  show.addEventListener('click', onShow);
  toast.addEventListener('keydown', onKey);
  document.addEventListener('visibilitychange', maybeMarkSeen);
  $('drops-heading').setAttribute('tabindex', '-1');

  return {
    onDrops,
    onDrop,
    destroy() {
      observer?.disconnect();
      document.removeEventListener('visibilitychange', maybeMarkSeen);
      dismiss.removeEventListener('click', closeNotice);
      show.removeEventListener('click', onShow);
      toast.removeEventListener('keydown', onKey);
      closeNotice();
      list.reset();
      $('drops-empty').hidden = true;
      section.hidden = true;
    },
  };
}
