// Issue 16, My account (P2, P5): an agent signs in through the form, opens
// Settings → My account, creates an API token (shown once), revokes it,
// turns on two-factor sign-in with a code computed here from the key the
// page shows (RFC 6238, HMAC-SHA1), signs out, and signs in again with the
// password and a code from the "app".
//
// Env (tests/console_browser/account.rs): FRONTDESK_URL, CLOCK_MS (the
// server's test clock), ADMIN_TOKEN, SCREENSHOT.
//
// Not a person's step, so through the API: half a minute passing (the
// server's test clock; a code is accepted once, so the sign-in needs the
// next one), and checking that the token works or not.

import crypto from 'node:crypto';
import { env, scenario, assert, accessible, BASE, DEADLINE } from './console_lib.mjs';

const NAME = 'cai';
const PASSWORD = 'cai has a long passphrase';
let clock = Number(env('CLOCK_MS'));

/** RFC 4648 base32 to bytes. */
function base32(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of text.replace(/[\s=]/g, '').toUpperCase()) {
    const v = alphabet.indexOf(c);
    assert(v >= 0, `base32 character ${c}`);
    bits += v.toString(2).padStart(5, '0');
  }
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}

/** RFC 6238: the 6-digit code for unix time `ms` (30 s steps, HMAC-SHA1). */
function totp(secret, ms) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(ms / 1000 / 30)));
  const mac = crypto.createHmac('sha1', base32(secret)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const value = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return String(value).padStart(6, '0');
}

async function tokenWorks(token) {
  const res = await fetch(`${BASE()}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } });
  return res.status === 200;
}

async function advanceClock(ms) {
  const res = await fetch(`${BASE()}/api/v1/test/clock`, {
    method: 'POST',
    headers: { authorization: `Bearer ${env('ADMIN_TOKEN')}`, 'content-type': 'application/json' },
    body: JSON.stringify({ advance_ms: ms }),
  });
  assert(res.ok, `the test clock answered ${res.status}`);
  clock += ms;
}

await scenario(async (browser) => {
  // RFC 6238's test vector, so the scenario's "app" is known right.
  assert(totp(base32Encode('12345678901234567890'), 59_000) === '287082', 'RFC 6238 vector');

  const context = await browser.newContext({ viewport: { width: 1366, height: 900 }, bypassCSP: true });
  context.setDefaultTimeout(DEADLINE);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(`page: ${e.message}`));
  page.on('dialog', (dialog) => dialog.accept());
  const status = page.locator('#status');

  // 1. Sign in through the form, open Settings → My account.
  await page.goto(`${BASE()}/console/`);
  await page.getByLabel('Name', { exact: true }).fill(NAME);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.locator('#me-name', { hasText: NAME }).waitFor();
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.getByRole('link', { name: 'My account' }).click();
  await page.getByRole('heading', { name: 'My account' }).waitFor();
  await page.getByRole('button', { name: 'Turn on two-factor sign-in' }).waitFor();
  await accessible(page, 'My account');

  // 2. A token, shown once, that works; then revoked, and it stops.
  await page.getByLabel('Name of the new token').fill('CRM sync');
  await page.getByRole('button', { name: 'Create token' }).click();
  const shown = page.getByRole('textbox', { name: 'New API token' });
  await shown.waitFor();
  const token = await shown.inputValue();
  assert(token.startsWith('fd_'), `a token is shown: ${token}`);
  assert(await tokenWorks(token), 'the new token works');
  const row = page.getByRole('row', { name: /CRM sync/ });
  await row.waitFor();
  await page.getByRole('button', { name: 'Done, I copied it' }).click();
  await shown.waitFor({ state: 'detached' });
  assert(!(await page.content()).includes(token), 'the token is not on the page any more');
  await page.getByRole('button', { name: 'Revoke token CRM sync' }).click();
  await status.filter({ hasText: 'Token "CRM sync" revoked.' }).waitFor();
  await row.waitFor({ state: 'detached' });
  assert(!(await tokenWorks(token)), 'the revoked token is refused');

  // 3. Two-factor sign-in: the key into the "app", its code back, recovery codes once.
  await page.getByRole('button', { name: 'Turn on two-factor sign-in' }).click();
  const key = page.getByRole('textbox', { name: 'Key for your authenticator app' });
  await key.waitFor();
  const secret = await key.inputValue();
  assert(/^[A-Z2-7]{32}$/.test(secret), `a base32 key: ${secret}`);
  assert((await page.locator('#totp-uri').textContent()).startsWith(`otpauth://totp/frontdesk:${NAME}?`), 'the otpauth URI');
  await page.getByLabel('Code from your authenticator app').fill(totp(secret, clock));
  await page.getByRole('button', { name: 'Confirm and turn on' }).click();
  await page.locator('#recovery-codes li').nth(9).waitFor();
  assert(await page.locator('#recovery-codes li').count() === 10, 'ten recovery codes');
  await accessible(page, 'My account with the recovery codes');
  await page.screenshot({ path: env('SCREENSHOT'), fullPage: true });
  await page.getByRole('button', { name: 'Done, I saved them' }).click();
  await page.getByText('On. 10 of your recovery codes are left.').waitFor();

  // 4. Sign out, and in again: the password, then a code from the app.
  await page.getByRole('link', { name: 'Sessions' }).click();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('button', { name: 'Sign in', exact: true }).waitFor();
  await advanceClock(30_000);
  await page.getByLabel('Name', { exact: true }).fill(NAME);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  const code = page.getByLabel('Code from your authenticator app');
  await code.waitFor();
  await status.filter({ hasText: 'two-factor sign-in is on' }).waitFor();
  assert(await page.getByRole('button', { name: 'Use a recovery code instead' }).isVisible(), 'a way to use a recovery code');
  await accessible(page, 'the sign-in form asking for a code');
  await code.fill(totp(secret, clock));
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.locator('#me-name', { hasText: NAME }).waitFor();

  assert(errors.length === 0, `no page errors: ${errors.join(' | ')}`);
  return { token_revoked: true, two_factor: true };
});

/** Bytes (as a latin-1 string) to RFC 4648 base32, for the test vector. */
function base32Encode(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const byte of Buffer.from(text, 'latin1')) bits += byte.toString(2).padStart(8, '0');
  let out = '';
  for (let i = 0; i < bits.length; i += 5) out += alphabet[parseInt(bits.slice(i, i + 5).padEnd(5, '0'), 2)];
  return out;
}
