// Landing page: lists upcoming webinars from GET /api/webinars.
import { request, NetworkError } from '/assets/api.js';
import { el, clear } from '/assets/dom.js';
import { excerpt, seatsText, shortDateTime, sessionCountText, viewerTimeZone } from '/assets/format.js';

const list = document.getElementById('webinar-list');
const status = document.getElementById('list-status');

function card(webinar) {
  const href = `/w/${encodeURIComponent(webinar.id)}`;
  const seats = seatsText(webinar);
  const headingId = `webinar-${webinar.id}-title`;
  const sessions = Array.isArray(webinar.sessions) ? webinar.sessions : [];
  return el('li', { class: 'card webinar-card' },
    el('article', { 'aria-labelledby': headingId },
      el('h2', { id: headingId }, el('a', { href }, String(webinar.title ?? ''))),
      el('ul', { class: 'meta' },
        el('li', {}, el('span', { class: 'label' }, 'Next session: '),
          el('time', { datetime: webinar.next_session_at }, shortDateTime(webinar.next_session_at))),
        sessions.length ? el('li', {}, sessionCountText(sessions.length)) : null,
        el('li', {}, el('span', { class: seats.full ? 'badge full' : 'badge' }, seats.text))),
      webinar.description ? el('p', { class: 'excerpt' }, excerpt(webinar.description)) : null,
      el('p', {}, el('a', { class: 'more', href, 'aria-describedby': headingId }, seats.full ? 'Details and waitlist' : 'Details and registration'))));
}

async function load() {
  const zone = viewerTimeZone();
  if (zone) document.getElementById('tz-name').textContent = ` (${zone})`;
  let res;
  try {
    res = await request('GET', '/api/webinars');
  } catch (err) {
    if (!(err instanceof NetworkError)) throw err;
    status.textContent = 'We could not load the webinars. Please check your connection and reload the page.';
    return;
  }
  if (res.status !== 200 || !res.data || !Array.isArray(res.data.webinars)) {
    status.textContent = 'We could not load the webinars right now. Please try again in a moment.';
    return;
  }
  const upcoming = res.data.webinars.filter((w) => w && w.next_session_at);
  clear(list).append(...upcoming.map(card));
  status.textContent = upcoming.length
    ? (upcoming.length === 1 ? '1 upcoming webinar' : `${upcoming.length} upcoming webinars`)
    : 'No upcoming webinars right now. Please check back soon.';
  status.classList.toggle('visually-hidden', upcoming.length > 0);
}

load();
