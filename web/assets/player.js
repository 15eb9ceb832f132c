// Video area of the room page (live.html ids player-*, inside #video-slot). Three states:
//   starting soon — "The live stream starts here when the session begins";
//   live          — the live HLS stream (/live/{id}/index.m3u8?token=…), muted autoplay with controls;
//   ended         — "The live stream has ended", then the replay of that stream once its recording
//                   is listed (GET /api/webinars/{id}/recordings, newest with ended_at).
// The room's socket reports starts and stops (stream.status frames, see roomModule below); GET /api/webinars/{id}/stream answers
// the question once on load and again when the live playlist keeps failing (a stop missed while the
// socket was reconnecting). Playback uses hls.js (served from /assets/hls.min.js, loaded only when
// something is to be played) over MediaSource, or the browser's own HLS (Safari) without it. A
// fatal error restarts the playlist with backoff: the live playlist is 404 for the first seconds of
// a stream, and a paused replay's signed segment links expire.
import { request, NetworkError } from '/assets/api.js';
import { el } from '/assets/dom.js';
import { parseTime } from '/assets/format.js';

const HLS_SCRIPT = '/assets/hls.min.js';
const HLS_MIME = 'application/vnd.apple.mpegurl';
const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 8000;
// Failed live (re)starts in a row after which we ask the server whether the stream is still live,
// and after which the status line says we are reconnecting (the first seconds' 404s are normal).
const CHECK_AFTER_FAILURES = 3;
const RECORDING_POLL_FIRST_MS = 1500;
const RECORDING_POLL_MAX_MS = 30000;
const RECORDING_POLL_GIVE_UP_MS = 15 * 60_000;
// A recording counts as "this stream's" when it started no earlier than this before the stream did.
const START_SLACK_MS = 5000;
// After a stop, what is already buffered plays out first, up to this long.
const TAIL_MAX_MS = 12000;

const TEXT = {
  waiting: 'The live stream starts here when the session begins',
  connecting: 'The session is live — connecting to the stream…',
  live: 'You are watching the live session.',
  reconnecting: 'The live stream was interrupted — reconnecting…',
  paused: 'The session is live. Press play to watch.',
  ended: 'The live stream has ended',
  unsupported: 'This browser cannot play the live stream. Please try a current version of Chrome, Edge, Firefox or Safari.',
  noPlayer: 'The video player could not be loaded. Please reload the page.',
  forbidden: 'The stream is only available with an active registration.',
  replayFailed: 'The replay could not be loaded. Please reload the page to try again.',
};

let hlsScript = null;

// hls.js is a classic (UMD) script that defines window.Hls; loaded once, on first use.
function loadHlsJs() {
  if (window.Hls) return Promise.resolve(window.Hls);
  hlsScript ??= new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.src = HLS_SCRIPT;
    script.async = true;
    script.onload = () => (window.Hls ? resolve(window.Hls) : reject(new Error('hls.js did not define Hls')));
    script.onerror = () => {
      hlsScript = null;
      script.remove();
      reject(new Error('hls.js could not be loaded'));
    };
    document.head.append(script);
  });
  return hlsScript;
}

// { startedAt, session } of a stream.status frame or a GET /stream answer.
function streamInfo(data) {
  return { startedAt: parseTime(data?.started_at), session: Number.isFinite(data?.session) ? data.session : null };
}

const hasMediaSource = () => Boolean(window.MediaSource || window.ManagedMediaSource);

function durationText(ms) {
  if (!Number.isFinite(ms) || ms <= 0) return '';
  const total = Math.round(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return h ? `${h} h ${m} min` : m ? `${m} min` : `${s} s`;
}

// Plays one HLS URL into `video`, restarting with backoff on fatal errors until stop().
// Callbacks: onPlaying(), onFailure(count) after each failed (re)start, onForbidden() when the
// playlist answers 401/403 (no point retrying), onUnsupported().
function startPlayback(video, url, { live, onPlaying, onFailure, onForbidden, onUnsupported }) {
  let Hls = null;
  let hls = null;
  let native = false;
  let stopped = false;
  let failures = 0;
  let timer = null;
  let lastRecovery = 0;
  let resumeAt = -1;

  function delay() {
    // Live starts sooner: the playlist appears a second or two after the stream.status that announced it.
    const first = live ? RETRY_FIRST_MS / 2 : RETRY_FIRST_MS;
    const base = Math.min(RETRY_MAX_MS, first * 2 ** Math.max(0, failures - 1));
    return base * (0.8 + Math.random() * 0.4);
  }

  function teardown() {
    if (!live && video.currentTime > 0) resumeAt = video.currentTime;
    if (hls) {
      hls.destroy();
      hls = null;
    }
    if (native) {
      video.removeAttribute('src');
      video.load();
    }
  }

  function retry() {
    if (stopped) return;
    teardown();
    failures += 1;
    onFailure?.(failures);
    if (stopped) return;
    clearTimeout(timer);
    timer = setTimeout(begin, delay());
  }

  // Live starts by itself, with sound only where the browser allows it (else muted, as it came).
  function tryPlay() {
    if (!live) return;
    video.play()?.catch(() => {
      if (stopped || video.muted) return;
      video.muted = true;
      video.play()?.catch(() => {});
    });
  }

  function onHlsError(_event, data) {
    if (!data?.fatal || stopped) return;
    const code = data.response?.code;
    const manifest = data.details === Hls.ErrorDetails.MANIFEST_LOAD_ERROR || data.details === Hls.ErrorDetails.LEVEL_LOAD_ERROR;
    if (manifest && (code === 401 || code === 403)) {
      stop();
      onForbidden?.();
      return;
    }
    // A decode hiccup: hls.js can rebuild the media pipeline without reloading anything.
    if (data.type === Hls.ErrorTypes.MEDIA_ERROR && Date.now() - lastRecovery > 10_000) {
      lastRecovery = Date.now();
      hls.recoverMediaError();
      return;
    }
    retry();
  }

  function begin() {
    if (stopped) return;
    if (native) {
      video.src = url;
      if (!live && resumeAt > 0) video.addEventListener('loadedmetadata', () => { video.currentTime = resumeAt; }, { once: true });
      tryPlay();
      return;
    }
    hls = new Hls({
      lowLatencyMode: false,
      liveSyncDurationCount: 2,
      startPosition: live ? -1 : resumeAt,
      backBufferLength: live ? 30 : 90,
    });
    hls.on(Hls.Events.ERROR, onHlsError);
    hls.on(Hls.Events.MANIFEST_PARSED, tryPlay);
    hls.loadSource(url);
    hls.attachMedia(video);
  }

  function onVideoError() {
    if (native && !stopped) retry();
  }

  function onVideoPlaying() {
    failures = 0;
    onPlaying?.();
  }

  function stop() {
    if (stopped) return;
    stopped = true;
    clearTimeout(timer);
    video.removeEventListener('error', onVideoError);
    video.removeEventListener('playing', onVideoPlaying);
    teardown();
  }

  video.addEventListener('error', onVideoError);
  video.addEventListener('playing', onVideoPlaying);

  const nativeOk = () => Boolean(video.canPlayType(HLS_MIME));
  (async () => {
    if (!hasMediaSource() && nativeOk()) {
      native = true;
    } else {
      try {
        Hls = await loadHlsJs();
      } catch {
        if (nativeOk()) native = true;
        else throw new Error('no-player');
      }
      if (!native && !Hls.isSupported()) {
        if (nativeOk()) native = true;
        else {
          stop();
          onUnsupported?.(false);
          return;
        }
      }
    }
    begin();
  })().catch(() => {
    stop();
    onUnsupported?.(true);
  });

  return {
    stop,
    // The hls.js instance playing right now (null with the browser's own HLS); for diagnostics.
    get hls() { return hls; },
    // Stop fetching (the stream is over) but keep playing what is buffered.
    finishLoading() { hls?.stopLoad(); },
  };
}

// The video area as a feature module of the room (live-room.js): mounted with the room, fed its
// stream.status frames (the live stream started or ended; sent right after hello while live).
export const roomModule = {
  mount(room) {
    // An organizer has no token: the empty one leaves the session cookie to prove who it is.
    const player = mountPlayer({ webinarId: room.webinarId, token: room.token ?? '', sessions: room.page.sessions, title: room.page.title });
    room.on('stream.status', (frame) => player.onStreamStatus(frame));
    return player;
  },
};

export function mountPlayer({ webinarId, token, sessions = [], title = '' }) {
  const $ = (id) => document.getElementById(id);
  const slot = $('video-slot');
  const frame = $('player-frame');
  const screen = $('player-screen');
  const screenText = $('player-screen-text');
  const screenDetail = $('player-screen-detail');
  const pill = $('player-pill');
  const status = $('player-status');
  const soundButton = $('player-sound');
  const tokenQuery = `token=${encodeURIComponent(token)}`;
  const sessionList = Array.isArray(sessions) ? sessions : [];

  let mode = null; // checking | waiting | live | ended | replay | unavailable
  let video = null;
  let playback = null;
  let socketSpoke = false; // a stream.status came over the socket; it wins over the initial GET
  let wantsSound = false; // turned the sound on once: the next live stream starts with sound if allowed
  let checkingLive = false;
  let tailTimer = null;
  let recordingTimer = null;
  let recordingDeadline = 0;
  let recordingAttempt = 0;
  let ended = null; // { startedAt: Date|null, session } of the stream whose recording we wait for
  let current = null; // the same of the stream playing live
  let replayId = null;
  let destroyed = false;
  let generation = 0; // bumps on every state change, so late async answers are ignored

  slot.hidden = false;

  // Without a video the frame shows the message, and the status line under it (the polite live
  // region) is only for screen readers; with a video the status line shows.
  function setState(next, title, detail = '') {
    mode = next;
    slot.dataset.state = next;
    const pillText = { live: 'Live', ended: 'Ended', replay: 'Replay', waiting: 'Starting soon' }[next] ?? '';
    pill.textContent = pillText;
    pill.hidden = !pillText;
    pill.className = `player-pill ${next}`;
    say(detail ? `${title}. ${detail}` : title);
    screenText.textContent = title;
    screenDetail.textContent = detail;
    syncScreen();
  }

  function syncScreen() {
    screen.hidden = Boolean(video);
    status.classList.toggle('visually-hidden', !video);
  }

  function say(text) {
    if (status.textContent !== text) status.textContent = text;
  }

  function removeVideo() {
    playback?.stop();
    playback = null;
    clearTimeout(tailTimer);
    tailTimer = null;
    if (video) {
      video.removeEventListener('volumechange', onVolumeChange);
      video.pause();
      video.remove();
      video = null;
    }
    soundButton.hidden = true;
    syncScreen();
  }

  function newVideo({ live, label }) {
    removeVideo();
    video = el('video', { class: 'player-video', controls: true, playsinline: true, 'aria-label': label, preload: live ? 'auto' : 'metadata' });
    if (live) {
      // Muted, or the browser refuses to start it by itself; the sound button is one tap away.
      video.defaultMuted = true;
      video.muted = !wantsSound;
      video.autoplay = true;
    }
    video.addEventListener('volumechange', onVolumeChange);
    frame.prepend(video);
    syncScreen();
    syncSoundButton();
    return video;
  }

  function syncSoundButton() {
    soundButton.hidden = !video || !(video.muted || video.volume === 0);
  }

  function onVolumeChange() {
    if (video) wantsSound = !video.muted && video.volume > 0;
    syncSoundButton();
  }

  function unmute() {
    if (!video) return;
    video.muted = false;
    if (video.volume === 0) video.volume = 1;
    video.play()?.catch(() => {});
    video.focus();
  }

  // ---- live ----

  function goLive(info) {
    if (destroyed) return;
    current = info;
    cancelRecordingPoll();
    if (mode === 'live' && playback && !ended) return; // (ended: a stop's buffered tail is playing out)
    generation += 1;
    ended = null;
    const v = newVideo({ live: true, label: title ? `Live stream: ${title}` : 'Live stream' });
    setState('live', TEXT.connecting);
    v.addEventListener('pause', () => { if (mode === 'live' && video === v && !v.ended) say(TEXT.paused); });
    playback = startPlayback(v, `/live/${encodeURIComponent(webinarId)}/index.m3u8?${tokenQuery}`, {
      live: true,
      onPlaying: () => { if (mode === 'live') say(TEXT.live); },
      onFailure: (count) => {
        if (count >= CHECK_AFTER_FAILURES) {
          if (v.currentTime > 0) say(TEXT.reconnecting);
          checkStillLive();
        }
      },
      onForbidden: () => unavailable(TEXT.forbidden),
      onUnsupported: (noPlayer) => unavailable(noPlayer ? TEXT.noPlayer : TEXT.unsupported),
    });
  }

  // The socket may have missed a stop (it was reconnecting). Ask once per burst of failures.
  async function checkStillLive() {
    if (checkingLive) return;
    checkingLive = true;
    const gen = generation;
    try {
      const res = await request('GET', `/api/webinars/${encodeURIComponent(webinarId)}/stream`);
      if (gen !== generation || destroyed) return;
      if (res.status === 200 && res.data && res.data.live === false) streamEnded(current ?? streamInfo(res.data));
    } catch (err) {
      if (!(err instanceof NetworkError)) throw err;
    } finally {
      checkingLive = false;
    }
  }

  // Lets what is already buffered play out (the last words of the session), then shows the end.
  function streamEnded(info) {
    if (destroyed || mode === 'unavailable' || (mode === 'live' && ended)) return;
    if (mode === 'ended' || mode === 'replay') {
      if (!ended) return;
      // A newer stop (another stream) — look for its recording.
      if (info.startedAt && (!ended.startedAt || info.startedAt > ended.startedAt)) {
        ended = info;
        startRecordingPoll();
      }
      return;
    }
    generation += 1;
    ended = info;
    const v = video;
    const remaining = v && !v.paused && v.buffered.length ? v.buffered.end(v.buffered.length - 1) - v.currentTime : 0;
    if (mode === 'live' && playback && remaining > 0.3) {
      playback.finishLoading();
      const gen = generation;
      const finish = () => { if (gen === generation) showEnded(); };
      v.addEventListener('waiting', finish, { once: true });
      v.addEventListener('ended', finish, { once: true });
      v.addEventListener('pause', finish, { once: true });
      tailTimer = setTimeout(finish, Math.min(TAIL_MAX_MS, remaining * 1000 + 500));
      startRecordingPoll();
      return;
    }
    showEnded();
  }

  function showEnded() {
    generation += 1;
    removeVideo();
    setState('ended', TEXT.ended, 'The replay appears here as soon as it is ready.');
    if (!recordingTimer) startRecordingPoll();
  }

  function unavailable(text) {
    generation += 1;
    cancelRecordingPoll();
    removeVideo();
    setState('unavailable', text);
  }

  // ---- recordings ----

  async function fetchRecordings() {
    const res = await request('GET', `/api/webinars/${encodeURIComponent(webinarId)}/recordings?${tokenQuery}`);
    if (res.status !== 200 || !Array.isArray(res.data?.recordings)) return null;
    return res.data.recordings.filter((r) => r && typeof r === 'object' && parseTime(r.ended_at) && typeof r.playlist === 'string' && r.playlist.startsWith('/'));
  }

  const newestFirst = (list) => [...list].sort((a, b) => parseTime(b.started_at) - parseTime(a.started_at));

  // The recording of the stream that just ended: the newest finished one that started with it.
  function recordingOf(list, info) {
    return newestFirst(list).find((r) => {
      if (info.session !== null && info.session !== undefined && r.session !== info.session) return false;
      const started = parseTime(r.started_at);
      return !info.startedAt || !started || started.getTime() >= info.startedAt.getTime() - START_SLACK_MS;
    }) ?? null;
  }

  function cancelRecordingPoll() {
    clearTimeout(recordingTimer);
    recordingTimer = null;
  }

  function startRecordingPoll() {
    cancelRecordingPoll();
    recordingAttempt = 0;
    recordingDeadline = Date.now() + RECORDING_POLL_GIVE_UP_MS;
    recordingTimer = setTimeout(pollRecording, 300);
  }

  async function pollRecording() {
    recordingTimer = null;
    const info = ended;
    if (destroyed || !info) return;
    let rec = null;
    try {
      const list = await fetchRecordings();
      if (list) rec = recordingOf(list, info);
    } catch (err) {
      if (!(err instanceof NetworkError)) throw err;
    }
    if (destroyed || ended !== info || recordingTimer) return;
    if (rec) {
      if (mode === 'ended') showReplay(rec);
      else recordingTimer = setTimeout(pollRecording, 1000); // the live tail is still playing
      return;
    }
    if (Date.now() > recordingDeadline) return;
    recordingAttempt += 1;
    const wait = Math.min(RECORDING_POLL_MAX_MS, RECORDING_POLL_FIRST_MS * 1.6 ** (recordingAttempt - 1));
    recordingTimer = setTimeout(pollRecording, wait * (0.8 + Math.random() * 0.4));
  }

  function showReplay(rec) {
    if (replayId === rec.id && mode === 'replay') return;
    generation += 1;
    cancelRecordingPoll();
    replayId = rec.id;
    const session = Number.isFinite(rec.session) ? rec.session : null;
    const what = session ? `session ${session}` : 'the session';
    const length = durationText(rec.duration_ms);
    const v = newVideo({ live: false, label: session ? `Replay of session ${session}` : 'Replay of the live stream' });
    setState('replay', TEXT.ended, `The replay of ${what}${length ? ` (${length})` : ''} is ready — press play to watch.`);
    playback = startPlayback(v, `${rec.playlist}?${tokenQuery}`, {
      live: false,
      onFailure: (count) => { if (count >= 6 && mode === 'replay' && video === v) { playback?.stop(); say(TEXT.replayFailed); } },
      onForbidden: () => unavailable(TEXT.forbidden),
      onUnsupported: (noPlayer) => unavailable(noPlayer ? TEXT.noPlayer : TEXT.unsupported),
    });
  }

  // ---- first look, before the socket says anything ----

  // The latest session that has begun, by the page's clock.
  function latestStartedSession() {
    const now = Date.now();
    let best = null;
    for (const s of sessionList) {
      const start = parseTime(s?.starts_at);
      if (start && start.getTime() <= now && (!best || start > best.start)) best = { number: s.number, start };
    }
    return best;
  }

  async function initialLook() {
    const gen = generation;
    let live = null;
    let liveData = null;
    try {
      const res = await request('GET', `/api/webinars/${encodeURIComponent(webinarId)}/stream`);
      if (res.status === 200 && res.data) {
        live = res.data.live === true;
        liveData = res.data;
      }
    } catch (err) {
      if (!(err instanceof NetworkError)) throw err;
    }
    if (destroyed || socketSpoke || gen !== generation) return;
    if (live) {
      goLive(streamInfo(liveData));
      return;
    }
    // Not live: the replay of the latest session that has begun, if it was streamed; otherwise wait.
    let rec = null;
    try {
      const list = await fetchRecordings();
      const latest = latestStartedSession();
      if (list && list.length) {
        rec = newestFirst(list).find((r) => (latest ? (r.session === latest.number || (r.session == null && parseTime(r.started_at) >= latest.start)) : true)) ?? null;
      }
    } catch (err) {
      if (!(err instanceof NetworkError)) throw err;
    }
    if (destroyed || socketSpoke || gen !== generation) return;
    if (rec) {
      ended = { startedAt: parseTime(rec.started_at), session: rec.session ?? null };
      mode = 'ended';
      showReplay(rec);
    } else {
      setState('waiting', TEXT.waiting);
    }
  }

  soundButton.addEventListener('click', unmute);
  setState('checking', TEXT.waiting);
  initialLook();

  const api = {
    // A stream.status frame from the room's socket.
    onStreamStatus(msg) {
      if (destroyed || !msg || typeof msg !== 'object' || typeof msg.live !== 'boolean') return;
      socketSpoke = true;
      if (msg.live) goLive(streamInfo(msg));
      else streamEnded(streamInfo(msg));
    },
    get state() { return mode; },
    get video() { return video; },
    get hls() { return playback?.hls ?? null; },
    destroy() {
      destroyed = true;
      generation += 1;
      cancelRecordingPoll();
      removeVideo();
      soundButton.removeEventListener('click', unmute);
      if (window.cohortPlayer === api) delete window.cohortPlayer;
    },
  };
  // For diagnostics in the console and the browser test (hls.latency, buffered ranges).
  window.cohortPlayer = api;
  return api;
}
