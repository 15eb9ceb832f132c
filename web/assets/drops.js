// Bonus drops as a registrant sees them, shared by the room page's panel and the materials page:
// one list newest first, de-duplicated by id, each drop with its title, a small Markdown body, its
// file or link and the release time in the viewer's zone. Everything is built from DOM nodes and
// text nodes: titles, bodies and links from the server are never parsed as HTML.
import { el, clear } from '/assets/dom.js';
import { parseTime, shortDateTime } from '/assets/format.js';

// http(s) only: javascript:, data: and relative links in a body are shown as plain text.
export function safeHttpUrl(value) {
  if (typeof value !== 'string' || !value) return null;
  let url;
  try { url = new URL(value); } catch { return null; }
  return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
}

export function humanSize(bytes) {
  if (!Number.isFinite(bytes) || bytes < 0) return '';
  if (bytes < 1024) return bytes === 1 ? '1 byte' : `${bytes} bytes`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value < 10 ? value.toFixed(1).replace(/\.0$/, '') : Math.round(value)} ${units[unit]}`;
}

// ---- Markdown subset: paragraphs, **bold**, *italic*, "- " lists, [text](http(s) url) ----

const INLINE = [
  { kind: 'link', re: /\[([^\]\n]+)\]\(([^)\s]+)\)/ },
  { kind: 'strong', re: /\*\*(?=\S)(.+?)\*\*/ },
  { kind: 'em', re: /\*(?=[^\s*])([^*]+?)\*/ },
];

// Appends the inline markup of one line to `parent`. Links do not nest inside link text.
function appendInline(parent, text, allowLinks = true) {
  let rest = text;
  while (rest) {
    let best = null;
    for (const rule of INLINE) {
      if (rule.kind === 'link' && !allowLinks) continue;
      const m = rule.re.exec(rest);
      if (m && (best === null || m.index < best.m.index)) best = { rule, m };
    }
    if (!best) {
      parent.append(rest);
      return;
    }
    const { rule, m } = best;
    if (m.index > 0) parent.append(rest.slice(0, m.index));
    if (rule.kind === 'link') {
      const href = safeHttpUrl(m[2]);
      if (href) {
        const a = el('a', { href, target: '_blank', rel: 'noopener noreferrer nofollow' });
        appendInline(a, m[1], false);
        parent.append(a);
      } else {
        parent.append(m[0]);
      }
    } else {
      const node = el(rule.kind);
      appendInline(node, m[1], allowLinks);
      parent.append(node);
    }
    rest = rest.slice(m.index + m[0].length);
  }
}

export function renderMarkdown(source) {
  const fragment = document.createDocumentFragment();
  const lines = String(source ?? '').replace(/\r\n?/g, '\n').split('\n');
  let paragraph = null;
  let list = null;
  for (const raw of lines) {
    const line = raw.trimEnd();
    const item = /^\s*- (.*)$/.exec(line);
    if (item) {
      paragraph = null;
      if (!list) fragment.append(list = el('ul'));
      const li = el('li');
      appendInline(li, item[1].trim());
      list.append(li);
    } else if (!line.trim()) {
      paragraph = null;
      list = null;
    } else {
      list = null;
      if (paragraph) paragraph.append(el('br'));
      else fragment.append(paragraph = el('p'));
      appendInline(paragraph, line.trim());
    }
  }
  return fragment;
}

// ---- opened / seen, fire and forget ----

// keepalive: the click usually leaves the page (download, new tab) and must not cancel the request.
function firePost(path, token) {
  try {
    fetch(path, { method: 'POST', headers: { authorization: `Bearer ${token}` }, keepalive: true, credentials: 'same-origin', cache: 'no-store' })
      .catch(() => {});
  } catch { /* a lost "opened" mark is not worth bothering the user with */ }
}

export function markOpened(dropId, token) {
  firePost(`/api/drops/${encodeURIComponent(dropId)}/opened`, token);
}

// `until`: the newest released_at on screen, so a drop released meanwhile keeps its badge.
export function markSeen(webinarId, token, until) {
  const query = until ? `?until=${encodeURIComponent(until)}` : '';
  firePost(`/api/webinars/${encodeURIComponent(webinarId)}/drops/seen${query}`, token);
}

// ---- one drop ----

function fileLine(file, token, onOpen) {
  const name = String(file.name ?? 'file');
  const size = humanSize(file.size);
  const href = `${file.download}?token=${encodeURIComponent(token ?? '')}`;
  const link = el('a', { class: 'drop-file', href, download: name },
    el('span', { class: 'drop-file-action' }, 'Download'), ' ',
    el('span', { class: 'drop-file-name' }, name));
  link.addEventListener('click', onOpen);
  return el('p', { class: 'drop-attachment' }, link, size ? el('span', { class: 'drop-size' }, ` (${size})`) : null);
}

function urlLine(url, onOpen) {
  const href = safeHttpUrl(url);
  if (!href) return el('p', { class: 'drop-attachment' }, url);
  const link = el('a', { class: 'drop-link', href, target: '_blank', rel: 'noopener noreferrer' },
    'Open link', el('span', { class: 'visually-hidden' }, ' (opens in a new tab)'));
  link.addEventListener('click', onOpen);
  return el('p', { class: 'drop-attachment' }, link, ' ', el('span', { class: 'drop-host' }, new URL(href).host));
}

function attachments(drop, token, onOpen) {
  const file = drop.file && typeof drop.file === 'object' && typeof drop.file.download === 'string' ? drop.file : null;
  return [
    file ? fileLine(file, token, onOpen) : null,
    typeof drop.url === 'string' && drop.url ? urlLine(drop.url, onOpen) : null,
  ];
}

function dropNode(drop, { token, headingLevel }) {
  const id = String(drop.id);
  const title = String(drop.title ?? '') || 'Bonus material';
  const released = parseTime(drop.released_at);
  const headingId = `drop-${id}-title`;
  const unseen = drop.seen === false;
  const onOpen = () => { if (token) markOpened(drop.id, token); };
  const body = el('div', { class: 'drop-body' });
  body.append(renderMarkdown(drop.body));
  return el('li', { class: `drop${unseen ? ' unseen' : ''}`, dataset: { id } },
    el('article', { 'aria-labelledby': headingId },
      el('div', { class: 'drop-head' },
        el(`h${headingLevel}`, { id: headingId, class: 'drop-title' }, title),
        unseen ? el('span', { class: 'drop-new' }, 'New') : null),
      released ? el('p', { class: 'drop-meta' }, 'Released ', el('time', { datetime: drop.released_at }, shortDateTime(drop.released_at))) : null,
      body.childNodes.length ? body : null,
      attachments(drop, token, onOpen)));
}

function releasedMs(drop) {
  return parseTime(drop.released_at)?.getTime() ?? 0;
}

// Binds a <ol>/<ul> and its empty-state paragraph. add() returns true when the drop was new here.
export function createDropList(listNode, emptyNode, { token, headingLevel = 3 } = {}) {
  const shown = new Map(); // drop id → { drop, node }

  function updateEmpty() {
    if (emptyNode) emptyNode.hidden = shown.size > 0;
  }

  function add(drop) {
    if (!drop || typeof drop !== 'object' || drop.id === undefined || drop.id === null) return false;
    const id = String(drop.id);
    if (shown.has(id)) return false;
    const node = dropNode(drop, { token, headingLevel });
    // Newest first; a drop released at the same instant as one shown goes above it (it arrived later).
    const at = releasedMs(drop);
    const before = [...shown.values()].find((entry) => releasedMs(entry.drop) <= at);
    if (before) before.node.before(node);
    else listNode.append(node);
    shown.set(id, { drop, node });
    updateEmpty();
    return true;
  }

  return {
    add,
    // A full list (hello, GET): adds what is missing; drops already shown keep their badge.
    merge(drops) {
      const added = [];
      for (const drop of Array.isArray(drops) ? drops : []) if (add(drop)) added.push(drop);
      updateEmpty();
      return added;
    },
    reset() {
      shown.clear();
      clear(listNode);
      updateEmpty();
    },
    get size() { return shown.size; },
    get hasUnseen() { return [...shown.values()].some((entry) => entry.drop.seen === false); },
    // The latest released_at shown (RFC 3339), or null.
    get newestReleasedAt() {
      let best = null;
      for (const { drop } of shown.values()) if (drop.released_at && (!best || releasedMs(drop) > releasedMs(best))) best = drop;
      return best ? String(best.released_at) : null;
    },
  };
}
