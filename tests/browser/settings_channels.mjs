// Issue 16, Settings · Channels and a channel's tabs, from the user's path:
// sign in through the form, click Settings, ... (tests/console_browser/
// settings_channels.rs runs each STEP and checks the API between them).
//   create      the admin creates a webchat and an api channel, sets the
//               api channel's queue (two agents, strict, 1 minute), and a
//               bad interval is shown at its field; prints {channel, secret}
//   evenly      the admin switches that queue to evenly
//   supervisor  the channel's supervisor sees every tab read-only

import path from 'node:path';
import { DEADLINE, BASE, env, assert, noErrors, scenario, accessible } from './console_lib.mjs';

/** Signs in through the form (P5) in a context axe can be injected into. */
async function signIn(browser, name, password) {
  const context = await browser.newContext({ viewport: { width: 1366, height: 900 }, bypassCSP: true });
  context.setDefaultTimeout(DEADLINE);
  const page = await context.newPage();
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => errors.push(`page: ${e.message}`));
  await page.goto(`${BASE()}/console/`);
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.locator('#me-name', { hasText: name }).waitFor();
  return { context, page, errors };
}

/** From the console: the Settings link, then the Channels page. */
async function openSettings(page) {
  await page.getByRole('link', { name: 'Settings', exact: true }).click();
  await page.getByRole('heading', { name: 'Channels', level: 1 }).waitFor();
  await page.locator('#channel-list > *').first().waitFor();
}

async function openChannel(page, name) {
  await page.locator('#channel-list').getByRole('link', { name, exact: true }).click();
  await page.getByRole('heading', { name, level: 1 }).waitFor();
}

async function openTab(page, title) {
  await page.getByRole('navigation', { name: /settings$/ }).getByRole('link', { name: title, exact: true }).click();
  await page.getByRole('heading', { name: title, level: 2 }).waitFor();
}

/** Clicks Save and waits for the request it sends to be answered. */
async function save(page, pathEnd, method = 'PUT') {
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === method && new URL(r.url()).pathname.endsWith(pathEnd)),
    page.getByRole('button', { name: 'Save', exact: true }).click(),
  ]);
  return response;
}

const order = (page) => page.locator('#queue-agents li .agent-name').allTextContents();

async function createChannel(page, name, kind, fill) {
  const form = page.locator('form[aria-labelledby="create-channel-h"]');
  await form.getByLabel(/^Name/).fill(name);
  await form.getByLabel('Kind').selectOption(kind);
  await form.locator('legend', { hasText: `${kind} settings` }).waitFor();
  if (fill) await fill(form);
  await form.getByRole('button', { name: 'Create channel' }).click();
  const done = page.getByRole('region', { name: 'The created channel' });
  await done.getByRole('heading', { name: `Channel “${name}” created` }).waitFor();
  await done.locator('#setup-result', { hasText: 'Provider setup succeeded' }).waitFor();
  const webhook = await done.locator('input[name="webhook_url"]').inputValue();
  const id = Number(/\/hooks\/(\d+)$/.exec(webhook)[1]);
  assert(webhook === `${BASE()}/hooks/${id}`, `the webhook URL is the public one: ${webhook}`);
  return { done, id };
}

async function create(browser) {
  // Channel ids: the webchat channel is 1, the api channel 2 (a fresh server).
  const ada = await signIn(browser, 'ada', env('ADA_PASSWORD'));
  const { page } = ada;
  await openSettings(page);

  // A webchat channel, its config from the plugin's schema.
  const chat = await createChannel(page, 'Chat on the site', 'webchat', async (form) => {
    await form.getByLabel(/^identity_secret/).waitFor();
    assert(await form.getByLabel(/^identity_secret/).getAttribute('type') === 'password', 'secrets are masked');
    await form.getByLabel(/^identity_secret/).fill('our-site-shares-this-secret');
    await form.getByLabel(/^prechat_fields/).fill('email');
  });
  // Run setup again answers in place.
  const [again] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith(`/channels/${chat.id}/setup`)),
    chat.done.getByRole('button', { name: 'Run setup again' }).click(),
  ]);
  assert(again.status() === 200, `setup again answered ${again.status()}`);
  await chat.done.locator('#setup-result', { hasText: 'Provider setup succeeded' }).waitFor();

  // The built-in api channel shows its signing secret once.
  const api = await createChannel(page, 'Partner API', 'api');
  const secret = await api.done.locator('input[name="secret"]').inputValue();
  assert(secret.length >= 16, 'the secret is shown');
  const row = page.locator(`#channel-list tr[data-channel="${api.id}"]`);
  await row.getByText(/^OK .*Built in/).waitFor();
  await page.locator(`#channel-list tr[data-channel="${chat.id}"]`).getByText(/^OK /).waitFor();
  await accessible(page, 'Channels with a created channel');
  await page.screenshot({ path: path.join(env('SHOTS'), 'settings-channels.png'), fullPage: true });

  // The queue: two agents, reordered by keyboard and by drag and drop.
  await openChannel(page, 'Partner API');
  await page.getByRole('heading', { name: 'Queue', level: 2 }).waitFor();
  await page.locator('#queue-agents').waitFor();
  const adder = page.getByLabel('Agent to add');
  for (const who of ['ann', 'ben']) {
    await adder.selectOption({ label: `${who} (agent)` });
    await page.getByRole('button', { name: 'Add to the queue' }).click();
  }
  assert(JSON.stringify(await order(page)) === '["ann","ben"]', 'both added in order');
  await page.getByRole('button', { name: 'Move down (ann)' }).focus();
  await page.keyboard.press('Enter');
  assert(JSON.stringify(await order(page)) === '["ben","ann"]', `Move down works: ${await order(page)}`);
  await page.locator('#queue-agents li[data-agent]', { hasText: 'ann' })
    .dragTo(page.locator('#queue-agents li[data-agent]', { hasText: 'ben' }));
  assert(JSON.stringify(await order(page)) === '["ann","ben"]', `drag and drop works: ${await order(page)}`);
  await page.getByRole('radio', { name: /^Strict order/ }).check();
  const forward = page.getByLabel(/^Forward interval/);
  await forward.fill('1');
  let answer = await save(page, '/queue');
  assert(answer.status() === 200, `the queue saved: ${answer.status()}`);
  await page.locator('#status', { hasText: 'Saved.' }).waitFor();
  await accessible(page, 'the Queue tab');
  await page.screenshot({ path: path.join(env('SHOTS'), 'settings-channel-queue.png'), fullPage: true });

  // Bad intervals: the server's error at the field, nothing saved.
  for (const [minutes, secs] of [['0', 0], ['780', 46800]]) {
    await forward.fill(minutes);
    answer = await save(page, '/queue');
    assert(answer.status() === 400, `${minutes} minutes refused: ${answer.status()}`);
    const label = page.locator('label', { has: page.locator('input[name="forward_interval_secs"]') });
    await label.locator('.field-error', { hasText: `forward_interval_secs is ${secs}; it must be from 60` }).waitFor();
    assert(await forward.getAttribute('aria-invalid') === 'true', 'the field is marked invalid');
  }
  await forward.fill('1');

  // The other tabs built here: each renders, passes axe, saves.
  await openTab(page, 'CRM');
  await page.getByRole('radio', { name: /^By hand/ }).check();
  answer = await save(page, '/queue');
  assert(answer.status() === 200, `CRM saved: ${answer.status()}`);
  await accessible(page, 'the CRM tab');
  await page.screenshot({ path: path.join(env('SHOTS'), 'settings-channel-crm.png'), fullPage: true });
  await openTab(page, 'Agent information');
  await page.getByRole('radio', { name: /^The channel's identity/ }).check();
  await page.getByLabel(/^Name customers see/).fill('');
  answer = await save(page, `/channels/${api.id}`, 'PATCH');
  assert(answer.status() === 400, `an empty channel name is refused: ${answer.status()}`);
  await page.locator('.field-error', { hasText: 'config.agent_identity.name must not be empty' }).waitFor();
  await page.getByLabel(/^Name customers see/).fill('Partner support');
  answer = await save(page, `/channels/${api.id}`, 'PATCH');
  assert(answer.status() === 200, `identity saved: ${answer.status()}`);
  await accessible(page, 'the Agent information tab');
  await page.screenshot({ path: path.join(env('SHOTS'), 'settings-channel-identity.png'), fullPage: true });
  await openTab(page, 'Other');
  assert(await page.getByLabel(/^Name/).inputValue() === 'Partner API', 'the name is shown');
  await accessible(page, 'the Other tab');
  await page.screenshot({ path: path.join(env('SHOTS'), 'settings-channel-other.png'), fullPage: true });

  // The webchat channel's connector settings: the secret stays masked and
  // kept; a value its schema refuses is shown at that field.
  await page.getByRole('link', { name: 'Channels', exact: true }).click();
  await openChannel(page, 'Chat on the site');
  await openTab(page, 'Other');
  const secretBox = page.getByLabel(/^identity_secret/);
  assert(await secretBox.inputValue() === '********', 'the stored secret is masked');
  await secretBox.fill('short');
  answer = await save(page, '/channels/1', 'PATCH');
  assert(answer.status() === 400, `a short secret is refused: ${answer.status()}`);
  const secretLabel = page.locator('label', { has: page.locator('input[name="config.identity_secret"]') });
  await secretLabel.locator('.field-error', { hasText: 'config field "identity_secret"' }).waitFor();
  await secretBox.fill('********');
  await page.getByLabel(/^prechat_fields/).fill('email\nname');
  answer = await save(page, '/channels/1', 'PATCH');
  assert(answer.status() === 200, `connector settings saved: ${answer.status()}`);
  // Retention (issue 19): the channel keeps 30 days of conversations.
  await page.getByLabel(/^Keep conversations/).fill('30');
  answer = await save(page, '/channels/1', 'PATCH');
  assert(answer.status() === 200, `retention saved: ${answer.status()}`);

  // The browser logs each refused save (two intervals, the empty name, the short secret).
  const refused = ada.errors.filter((e) => e.includes('status of 400'));
  assert(refused.length === 4, `four refusals: ${refused.join(' | ')}`);
  ada.errors = ada.errors.filter((e) => !e.includes('status of 400'));
  noErrors(ada);
  return { channel: api.id, secret };
}

async function evenly(browser) {
  const ada = await signIn(browser, 'ada', env('ADA_PASSWORD'));
  const { page } = ada;
  await openSettings(page);
  await openChannel(page, 'Partner API');
  await page.getByRole('heading', { name: 'Queue', level: 2 }).waitFor();
  assert(await page.getByRole('radio', { name: /^Strict order/ }).isChecked(), 'strict as saved');
  assert(await page.getByLabel(/^Forward interval/).inputValue() === '1', 'one minute as saved');
  await page.getByRole('radio', { name: /^Evenly/ }).check();
  const answer = await save(page, '/queue');
  assert(answer.status() === 200, `evenly saved: ${answer.status()}`);
  noErrors(ada);
  return {};
}

async function supervisor(browser) {
  const sam = await signIn(browser, 'sam', env('SAM_PASSWORD'));
  const { page } = sam;
  await openSettings(page);
  assert(await page.getByRole('heading', { name: 'Create a channel' }).count() === 0, 'no create form');
  assert(await page.getByRole('button', { name: /Run setup again/ }).count() === 0, 'no setup button');
  await openChannel(page, 'Partner API');
  await page.getByText('only an admin can change them').waitFor();
  await page.getByRole('heading', { name: 'Queue', level: 2 }).waitFor();
  await page.locator('#queue-agents li[data-agent]').nth(1).waitFor();
  assert(JSON.stringify(await order(page)) === '["ann","ben"]', `the queue shows: ${await order(page)}`);
  assert(await page.getByRole('radio', { name: /^Evenly/ }).isChecked(), 'evenly as saved');
  assert(await page.getByRole('radio', { name: /^Evenly/ }).isDisabled(), 'read-only mode');
  assert(await page.getByRole('button', { name: 'Move down (ann)' }).isDisabled(), 'read-only order');
  assert(await page.getByLabel(/^Forward interval/).isDisabled(), 'read-only interval');
  await accessible(page, 'the Queue tab, read-only');
  for (const tab of ['Queue', 'CRM', 'Agent information', 'Other']) {
    await openTab(page, tab);
    assert(await page.getByRole('button', { name: 'Save' }).count() === 0, `${tab}: no Save for a supervisor`);
    const enabled = await page.locator('.tab-panel').locator('input:enabled, select:enabled, textarea:enabled, button:enabled').count();
    assert(enabled === 0, `${tab}: every control disabled, ${enabled} enabled`);
  }
  noErrors(sam);
  return {};
}

const STEPS = { create, evenly, supervisor };
scenario(STEPS[env('STEP')]);
