// Display helpers: dates in the viewer's own time zone, seat counts, text excerpts.

const dateFormat = new Intl.DateTimeFormat(undefined, { weekday: 'long', year: 'numeric', month: 'long', day: 'numeric' });
const shortDateFormat = new Intl.DateTimeFormat(undefined, { weekday: 'short', year: 'numeric', month: 'short', day: 'numeric' });
const timeFormat = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' });
const zoneFormat = new Intl.DateTimeFormat(undefined, { hour: 'numeric', timeZoneName: 'short' });

export function viewerTimeZone() {
  try { return Intl.DateTimeFormat().resolvedOptions().timeZone || ''; } catch { return ''; }
}

// Short zone name at that instant ("CET", "EDT", "GMT+2"), so daylight-saving changes show.
export function zoneName(date) {
  const part = zoneFormat.formatToParts(date).find((p) => p.type === 'timeZoneName');
  return part ? part.value : '';
}

export function parseTime(iso) {
  if (typeof iso !== 'string') return null;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? null : d;
}

// "Thursday, December 3, 2026" and "7:00 PM – 8:00 PM CET".
export function sessionParts(session) {
  const start = parseTime(session.starts_at);
  if (!start) return { date: 'Date to be announced', time: '' };
  let end = parseTime(session.ends_at);
  if (!end && Number.isFinite(session.duration_minutes)) end = new Date(start.getTime() + session.duration_minutes * 60000);
  const zone = zoneName(start);
  const range = end ? `${timeFormat.format(start)} – ${timeFormat.format(end)}` : timeFormat.format(start);
  return { date: dateFormat.format(start), time: zone ? `${range} ${zone}` : range, start, end };
}

// "Thu, Dec 3, 2026, 7:00 PM CET"
export function shortDateTime(iso) {
  const d = parseTime(iso);
  if (!d) return '';
  const zone = zoneName(d);
  return `${shortDateFormat.format(d)}, ${timeFormat.format(d)}${zone ? ` ${zone}` : ''}`;
}

export function seatsText(webinar) {
  if (webinar.capacity === null || webinar.capacity === undefined || webinar.seats_left === null || webinar.seats_left === undefined) {
    return { text: 'Seats available', full: false };
  }
  if (webinar.seats_left <= 0) return { text: 'Full — waitlist open', full: true };
  return { text: webinar.seats_left === 1 ? '1 seat left' : `${webinar.seats_left} seats left`, full: false };
}

export function excerpt(text, max = 180) {
  const clean = String(text ?? '').replace(/\s+/g, ' ').trim();
  if (clean.length <= max) return clean;
  const cut = clean.slice(0, max);
  const space = cut.lastIndexOf(' ');
  return `${(space > max * 0.6 ? cut.slice(0, space) : cut).replace(/[\s.,;:—-]+$/, '')}…`;
}

export function sessionCountText(n) {
  return n === 1 ? '1 session' : `${n} sessions`;
}
