// P5, P6, issue 16 scenarios 1 and 5: a fresh server's first admin comes in
// through the setup link the server logged, signs out and in again, is
// locked out after five wrong passwords and told when to try again, and
// from the console's header opens Statistics signed in, with the figures.
//
// Env (tests/sign_in_browser.rs): FRONTDESK_URL, SETUP_URL.
//
// Two things here are not a person's steps and go through the API from a
// second signed-in context instead: half a minute passing (the server's test
// clock), and a customer's message for the statistics to count.

import crypto from 'node:crypto';
import { env, scenario, assert, accessible, BASE, DEADLINE } from './console_lib.mjs';

const PASSWORD = 'ada picks a long passphrase';

await scenario(async (browser) => {
  const context = await browser.newContext({ viewport: { width: 1366, height: 800 }, bypassCSP: true });
  context.setDefaultTimeout(DEADLINE);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(`page: ${e.message}`));
  const status = page.locator('#status');

  // 1. The link from the log opens the first-admin form.
  await page.goto(env('SETUP_URL'));
  await page.getByRole('heading', { name: 'Create the first admin' }).waitFor();
  assert(!page.url().includes('#setup='), 'the token leaves the address bar');
  await accessible(page, 'the setup form');
  await page.getByLabel('Your name').fill('ada');
  await page.getByLabel('New password').fill(PASSWORD);
  await page.getByLabel('The same password again').fill('a different one!');
  await page.getByRole('button', { name: 'Save and sign in' }).click();
  await status.filter({ hasText: 'The two passwords differ' }).waitFor();
  await page.getByLabel('The same password again').fill(PASSWORD);
  await page.getByRole('button', { name: 'Save and sign in' }).click();
  await page.locator('#me-name', { hasText: 'ada' }).waitFor();
  await page.locator('#me-role', { hasText: 'admin' }).waitFor();

  // 2. Sign out, and in again.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('button', { name: 'Sign in', exact: true }).waitFor();
  await accessible(page, 'the sign-in form');
  const signIn = async (password) => {
    await page.getByLabel('Name', { exact: true }).fill('ada');
    await page.getByLabel('Password', { exact: true }).fill(password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  };
  await signIn(PASSWORD);
  await page.locator('#me-name', { hasText: 'ada' }).waitFor();
  await page.getByRole('button', { name: 'Sign out' }).click();

  // Ada's second browser, for what is not a person's step (see the top).
  const desk = await browser.newContext();
  const signedIn = await desk.request.post(`${BASE()}/api/v1/sign-in`, { data: { name: 'ada', password: PASSWORD } });
  assert(signedIn.ok(), `second sign-in answered ${signedIn.status()}`);
  const csrf = (await signedIn.json()).csrf_token;
  const admin = async (path, data) => {
    const res = await desk.request.post(`${BASE()}/api/v1${path}`, { data, headers: { 'x-csrf-token': csrf } });
    assert(res.ok(), `${path} answered ${res.status()}: ${await res.text()}`);
    return res.json();
  };
  const channel = await admin('/channels', { name: 'Shop API' });
  const message = JSON.stringify({ message_id: 'm1', chat_id: 'c1', text: 'Hello', sender: { name: 'Bob' } });
  const signature = `sha256=${crypto.createHmac('sha256', channel.secret).update(message).digest('hex')}`;
  const hook = await fetch(`${BASE()}/hooks/${channel.channel.id}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-frontdesk-signature': signature },
    body: message,
  });
  assert(hook.status === 200, `webhook answered ${hook.status}`);

  // 3. Five wrong passwords: the fifth locks the name and says for how long.
  for (let attempt = 1; attempt <= 4; attempt += 1) {
    await signIn(`wrong guess ${attempt}`);
    await status.filter({ hasText: 'do not match' }).waitFor();
    await status.evaluate((box) => { box.hidden = true; });
  }
  await signIn('wrong guess 5');
  await status.filter({ hasText: 'too many wrong passwords for ada; try again in 30 s' }).waitFor();
  await status.evaluate((box) => { box.hidden = true; });
  await signIn(PASSWORD);
  await status.filter({ hasText: 'too many wrong passwords' }).waitFor();
  assert(await page.locator('#app').isHidden(), 'still signed out while locked');

  // Half a minute passes (on the server's test clock).
  await admin('/test/clock', { advance_ms: 31_000 });
  await signIn(PASSWORD);
  await page.locator('#me-name', { hasText: 'ada' }).waitFor();

  // 5. Statistics from the header, signed in, with the channel's figures.
  await page.getByRole('link', { name: 'Statistics' }).click();
  await page.getByRole('heading', { name: 'Statistics' }).waitFor();
  await page.locator('#channel option', { hasText: 'Shop API' }).waitFor({ state: 'attached' });
  const sessions = page.locator('#totals div', { hasText: 'Sessions' }).locator('dd');
  await sessions.waitFor();
  assert((await sessions.textContent()) === '1', `one session counted, got ${await sessions.textContent()}`);
  await accessible(page, 'the statistics page');
  await page.getByRole('link', { name: 'Sessions' }).click();
  await page.locator('#me-name', { hasText: 'ada' }).waitFor();

  assert(errors.length === 0, `no page errors, got: ${errors.join(' | ')}`);
  await context.close();
  await desk.close();
  return { signed_in: 'ada' };
});
