// Debian's Chromium driven by playwright-core (no browser download), with the flags this
// machine needs, and the folder screenshots go to.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { repoRoot, cohortBin } from './server.mjs';

export const artifacts = path.join(repoRoot, 'build', 'test-artifacts');

export function launchChromium() {
  mkdirSync(artifacts, { recursive: true });
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--no-first-run', '--disable-quic', '--disable-sync'],
  });
}

// Signs a browser context in to the organizer console the way a person does: an organizer account
// (`cohort organizer add`, made once per server) and POST /api/session, whose HttpOnly cookie the
// context keeps. The pages never hold the admin token; this is how a test gets the organizer view.
const ORGANIZER_PASSWORD = 'browser-test-organizer-2026';
export async function signInOrganizer(context, server, email = 'organizer@example.org') {
  server.organizerAccounts ??= new Set();
  if (!server.organizerAccounts.has(email)) {
    const added = spawnSync(cohortBin, ['organizer', 'add', '--email', email, '--data-dir', server.dataDir],
      { input: `${ORGANIZER_PASSWORD}\n`, encoding: 'utf8', timeout: 20000 });
    if (added.status !== 0) throw new Error(`organizer add failed: ${added.stderr}`);
    server.organizerAccounts.add(email);
  }
  const res = await context.request.post(`${server.url}/api/session`,
    { data: { email, password: ORGANIZER_PASSWORD }, headers: { origin: server.url } });
  if (res.status() !== 200) throw new Error(`organizer login failed: ${res.status()} ${await res.text()}`);
}

// Fails the page's test on any Content-Security-Policy violation: Chromium reports each one as a
// console error ("Refused to … because it violates the following Content Security Policy directive").
export function failOnCspViolations(page, errors) {
  page.on('console', (msg) => {
    if (/Content Security Policy/i.test(msg.text())) errors.push(new Error(`CSP violation: ${msg.text()}`));
  });
}

// Presses play on a <video> as a person does with its control: muted (no user gesture here) and
// without waiting on play()'s promise, which a load starting under it may reject; the caller
// then waits for currentTime to move.
export function pressPlay(video) {
  return video.evaluate((v) => { v.muted = true; v.play()?.catch(() => {}); });
}
