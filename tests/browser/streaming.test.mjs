// [browser] Live streaming in the room page, in a real Chromium against a real build/cohort with a
// real ffmpeg publishing over RTMP: "starting soon" before the stream, the live player (hls.js over
// MediaSource, H.264 + AAC) once stream.status says live, with playback advancing in real time, the
// organizer's Stream box (masked key, Show, live status, viewers, Rotate with a confirmation), then
// "The live stream has ended" and the replay of the recording, which plays too.
// Prints the glass-to-glass latency it measures (see measureLatency) for the README; asserts only a
// sanity bound.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { launchChromium, artifacts, signInOrganizer, failOnCspViolations, pressPlay } from '../support/browser.mjs';
import { startServer, api, repoRoot } from '../support/server.mjs';

const TIME_ZONE = 'America/New_York';
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 900 };
const PUBLISH_SECONDS = 25;
const LATENCY_SANITY_S = 15;
const TITLE = 'Infant massage, live';

let server;
let browser;
let webinar;
let ada;
let streamKey;
let publisher = null;
const contexts = [];

before(async () => {
  assert.ok(existsSync(path.join(repoRoot, 'web', 'assets', 'hls.min.js')),
    'web/assets/hls.min.js is missing: `bash config/cohort.sh test` installs it from web/package-lock.json');
  server = await startServer();
  browser = await launchChromium();
  const now = Date.now();
  const res = await api(server, 'POST', '/api/webinars', {
    token: server.adminToken,
    body: {
      title: TITLE,
      description: 'Created by the streaming browser test.',
      capacity: null,
      sessions: [
        { starts_at: new Date(now - 5 * 60_000).toISOString(), duration_minutes: 60 },
        { starts_at: new Date(now + 7 * 86_400_000).toISOString(), duration_minutes: 60 },
      ],
    },
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  webinar = res.body;
  const reg = await api(server, 'POST', `/api/webinars/${webinar.id}/registrations`, {
    body: { name: 'Ada Lovelace', email: 'ada.stream@example.org', profession: 'occupational therapist', consent: true },
  });
  assert.equal(reg.status, 201, JSON.stringify(reg.body));
  ada = reg.body;
  const key = await api(server, 'POST', `/api/webinars/${webinar.id}/stream-key`, {
    token: server.adminToken, raw: '', headers: { 'content-length': '0' },
  });
  assert.equal(key.status, 201, JSON.stringify(key.body));
  assert.match(key.body.rtmp_url, /^rtmp:\/\/127\.0\.0\.1:\d+\/live$/);
  streamKey = key.body;
});

after(async () => {
  if (publisher && publisher.exitCode === null && publisher.signalCode === null) publisher.kill('SIGKILL');
  for (const context of contexts) await context.close().catch(() => {});
  await browser?.close();
  if (server) {
    await server.stop();
    server.cleanup();
  }
});

// The burnt-in clock (the wall time at which ffmpeg drew the frame, as epoch seconds) next to the
// page's clock in streaming-latency.png gives glass-to-glass latency by eye. It needs drawtext and a
// font; without them the picture is just the test pattern.
function canDrawText() {
  try {
    return /\bdrawtext\b/.test(execFileSync('ffmpeg', ['-hide_banner', '-filters'], { encoding: 'utf8' }))
      && execFileSync('fc-list', { encoding: 'utf8' }).trim().length > 0;
  } catch {
    return false;
  }
}

// Publishes the test pattern at real-time pace (-re). `-progress` reports how far the output is,
// which dates the stream's time 0 on the wall clock: frame t left the encoder at encodeStart + t.
function startPublisher(url) {
  const args = ['-hide_banner', '-loglevel', 'error', '-progress', 'pipe:1', '-stats_period', '0.1',
    '-re', '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30', '-f', 'lavfi', '-i', 'sine', '-t', String(PUBLISH_SECONDS)];
  if (canDrawText()) {
    args.push('-vf', "drawtext=text='%{e\\:time(0)}':fontsize=40:x=20:y=20:fontcolor=white:box=1:boxcolor=black");
  }
  args.push('-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-g', '30',
    '-c:a', 'aac', '-f', 'flv', url);
  const proc = spawn('ffmpeg', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const info = { proc, spawnedAt: Date.now(), encodeStart: Infinity, stderr: '', exited: null };
  let pending = '';
  proc.stdout.on('data', (d) => {
    const now = Date.now();
    pending += d;
    const lines = pending.split('\n');
    pending = lines.pop();
    for (const line of lines) {
      const m = /^out_time_us=(\d+)/.exec(line);
      if (m && Number(m[1]) > 500_000) info.encodeStart = Math.min(info.encodeStart, now - Number(m[1]) / 1000);
    }
  });
  proc.stderr.on('data', (d) => { info.stderr += d; });
  info.exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  return info;
}

async function openPage({ viewport = DESKTOP, organizer = false } = {}) {
  const context = await browser.newContext({ viewport, locale: 'en-US', timezoneId: TIME_ZONE });
  contexts.push(context);
  context.setDefaultTimeout(10_000);
  if (organizer) await signInOrganizer(context, server);
  const page = await context.newPage();
  page.pageErrors = [];
  page.on('pageerror', (err) => page.pageErrors.push(err));
  failOnCspViolations(page, page.pageErrors);
  page.on('dialog', (dialog) => { page.pageErrors.push(new Error(`unexpected dialog: ${dialog.message()}`)); dialog.dismiss(); });
  return page;
}

function assertNoPageErrors(page) {
  assert.deepEqual(page.pageErrors.map(String), []);
}

const screenshot = (page, name) => page.screenshot({ path: path.join(artifacts, name), fullPage: true });
const currentTime = (page) => page.evaluate(() => document.querySelector('#video-slot video')?.currentTime ?? -1);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// currentTime must advance by more than minAdvance seconds within windowMs of wall time.
async function assertAdvances(page, what, { windowMs = 3000, minAdvance = 2 } = {}) {
  const t0 = await currentTime(page);
  await sleep(windowMs);
  const t1 = await currentTime(page);
  assert.ok(t1 - t0 > minAdvance, `${what}: currentTime went from ${t0} to ${t1} in ${windowMs} ms`);
  return t1 - t0;
}

// Glass-to-glass, without OCR: the page's stream position is the playing fragment's media sequence
// number times its duration (1 s segments: one keyframe a second, numbered from the publish's
// first frame) plus how far into it currentTime is; that frame left the encoder at
// encodeStart + position. latency = now − that. Also hls.js's own `latency` (distance behind the
// playlist's live edge, i.e. without the ingest and segmenting part).
async function measureLatency(page, encodeStart, { samples = 8, everyMs = 500 } = {}) {
  const glass = [];
  const edge = [];
  for (let i = 0; i < samples; i++) {
    const s = await page.evaluate(() => {
      const player = window.cohortPlayer;
      const hls = player?.hls;
      const video = player?.video;
      if (!hls || !video) return null;
      const details = hls.levels?.[hls.currentLevel >= 0 ? hls.currentLevel : 0]?.details;
      const ct = video.currentTime;
      const frag = details?.fragments?.find((f) => ct >= f.start && ct < f.start + f.duration);
      return { now: Date.now(), ct, sn: frag?.sn ?? null, start: frag?.start ?? null, duration: frag?.duration ?? null, hlsLatency: hls.latency };
    });
    if (s && typeof s.sn === 'number' && Number.isFinite(encodeStart)) {
      const position = s.sn * s.duration + (s.ct - s.start);
      glass.push((s.now - (encodeStart + position * 1000)) / 1000);
    }
    if (s && Number.isFinite(s.hlsLatency)) edge.push(s.hlsLatency);
    await sleep(everyMs);
  }
  const median = (xs) => { const v = [...xs].sort((a, b) => a - b); return v.length ? v[Math.floor(v.length / 2)] : NaN; };
  return { glass, edge, glassMedian: median(glass), edgeMedian: median(edge) };
}

test('the room shows starting soon, then the live stream, then "ended" and the replay; the organizer sees the Stream box', { timeout: 90_000 }, async () => {
  const page = await openPage();
  await page.goto(ada.join_url);
  await page.getByRole('heading', { level: 1, name: /^Hi Ada/ }).waitFor();
  const slot = page.getByRole('region', { name: 'Live video' });
  await slot.waitFor();
  const status = page.locator('#player-status');
  await status.filter({ hasText: 'The live stream starts here when the session begins' }).waitFor();
  assert.equal(await status.getAttribute('aria-live'), 'polite');
  assert.ok(await page.locator('#player-screen').isVisible(), 'the starting-soon message is not on screen');
  assert.equal(await slot.locator('video').count(), 0);
  assert.equal(await page.locator('#stream-manager').isVisible(), false, 'a registrant sees the Stream box');
  await page.locator('#chat-status').filter({ hasText: /^Connected$/ }).waitFor();
  const mseH264 = await page.evaluate(() => window.MediaSource?.isTypeSupported('video/mp4; codecs="avc1.640028,mp4a.40.2"') ?? false);
  assert.ok(mseH264, 'this Chromium cannot play H.264 + AAC through MediaSource');
  await page.setViewportSize(PHONE);
  await screenshot(page, 'streaming-waiting-phone.png');
  await page.setViewportSize(DESKTOP);

  // The organizer's room, open before the stream starts.
  const org = await openPage({ organizer: true });
  await org.goto(`${server.url}/live/${webinar.id}`);
  const box = org.getByRole('region', { name: 'Stream' });
  await box.waitFor();
  await org.locator('#sm-url').filter({ hasText: streamKey.rtmp_url }).waitFor();
  assert.equal(await org.locator('#sm-state').innerText(), 'Not live');
  assert.ok(!(await org.locator('#sm-key').innerText()).includes(streamKey.stream_key), 'the stream key is shown unmasked');
  await box.getByRole('button', { name: 'Show the stream key' }).click();
  assert.equal(await org.locator('#sm-key').innerText(), streamKey.stream_key);
  await box.getByRole('button', { name: 'Hide the stream key' }).click();
  assert.ok(!(await org.locator('#sm-key').innerText()).includes(streamKey.stream_key));

  // Publish.
  const pub = startPublisher(`${streamKey.rtmp_url}/${streamKey.stream_key}`);
  publisher = pub.proc;
  await page.locator('#video-slot[data-state="live"] video').waitFor({ timeout: 10_000 });
  const video = slot.locator('video');
  assert.equal(await video.getAttribute('aria-label'), `Live stream: ${TITLE}`);
  for (const attr of ['controls', 'playsinline', 'muted', 'autoplay']) {
    assert.equal(await video.evaluate((v, a) => v.hasAttribute(a), attr), true, `live video without ${attr}`);
  }
  assert.equal(await page.locator('#player-pill').innerText(), 'LIVE');
  // Playing: the first frame on screen, then currentTime keeps pace with the wall clock.
  await page.waitForFunction(() => (document.querySelector('#video-slot video')?.currentTime ?? 0) > 0.2, null, { timeout: 20_000 });
  const firstFrameS = (Date.now() - pub.spawnedAt) / 1000;
  await status.filter({ hasText: 'You are watching the live session.' }).waitFor();
  const advanced = await assertAdvances(page, 'live');
  assert.equal(await page.evaluate(() => window.cohortPlayer?.hls?.config.lowLatencyMode), false);

  const latency = await measureLatency(page, pub.encodeStart);
  const fmt = (x) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');
  console.log(`streaming: first frame on screen ${fmt(firstFrameS)} s after the publisher was spawned; currentTime advanced ${fmt(advanced)} s in 3 s`);
  console.log(`streaming: glass-to-glass latency ≈ ${fmt(latency.glassMedian)} s (median of ${latency.glass.length}: ${latency.glass.map(fmt).join(', ')}) ` +
    `= now − (encoder wall time of the frame at video.currentTime)`);
  console.log(`streaming: hls.js latency (behind the playlist's live edge) ≈ ${fmt(latency.edgeMedian)} s`);
  assert.ok(latency.glass.length >= 3, `too few latency samples: ${JSON.stringify(latency)}`);
  assert.ok(latency.glassMedian > 0 && latency.glassMedian <= LATENCY_SANITY_S, `latency ${latency.glassMedian} s`);

  // A frame to read by eye: the encoder's clock burnt into the picture next to the page's clock.
  await page.evaluate(() => {
    const clock = document.createElement('div');
    clock.id = 'test-clock';
    clock.style.cssText = 'position:fixed;top:0;left:0;z-index:99;background:#ffe600;color:#000;font:700 28px monospace;padding:4px 10px';
    document.body.append(clock);
    const tick = () => { clock.textContent = `page ${(Date.now() / 1000).toFixed(2)}`; if (clock.isConnected) requestAnimationFrame(tick); };
    tick();
  });
  await page.screenshot({ path: path.join(artifacts, 'streaming-latency.png') });
  await page.evaluate(() => document.getElementById('test-clock').remove());
  await screenshot(page, 'streaming-live.png');
  await page.setViewportSize(PHONE);
  const phoneBox = await slot.boundingBox();
  const chatBox = await page.locator('#chat-slot').boundingBox();
  assert.ok(phoneBox.x >= 0 && phoneBox.x + phoneBox.width <= PHONE.width, `phone: the video is wider than the screen ${JSON.stringify(phoneBox)}`);
  assert.ok(chatBox.y >= phoneBox.y + phoneBox.height, 'phone: the chat is not below the video');
  await screenshot(page, 'streaming-live-phone.png');
  await page.setViewportSize(DESKTOP);
  await assertAdvances(page, 'live after the resize', { windowMs: 1500, minAdvance: 1 });
  // Muted autoplay; one tap turns the sound on.
  await slot.getByRole('button', { name: 'Turn sound on' }).click();
  assert.equal(await video.evaluate((v) => v.muted), false);
  await slot.getByRole('button', { name: 'Turn sound on' }).waitFor({ state: 'hidden' });

  // The organizer: live, with viewers (polled every 10 s; the socket's stream.status refreshes at once).
  await org.locator('#sm-state').filter({ hasText: /^Live since \d{1,2}:\d{2}\s?(AM|PM)$/ }).waitFor();
  await org.locator('#sm-viewers').filter({ hasText: /^[1-9]\d* viewers?$/ }).waitFor({ timeout: 12_000 });
  await org.locator('#video-slot[data-state="live"] video').waitFor();
  await box.screenshot({ path: path.join(artifacts, 'streaming-organizer-box.png') });
  await screenshot(org, 'streaming-organizer.png');

  // The publisher stops: "ended", then the replay of this stream, which plays.
  const exit = await pub.exited;
  assert.equal(exit.code, 0, `ffmpeg failed: ${pub.stderr}`);
  const stoppedAt = Date.now();
  await status.filter({ hasText: 'The live stream has ended' }).waitFor({ timeout: 20_000 });
  const endedAfterS = (Date.now() - stoppedAt) / 1000;
  await page.locator('#video-slot[data-state="replay"] video').waitFor({ timeout: 20_000 });
  console.log(`streaming: "ended" shown ${endedAfterS.toFixed(1)} s after the publisher exited, the replay ${((Date.now() - stoppedAt) / 1000).toFixed(1)} s after`);
  assert.match(await status.innerText(), /^The live stream has ended\. The replay of session 1 \(\d+ s\) is ready — press play to watch\.$/);
  assert.equal(await video.getAttribute('aria-label'), 'Replay of session 1');
  assert.equal(await page.locator('#player-pill').innerText(), 'REPLAY');
  await pressPlay(video);
  await page.waitForFunction(() => (document.querySelector('#video-slot video')?.currentTime ?? 0) > 0.2, null, { timeout: 10_000 });
  await assertAdvances(page, 'replay');
  const duration = await video.evaluate((v) => v.duration);
  assert.ok(duration > PUBLISH_SECONDS - 5 && duration < PUBLISH_SECONDS + 5, `replay duration ${duration}`);
  await screenshot(page, 'streaming-replay.png');
  await page.setViewportSize(PHONE);
  await screenshot(page, 'streaming-replay-phone.png');

  // The organizer: not live any more; Rotate asks first, then replaces the key.
  await org.locator('#sm-state').filter({ hasText: /^Not live$/ }).waitFor({ timeout: 12_000 });
  await box.getByRole('button', { name: 'Rotate the stream key' }).click();
  const confirmText = org.locator('#sm-confirm-text');
  await confirmText.waitFor();
  assert.equal(await org.evaluate(() => document.activeElement?.id), 'sm-confirm-text');
  await box.getByRole('button', { name: 'Keep the current key' }).click();
  assert.equal((await api(server, 'GET', `/api/webinars/${webinar.id}/stream-key`, { token: server.adminToken })).body.stream_key, streamKey.stream_key);
  await box.getByRole('button', { name: 'Rotate the stream key' }).click();
  await box.getByRole('button', { name: 'Yes, rotate the key' }).click();
  await org.locator('#sm-status').filter({ hasText: 'New stream key created.' }).waitFor();
  const rotated = await api(server, 'GET', `/api/webinars/${webinar.id}/stream-key`, { token: server.adminToken });
  assert.equal(rotated.status, 200);
  assert.notEqual(rotated.body.stream_key, streamKey.stream_key);
  await box.getByRole('button', { name: 'Show the stream key' }).click();
  assert.equal(await org.locator('#sm-key').innerText(), rotated.body.stream_key);
  await org.setViewportSize(PHONE);
  await box.screenshot({ path: path.join(artifacts, 'streaming-organizer-box-phone.png') });

  assertNoPageErrors(page);
  assertNoPageErrors(org);
});

// Play pressed while hls.js is still loading (a slow connection): the source attached under it
// rejects that play()'s promise with AbortError (what failed CI on 2026-12-05 when the test awaited
// it), yet the element stays unpaused and the replay must start once hls.js has attached it.
test('play pressed on the replay before hls.js has loaded starts playback once it has', { timeout: 60_000 }, async () => {
  const page = await openPage();
  let delayed = 0;
  await page.route('**/assets/hls.min.js', async (route) => {
    delayed += 1;
    await sleep(1500);
    await route.continue();
  });
  await page.goto(ada.join_url);
  const video = page.locator('#video-slot[data-state="replay"] video');
  await video.waitFor({ timeout: 20_000 });
  assert.equal(await page.evaluate(() => typeof window.Hls), 'undefined', 'hls.js arrived before play was pressed');
  await pressPlay(video);
  await page.waitForFunction(() => (document.querySelector('#video-slot video')?.currentTime ?? 0) > 0.2, null, { timeout: 15_000 });
  await assertAdvances(page, 'replay played early');
  assert.equal(delayed, 1);
  assertNoPageErrors(page);
});
