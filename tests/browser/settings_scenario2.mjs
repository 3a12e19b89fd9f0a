// Issue 16, scenario 2 as one walk: from the first admin's sign-in through
// the setup link, in one browser session and without API calls, the admin
// creates a webchat and an `api` channel, adds two agents with passwords on
// the Users page, builds a strict-order queue of the two with a 1-minute
// forward interval, sets working hours in Europe/Berlin, saves a no_answer
// script with a syntax error (line and column shown, the old script stays),
// fixes it, tests it against an example event and saves it, for the `api`
// channel only: the webchat channel still runs the default.
//
// Env (tests/console_browser/scenario2.rs): FRONTDESK_URL, SETUP_URL,
// ADMIN_PASSWORD, ANN_PASSWORD, BEN_PASSWORD, SHOTS. Prints {channel, secret,
// webchat} for the Rust side, which then has customers write.

import path from 'node:path';
import { env, scenario, assert, accessible, BASE, DEADLINE } from './console_lib.mjs';

const FIXED = 'let waited = session.customer_messages;\nreply(`Still on it: ${waited} message(s) waiting.`)';

/** The status line says `text` as a success. */
const saved = (page, text) => page.locator('#status.ok', { hasText: text }).waitFor();

async function settingsPage(page, name) {
  await page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name, exact: true }).click();
  await page.getByRole('heading', { name, level: 1 }).waitFor();
}

async function openChannel(page, name) {
  await settingsPage(page, 'Channels');
  await page.locator('#channel-list').getByRole('link', { name, exact: true }).click();
  await page.getByRole('heading', { name, level: 1 }).waitFor();
}

async function openTab(page, title) {
  await page.getByRole('navigation', { name: /settings$/ }).getByRole('link', { name: title, exact: true }).click();
  await page.getByRole('heading', { name: title, level: 2 }).waitFor();
}

async function createChannel(page, name, kind, fill) {
  const form = page.locator('form[aria-labelledby="create-channel-h"]');
  await form.getByLabel(/^Name/).fill(name);
  await form.getByLabel('Kind').selectOption(kind);
  await form.locator('legend', { hasText: `${kind} settings` }).waitFor();
  if (fill) await fill(form);
  await form.getByRole('button', { name: 'Create channel' }).click();
  const done = page.getByRole('region', { name: 'The created channel' });
  await done.getByRole('heading', { name: `Channel “${name}” created` }).waitFor();
  const webhook = await done.locator('input[name="webhook_url"]').inputValue();
  return { done, id: Number(/\/hooks\/(\d+)$/.exec(webhook)[1]) };
}

async function addAgent(page, name, password) {
  const add = page.getByRole('form', { name: 'Add a user' });
  await add.getByLabel('Name (they sign in with it)').fill(name);
  await add.getByLabel('Role').selectOption('agent');
  await add.getByLabel('Set a password now').check();
  await add.getByLabel('Password (at least 10 characters)').fill(password);
  await add.getByRole('button', { name: 'Add user' }).click();
  await page.locator(`tr[data-user="${name}"]`).waitFor();
}

/** The Runs column of a hook on the Auto-actions tab. */
const runs = (page, hook) => page.locator('table.hooks tr', { hasText: `${hook} (` }).locator('td').nth(2);

scenario(async (browser) => {
  const context = await browser.newContext({ viewport: { width: 1366, height: 900 }, bypassCSP: true });
  context.setDefaultTimeout(DEADLINE);
  const page = await context.newPage();
  const errors = [];
  page.on('console', (m) => {
    // Chromium logs each refused fetch; the response listener judges those.
    if (m.type() === 'error' && !/^Failed to load resource/.test(m.text())) errors.push(`console: ${m.text()}`);
  });
  page.on('response', (r) => {
    // The one refusal the walk asks for: saving a script that does not compile.
    const expected = r.status() === 400 && r.request().method() === 'PUT' && /\/channels\/\d+\/scripts\/no_answer$/.test(r.url());
    if (r.status() >= 400 && !expected) errors.push(`${r.status()} ${r.request().method()} ${r.url()}`);
  });
  page.on('pageerror', (e) => errors.push(`page: ${e.message}`));

  // The first admin comes in through the link the server logged.
  await page.goto(env('SETUP_URL'));
  await page.getByRole('heading', { name: 'Create the first admin' }).waitFor();
  await page.getByLabel('Your name').fill('ada');
  await page.getByLabel('New password').fill(env('ADMIN_PASSWORD'));
  await page.getByLabel('The same password again').fill(env('ADMIN_PASSWORD'));
  await page.getByRole('button', { name: 'Save and sign in' }).click();
  await page.locator('#me-name', { hasText: 'ada' }).waitFor();
  await page.getByRole('link', { name: 'Settings', exact: true }).click();
  await page.getByRole('heading', { name: 'Channels', level: 1 }).waitFor();

  // Two channels: a webchat one and a built-in `api` one.
  const chat = await createChannel(page, 'Chat on the site', 'webchat', async (form) => {
    await form.getByLabel(/^identity_secret/).fill('our-site-shares-this-secret');
  });
  const partner = await createChannel(page, 'Partner API', 'api');
  const secret = await partner.done.locator('input[name="secret"]').inputValue();
  assert(secret.length >= 16, 'the api channel shows its signing secret');

  // Two agents with passwords.
  await settingsPage(page, 'Users');
  await addAgent(page, 'ann', env('ANN_PASSWORD'));
  await addAgent(page, 'ben', env('BEN_PASSWORD'));
  await accessible(page, 'the Users page with two agents');

  // The queue: ann then ben, strict order, one minute.
  await openChannel(page, 'Partner API');
  await page.getByRole('heading', { name: 'Queue', level: 2 }).waitFor();
  const adder = page.getByLabel('Agent to add');
  for (const who of ['ann', 'ben']) {
    await adder.selectOption({ label: `${who} (agent)` });
    await page.getByRole('button', { name: 'Add to the queue' }).click();
  }
  const order = await page.locator('#queue-agents li .agent-name').allTextContents();
  assert(JSON.stringify(order) === '["ann","ben"]', `ann then ben: ${order}`);
  await page.getByRole('radio', { name: /^Strict order/ }).check();
  await page.getByLabel(/^Forward interval/).fill('1');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await saved(page, 'Saved.');

  // Working hours in Berlin: Monday 09:00-17:00 (the server's clock says Monday 10:00 there).
  await openTab(page, 'Working hours');
  await page.getByLabel('Keep working hours (off: always open)').check();
  await page.getByLabel('Time zone').fill('Europe/Berlin');
  await page.getByRole('button', { name: 'Add a range on Monday' }).click();
  await page.getByLabel('Monday range 1 opens').fill('09:00');
  await page.getByLabel('Monday range 1 closes').fill('17:00');
  await page.getByRole('button', { name: 'Save working hours' }).click();
  await saved(page, 'Working hours saved.');
  await page.locator('#hours-preview', { hasText: 'Open now (Monday 5 January, 10:00, Europe/Berlin)' }).waitFor();

  // no_answer: a syntax error first.
  await openTab(page, 'Auto-actions');
  await page.getByText('These scripts run for Partner API only').waitFor();
  await runs(page, 'no_answer').filter({ hasText: 'built-in default' }).waitFor();
  await page.getByRole('button', { name: 'Edit no_answer' }).click();
  const source = page.getByLabel('Script for no_answer');
  const before = await source.inputValue();
  await source.fill('let waited = session.customer_messages;\nreply("Still on it" +');
  await page.getByRole('button', { name: 'Save script' }).click();
  const error = page.locator('.field-error', { hasText: 'line 2, column' });
  await error.waitFor();
  assert((await error.textContent()).includes('the running version stays'), await error.textContent());
  await accessible(page, 'the no_answer editor with an error');
  // The old script stays: a fresh look shows the default still running.
  await page.reload();
  await page.getByRole('heading', { name: 'Auto-actions', level: 2 }).waitFor();
  await runs(page, 'no_answer').filter({ hasText: 'built-in default' }).waitFor();
  await page.getByRole('button', { name: 'Edit no_answer' }).click();
  const kept = await source.inputValue();
  assert(kept === before, `the old script stays, got ${kept}`);

  // Fixed, checked, tested against the example event, saved.
  await source.fill(FIXED);
  await page.getByRole('button', { name: 'Check', exact: true }).click();
  await page.locator('#script-problems', { hasText: 'No errors' }).waitFor();
  await page.getByRole('button', { name: 'Test', exact: true }).click();
  await page.locator('#test-actions', { hasText: 'Reply to the customer: "Still on it: 1 message(s) waiting."' }).waitFor();
  await page.getByRole('button', { name: 'Save script' }).click();
  await saved(page, 'The no_answer script is saved and runs on Partner API');
  await runs(page, 'no_answer').filter({ hasText: 'this channel\'s script' }).waitFor();
  await page.locator('.versions li', { hasText: '2 line(s) (running now)' }).waitFor();
  await accessible(page, 'the Auto-actions tab with a saved script');
  await page.screenshot({ path: path.join(env('SHOTS'), 'settings-channel-scripts.png'), fullPage: true });

  // On that channel only: the webchat channel still runs the default.
  await openChannel(page, 'Chat on the site');
  await openTab(page, 'Auto-actions');
  await runs(page, 'no_answer').filter({ hasText: 'built-in default' }).waitFor();
  await page.getByRole('button', { name: 'Edit no_answer' }).click();
  assert(await source.inputValue() === before, 'the webchat channel runs the default');

  assert(errors.length === 0, `no console errors, got: ${errors.join(' | ')}`);
  return { channel: partner.id, secret, webchat: chat.id };
});
