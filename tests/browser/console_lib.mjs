// Shared by the console browser scripts (tests/browser/console*.mjs), which
// tests/console_browser.rs runs with node against the real binary.
//
// playwright-core comes from tests/peers (npm install --prefix tests/peers);
// the browser is Debian's chromium. Nothing here sleeps: every wait is a
// Playwright wait (it polls until its deadline).

import { createRequire } from 'node:module';
import crypto from 'node:crypto';

const require = createRequire(new URL('../peers/package.json', import.meta.url));
const { chromium } = require('playwright-core');

/** Every wait's deadline, in ms: generous for a loaded two-core machine. */
export const DEADLINE = 20_000;

export function env(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (tests/console_browser.rs sets it)`);
  return value;
}

export const BASE = () => env('FRONTDESK_URL');

/** Chromium as the project runs it here: headless, no sandbox (root), no network. */
export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    // Playwright gives each launch a fresh temporary profile (user data dir).
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/**
 * A console page signed in through the form with a name and password (P5),
 * in its own browser context; `errors` collects console errors and uncaught
 * exceptions, `requests` every API path fetched.
 */
export async function signIn(browser, name, password) {
  const context = await browser.newContext({ viewport: { width: 1366, height: 800 } });
  context.setDefaultTimeout(DEADLINE);
  const page = await context.newPage();
  const errors = [];
  const requests = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => errors.push(`page: ${e.message}`));
  page.on('request', (r) => {
    const url = new URL(r.url());
    if (url.pathname.startsWith('/api/v1/')) requests.push(`${r.method()} ${url.pathname}${url.search}`);
  });
  await page.goto(`${BASE()}/console/`);
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.locator('#me-name', { hasText: name }).waitFor();
  await page.locator('#live-state.on').waitFor();
  return { context, page, errors, requests };
}

/** A customer writes through the built-in `api` channel (X3); resolves to the session id. */
export async function customerWrites(channel, secret, messageId, text, sender) {
  const body = JSON.stringify({ message_id: messageId, chat_id: `chat-${messageId}`, text, sender });
  const sig = `sha256=${crypto.createHmac('sha256', secret).update(body).digest('hex')}`;
  const res = await fetch(`${BASE()}/hooks/${channel}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-frontdesk-signature': sig },
    body,
  });
  const answer = await res.json();
  if (res.status !== 200) throw new Error(`webhook answered ${res.status}: ${JSON.stringify(answer)}`);
  return answer.messages[0].session_id;
}

/** The row of a session in one of the lists (queue-list, mine-list, all-list). */
export function row(page, list, session) {
  return page.locator(`#${list} button[data-session="${session}"]`);
}

export function assert(condition, message) {
  if (!condition) throw new Error(`assertion failed: ${message}`);
}

export function noErrors(...pages) {
  for (const p of pages) assert(p.errors.length === 0, `no console errors, got: ${p.errors.join(' | ')}`);
}

/** Runs a scenario; prints its result as the last stdout line; exits non-zero on failure. */
export async function scenario(body) {
  const browser = await launch();
  try {
    const result = await body(browser);
    console.log(JSON.stringify(result ?? {}));
  } catch (err) {
    console.error(err && err.stack ? err.stack : String(err));
    process.exitCode = 1;
  } finally {
    await browser.close();
  }
}

/**
 * Runs npm `axe-core` on the page as it is now; fails on any serious or
 * critical violation. The page's context must be made with `bypassCSP: true`,
 * since axe is injected as a script the console's CSP would refuse.
 */
export async function accessible(page, what) {
  await page.addScriptTag({ path: require.resolve('axe-core/axe.min.js') });
  const violations = await page.evaluate(async () => {
    const result = await globalThis.axe.run(document, { resultTypes: ['violations'] });
    return result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  });
  assert(violations.length === 0, `${what} has accessibility violations: ${violations.join(' | ')}`);
}
