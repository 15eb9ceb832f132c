// The live room's one WebSocket (/ws, contract in proto/ws/). It connects, takes the hello,
// reconnects with jittered exponential backoff and catches up with since=<last seq>&epoch=<epoch>,
// so a dropped connection costs no frame and shows none twice; it stops for good on a ban (close
// code 4003) or when a refused handshake turns out to be final. What the frames mean is not its
// business: each server frame goes, by its `type`, to the feature modules that registered for it.
//
// A feature module is an object { mount(room) } (see room-modules.js for the list). mount is called
// once per room, before the socket opens, and returns { destroy() } (or nothing). `room` gives it:
//   room.on(type, handler)   handler(frame, info) for every frame of that type; several modules may
//                            take the same type. 'hello' comes with info.resumed: true when it
//                            continues the previous connection's sequence (only what was missed
//                            follows), false when the page must start over from it.
//   room.onStatus(handler)   handler(state, text) on each change of the connection: 'connecting',
//                            'connected', 'reconnecting', 'stopped' (text says why, for people).
//   room.send(type, body)    sends { type, ...body } when connected (after hello); false otherwise.
//   room.webinarId, room.token (undefined for an organizer: the session cookie goes instead),
//   room.organizer, room.page (what the page hands every module: title, sessions, its tools).
// Frames of a type nobody registered for are ignored, so the server may add types before the page.
import { request, NetworkError } from '/assets/api.js';

const BACKOFF_FIRST_MS = 1000;
const BACKOFF_MAX_MS = 30000;
const CLOSE_BANNED = 4003;
// Failed handshakes in a row after which we ask the server over plain HTTP why (a browser WebSocket
// only ever reports 1006, so a 401/403 refusal is otherwise indistinguishable from a network drop).
const PROBE_AFTER_FAILURES = 2;

export function openLiveRoom({ webinarId, token, organizer = false, page = {}, modules }) {
  const handlers = new Map(); // type → [handler]
  const statusHandlers = [];
  const mounted = [];
  let socket = null;
  let epoch = null;
  let lastSeq = null; // the highest seq of the room's order seen, for since= on reconnect
  let helloSeen = false; // on the current socket
  let everConnected = false;
  let failures = 0; // handshakes in a row that ended before hello
  let attempt = 0;
  let retryTimer = null;
  let stopped = false;

  const room = {
    webinarId,
    token: token || undefined,
    organizer,
    page,
    on(type, handler) {
      if (!handlers.has(type)) handlers.set(type, []);
      handlers.get(type).push(handler);
    },
    onStatus(handler) { statusHandlers.push(handler); },
    send(type, body = {}) {
      if (!socket || socket.readyState !== WebSocket.OPEN || !helloSeen) return false;
      socket.send(JSON.stringify({ ...body, type }));
      return true;
    },
  };

  // One module's mistake must not silence the others.
  function safely(fn, ...args) {
    try {
      fn(...args);
    } catch (err) {
      setTimeout(() => { throw err; }); // reported as uncaught, after the other modules had their turn
    }
  }

  function setStatus(state, text) {
    for (const h of statusHandlers) safely(h, state, text);
  }

  function dispatch(frame, info = {}) {
    for (const h of handlers.get(frame.type) ?? []) safely(h, frame, info);
  }

  function socketUrl() {
    // Without a token (an organizer signed in to the console) the upgrade request carries the
    // session cookie instead, so the query has no token at all.
    const params = new URLSearchParams();
    if (room.token) params.set('token', room.token);
    if (organizer) params.set('webinar', String(webinarId));
    if (lastSeq !== null && epoch) {
      params.set('since', String(lastSeq));
      params.set('epoch', epoch);
    }
    return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws?${params}`;
  }

  function connect() {
    if (stopped) return;
    clearTimeout(retryTimer);
    retryTimer = null;
    helloSeen = false;
    let ws;
    try {
      ws = new WebSocket(socketUrl());
    } catch {
      scheduleReconnect();
      return;
    }
    socket = ws;
    ws.addEventListener('message', (event) => { if (socket === ws) onFrame(event.data); });
    ws.addEventListener('close', (event) => { if (socket === ws) onClose(event); });
  }

  function dropSocket() {
    const ws = socket;
    socket = null;
    if (ws && ws.readyState <= WebSocket.OPEN) ws.close(1000, 'client closing');
  }

  function onFrame(data) {
    let frame;
    try { frame = JSON.parse(data); } catch { return; }
    if (!frame || typeof frame !== 'object' || typeof frame.type !== 'string') return;
    if (frame.type === 'hello') {
      onHello(frame);
      return;
    }
    // A frame with a seq is one of the room's total order: the catch-up point moves past it.
    if (Number.isFinite(frame.seq) && (lastSeq === null || frame.seq > lastSeq)) lastSeq = frame.seq;
    dispatch(frame);
  }

  function onHello(hello) {
    helloSeen = true;
    everConnected = true;
    failures = 0;
    attempt = 0;
    const resumed = hello.recovered === true && epoch !== null && hello.epoch === epoch;
    epoch = typeof hello.epoch === 'string' ? hello.epoch : null;
    if (Number.isFinite(hello.seq) && (!resumed || lastSeq === null || hello.seq > lastSeq)) lastSeq = hello.seq;
    dispatch(hello, { resumed });
    setStatus('connected', 'Connected');
  }

  function onClose(event) {
    socket = null;
    if (event.code === CLOSE_BANNED) {
      stop('You have been removed from this chat');
      return;
    }
    if (!helloSeen) failures += 1;
    scheduleReconnect();
    if (failures >= PROBE_AFTER_FAILURES && failures % PROBE_AFTER_FAILURES === 0) probeRefusal();
  }

  function scheduleReconnect() {
    if (stopped) return;
    clearTimeout(retryTimer);
    const offline = navigator.onLine === false;
    const base = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** attempt);
    // While the browser knows it is offline the 'online' event reconnects at once; the slow timer
    // only guards against a browser that never sends it.
    const delay = offline ? BACKOFF_MAX_MS : Math.min(BACKOFF_MAX_MS, base * (0.8 + Math.random() * 0.4));
    attempt += 1;
    setStatus('reconnecting', offline ? 'Offline — reconnecting when your connection is back…' : 'Reconnecting…');
    retryTimer = setTimeout(connect, delay);
  }

  // The upgrade was refused before hello and the browser hides why. A plain GET of the same URL may
  // carry the JSON error; a registrant's GET /api/me tells a dead or cancelled registration.
  // 401/403 mean retrying is pointless.
  async function probeRefusal() {
    try {
      const url = new URL(socketUrl().replace(/^ws/, 'http'));
      const res = await request('GET', url.pathname + url.search);
      if (stopped || helloSeen) return;
      if (res.status === 401) return stop('Your personal link no longer gives access to this chat.');
      if (res.status === 403) return stop('You have been removed from this chat');
      if (organizer) return;
      const me = await request('GET', '/api/me', { token: room.token });
      if (stopped || helloSeen) return;
      if (me.status === 401 || me.status === 403 || me.data?.status === 'cancelled') {
        stop('Your registration is no longer active, so the chat is closed.');
      }
    } catch (err) {
      if (!(err instanceof NetworkError)) throw err;
    }
  }

  function stop(text) {
    stopped = true;
    clearTimeout(retryTimer);
    dropSocket();
    setStatus('stopped', text);
  }

  function onOffline() {
    if (stopped) return;
    // The socket may look open for a long while after the network went away; start over cleanly.
    dropSocket();
    scheduleReconnect();
  }

  function onOnline() {
    if (stopped || socket) return;
    attempt = 0;
    connect();
  }

  for (const module of modules) {
    const handle = module.mount(room);
    if (handle) mounted.push(handle);
  }
  window.addEventListener('offline', onOffline);
  window.addEventListener('online', onOnline);
  setStatus('connecting', 'Connecting…');
  connect();

  return {
    destroy() {
      stopped = true;
      clearTimeout(retryTimer);
      dropSocket();
      window.removeEventListener('offline', onOffline);
      window.removeEventListener('online', onOnline);
      for (const handle of mounted.splice(0)) safely(() => handle.destroy?.());
      handlers.clear();
      statusHandlers.length = 0;
    },
    get connected() { return everConnected && !!socket; },
  };
}
