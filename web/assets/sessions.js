// Renders a webinar's sessions as a list in the viewer's time zone (shared by the registration and room pages).
import { el, clear } from '/assets/dom.js';
import { sessionParts, viewerTimeZone } from '/assets/format.js';

export function renderSessions(listNode, noteNode, sessions) {
  const items = (Array.isArray(sessions) ? sessions : []).map((session, index) => {
    const parts = sessionParts(session);
    const past = parts.end ? parts.end.getTime() < Date.now() : false;
    const number = Number.isFinite(session.number) ? session.number : index + 1;
    return el('li', { class: past ? 'past' : null },
      el('span', { class: 'num', 'aria-hidden': 'true' }, String(number)),
      el('span', { class: 'when-date' },
        el('span', { class: 'visually-hidden' }, `Session ${number}: `),
        el('time', { datetime: session.starts_at }, parts.date)),
      el('span', { class: 'when-time' }, parts.time, past ? ' · already held' : ''));
  });
  clear(listNode).append(...items);
  if (noteNode) {
    const zone = viewerTimeZone();
    noteNode.textContent = zone ? `Times are shown in your time zone (${zone}).` : 'Times are shown in your time zone.';
  }
}
