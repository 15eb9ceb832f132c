// Console "Attendance" panel: pick a session, see who joined (first seen, last seen, minutes, and
// whether that reached the series' min_minutes), how many registrants watched minute by minute as a
// small inline SVG chart drawn here (no chart library), and the CSV export of the same table.
// Each attended registrant's row links to a printable certificate (/certificate, new tab).
import { el, clear } from '/assets/dom.js';
import { shortDateTime, parseTime, zoneName } from '/assets/format.js';
import { api, problem } from '/assets/console-common.js';

const $ = (id) => document.getElementById(id);
const SVG_NS = 'http://www.w3.org/2000/svg';
const timeFormat = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' });
const dayTimeFormat = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit' });

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) node.setAttribute(k, String(v));
  for (const c of children) if (c !== null && c !== undefined) node.append(typeof c === 'string' ? c : c);
  return node;
}

// A time within the session's day as "7:05 PM"; another day also names the date.
function clockText(iso, sessionStart) {
  const d = parseTime(iso);
  if (!d) return '';
  const sameDay = sessionStart && d.toDateString() === sessionStart.toDateString();
  return (sameDay ? timeFormat : dayTimeFormat).format(d);
}

function sessionOptionText(s, index) {
  const number = Number.isFinite(s.number) ? s.number : index + 1;
  const start = parseTime(s.starts_at);
  const upcoming = start && start.getTime() > Date.now();
  return { number, text: `Session ${number}${start ? ` — ${shortDateTime(s.starts_at)}` : ''}${upcoming ? ' (upcoming)' : ''}` };
}

// The session to show first: the latest one that has started, else the first.
function defaultSession(sessions) {
  let pick = sessions[0];
  for (const s of sessions) {
    const start = parseTime(s.starts_at);
    if (start && start.getTime() <= Date.now()) pick = s;
  }
  return pick ? String(pick.number) : '';
}

// Viewers per minute as an area chart, drawn for `width` CSS pixels so its 12px labels stay 12px
// on a phone. Returns { node, summary } or null when nobody watched.
export function viewersChart(viewers, session, width = 640) {
  const points = (Array.isArray(viewers) ? viewers : [])
    .map((v) => ({ at: parseTime(v.at), count: Number(v.count) }))
    // Minutes still to come (a session in progress) have not happened: they are not zero viewers.
    .filter((p) => p.at && Number.isFinite(p.count) && p.at.getTime() <= Date.now())
    .sort((a, b) => a.at - b.at);
  if (!points.length || points.every((p) => p.count === 0)) return null;

  const W = Math.round(Math.min(960, Math.max(280, width)));
  const H = Math.round(Math.min(240, Math.max(170, W * 0.36)));
  const m = { l: 34, r: 12, t: 14, b: 28 };
  const start = parseTime(session?.starts_at);
  const end = parseTime(session?.ends_at);
  const t0 = Math.min(points[0].at.getTime(), start ? start.getTime() : Infinity);
  const t1 = Math.max(points[points.length - 1].at.getTime(), end ? end.getTime() : -Infinity, t0 + 60_000);
  const peak = points.reduce((best, p) => (p.count > best.count ? p : best), points[0]);
  const yMax = Math.max(1, peak.count <= 4 ? peak.count : Math.ceil(peak.count / 4) * 4);
  const x = (t) => m.l + ((t - t0) / (t1 - t0)) * (W - m.l - m.r);
  const y = (c) => H - m.b - (c / yMax) * (H - m.t - m.b);

  const line = points.map((p, i) => `${i ? 'L' : 'M'}${x(p.at.getTime()).toFixed(1)},${y(p.count).toFixed(1)}`).join(' ');
  const area = `${line} L${x(points[points.length - 1].at.getTime()).toFixed(1)},${y(0)} L${x(points[0].at.getTime()).toFixed(1)},${y(0)} Z`;
  const ticks = yMax <= 4 ? Array.from({ length: yMax + 1 }, (_, i) => i) : [0, yMax / 4, yMax / 2, (3 * yMax) / 4, yMax];
  const average = points.reduce((sum, p) => sum + p.count, 0) / points.length;
  const zone = zoneName(new Date(t0));
  const summary = `Peak of ${peak.count} ${peak.count === 1 ? 'viewer' : 'viewers'} at ${timeFormat.format(peak.at)}${zone ? ` ${zone}` : ''}; on average ${average.toFixed(1)} over ${points.length} ${points.length === 1 ? 'minute' : 'minutes'}.`;

  const grid = ticks.map((c) => svg('g', { class: 'chart-tick' },
    svg('line', { x1: m.l, x2: W - m.r, y1: y(c), y2: y(c) }),
    svg('text', { x: m.l - 6, y: y(c), dy: '0.32em', 'text-anchor': 'end' }, String(c))));
  const xLabels = [t0, (t0 + t1) / 2, t1].map((t, i) => svg('text', {
    class: 'chart-x', x: x(t), y: H - m.b + 18, 'text-anchor': ['start', 'middle', 'end'][i],
  }, timeFormat.format(new Date(t))));
  const windowBand = start && end
    ? svg('rect', { class: 'chart-window', x: x(start.getTime()), y: m.t, width: Math.max(0, x(end.getTime()) - x(start.getTime())), height: H - m.t - m.b })
    : null;
  const node = svg('svg', {
    viewBox: `0 0 ${W} ${H}`, class: 'viewers-chart', role: 'img', 'aria-labelledby': 'att-chart-title att-chart-desc', 'data-testid': 'attendance-chart', preserveAspectRatio: 'xMidYMid meet',
  },
  svg('title', { id: 'att-chart-title' }, 'Registrants watching, minute by minute'),
  svg('desc', { id: 'att-chart-desc' }, summary),
  windowBand,
  ...grid,
  svg('path', { class: 'chart-area', d: area }),
  svg('path', { class: 'chart-line', d: line }),
  svg('circle', { class: 'chart-peak', cx: x(peak.at.getTime()), cy: y(peak.count), r: 4 }),
  svg('line', { class: 'chart-axis', x1: m.l, x2: W - m.r, y1: y(0), y2: y(0) }),
  ...xLabels);
  return { node, summary };
}

export function mountAttendance() {
  const picker = $('att-session');
  const status = $('att-status');
  const summaryNode = $('att-summary');
  const chartBox = $('att-chart');
  const chartNote = $('att-chart-note');
  const table = $('att-table');
  const rows = $('att-rows');
  const empty = $('att-empty');
  const csv = $('att-csv');
  const figure = chartBox.closest('figure');
  let webinar = null;
  let loadSeq = 0;
  let drawn = null; // { viewers, session, width } of the chart on screen

  function drawChart(viewers, session) {
    const width = figure.clientWidth || 640;
    clear(chartBox);
    drawn = null;
    const chart = viewersChart(viewers, session, width);
    if (!chart) return null;
    chartBox.append(chart.node);
    drawn = { viewers, session, width };
    return chart;
  }

  // A phone turned sideways, a resized window: the chart is redrawn for its new width.
  if (typeof ResizeObserver === 'function') {
    new ResizeObserver(() => {
      if (drawn && Math.abs((figure.clientWidth || 0) - drawn.width) > 24) drawChart(drawn.viewers, drawn.session);
    }).observe(figure);
  }

  function fillPicker(sessions, keep) {
    const options = sessions.map((s, i) => {
      const { number, text } = sessionOptionText(s, i);
      return el('option', { value: String(number) }, text);
    });
    clear(picker).append(...options);
    const values = options.map((o) => o.value);
    picker.value = keep && values.includes(keep) ? keep : defaultSession(sessions);
    picker.disabled = !options.length;
  }

  function setCsv() {
    if (picker.value) {
      csv.href = `/api/webinars/${webinar.id}/attendance.csv?session=${encodeURIComponent(picker.value)}`;
      csv.hidden = false;
    } else {
      csv.hidden = true;
    }
  }

  // The printable certificate of an attended registrant (certificate.html), in a new tab.
  function certificateLink(r, sessionNumber) {
    if (!webinar || !sessionNumber || r.registration_id === undefined || r.registration_id === null) return null;
    const query = new URLSearchParams({ webinar: String(webinar.id), session: String(sessionNumber), registration: String(r.registration_id) });
    return el('a', {
      href: `/certificate?${query}`,
      target: '_blank',
      rel: 'noopener',
      class: 'att-certificate',
      'aria-label': `Certificate of attendance for ${String(r.name ?? '')} (opens in a new tab)`,
      'data-testid': 'attendance-certificate',
    }, 'Certificate');
  }

  function row(r, sessionStart, sessionNumber) {
    const attended = r.attended === true;
    const minutes = Number.isFinite(r.minutes) ? r.minutes : 0;
    const time = (iso) => (parseTime(iso) ? el('time', { datetime: iso, title: shortDateTime(iso) }, clockText(iso, sessionStart)) : el('span', { class: 'muted' }, '—'));
    const pill = el('span', { class: `status-pill ${attended ? 'registered' : 'cancelled'}` }, attended ? 'Yes' : 'No');
    const certificate = attended ? certificateLink(r, sessionNumber) : null;
    return el('tr', { 'data-testid': 'attendance-row', dataset: { id: String(r.registration_id ?? '') } },
      el('th', { scope: 'row', 'data-label': 'Name' }, String(r.name ?? '')),
      el('td', { 'data-label': 'Email', class: 'reg-email' }, String(r.email ?? '')),
      el('td', { 'data-label': 'Joined' }, time(r.joined_at)),
      el('td', { 'data-label': 'Left' }, time(r.left_at)),
      el('td', { 'data-label': 'Minutes', class: 'num-cell' }, String(minutes)),
      // One child for the cell (the phone layout puts a cell's children in a grid): pill, link.
      el('td', { 'data-label': 'Attended' }, certificate ? el('span', { class: 'nowrap' }, pill, ' ', certificate) : pill));
  }

  function clearResults() {
    clear(rows);
    clear(chartBox);
    drawn = null;
    table.hidden = true;
    empty.hidden = true;
    chartNote.textContent = '';
    summaryNode.textContent = '';
  }

  async function load() {
    if (!webinar) return;
    setCsv();
    if (!picker.value) {
      clearResults();
      status.textContent = '';
      empty.textContent = 'This series has no sessions yet, so there is no attendance to show.';
      empty.hidden = false;
      return;
    }
    const mine = ++loadSeq;
    status.textContent = 'Loading attendance…';
    const res = await api('GET', `/api/webinars/${webinar.id}/attendance?session=${encodeURIComponent(picker.value)}`);
    if (mine !== loadSeq) return;
    if (!res || res.status !== 200 || !res.data) {
      if (res?.status === 401) return;
      clearResults();
      status.textContent = problem(res, 'The attendance could not be loaded');
      return;
    }
    const data = res.data;
    const session = data.session && typeof data.session === 'object' ? data.session : {};
    const start = parseTime(session.starts_at);
    const registrants = Array.isArray(data.registrants) ? data.registrants : [];
    const minMinutes = Number.isFinite(data.min_minutes) ? data.min_minutes : null;
    const attended = registrants.filter((r) => r.attended === true).length;
    const upcoming = start && start.getTime() > Date.now();
    const end = parseTime(session.ends_at);
    const running = !upcoming && end && end.getTime() > Date.now();
    clearResults();
    status.textContent = '';

    const rule = minMinutes !== null ? ` (${minMinutes} ${minMinutes === 1 ? 'minute' : 'minutes'} or more)` : '';
    summaryNode.textContent = upcoming
      ? `Session ${picker.value} has not started yet — attendance appears here as people join.`
      : `${attended} of ${registrants.length} ${registrants.length === 1 ? 'registrant' : 'registrants'} attended session ${picker.value}${rule}${running ? ' so far — the session is still running' : ''}.`;

    const chart = upcoming ? null : drawChart(data.viewers, session);
    if (chart) {
      chartNote.textContent = chart.summary;
    } else if (!upcoming) {
      chartNote.textContent = 'Nobody watched this session live, so there is no viewer chart.';
    }

    if (registrants.length) {
      const sessionNumber = Number.isFinite(session.number) ? session.number : picker.value;
      rows.append(...registrants.map((r) => row(r, start, sessionNumber)));
      table.hidden = false;
    } else {
      empty.textContent = 'No registrants for this series yet.';
      empty.hidden = false;
    }
  }

  picker.addEventListener('change', load);

  return {
    show(w) {
      const same = webinar && String(webinar.id) === String(w.id);
      const keep = same ? picker.value : '';
      if (!same) clearResults();
      webinar = w;
      fillPicker(Array.isArray(w.sessions) ? w.sessions : [], keep);
      load();
    },
    reset() {
      webinar = null;
      loadSeq += 1;
      clearResults();
      status.textContent = '';
    },
  };
}
