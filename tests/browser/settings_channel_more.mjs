// Issue 16, one channel's settings (U1, U2, W1, G1, A6, Q1), the admin's
// own path: sign in, Settings, the channel, then each tab. Run by
// tests/console_browser/settings_channel_more.rs, which sets the server's
// test clock to Monday 5 January 2026, 12:30 in Berlin.

import path from 'node:path';
import { env, scenario, assert, accessible, BASE, DEADLINE } from './console_lib.mjs';

/** Signs in through the form in a context axe can be injected into. */
async function signIn(browser, name, password) {
  const context = await browser.newContext({ viewport: { width: 1366, height: 900 }, bypassCSP: true });
  context.setDefaultTimeout(DEADLINE);
  const page = await context.newPage();
  const errors = [];
  page.on('console', (m) => {
    // Chromium logs every failed fetch itself; those are judged by the
    // response listener below, which knows the address.
    if (m.type() === 'error' && !/^Failed to load resource/.test(m.text())) errors.push(`console: ${m.text()}`);
  });
  page.on('response', (r) => {
    // Nothing is refused on this walk (a refused script save is scenario 2's).
    if (r.status() >= 400) errors.push(`${r.status()} ${r.request().method()} ${r.url()}`);
  });
  page.on('pageerror', (e) => errors.push(`page: ${e.message}`));
  await page.goto(`${BASE()}/console/`);
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.locator('#me-name', { hasText: name }).waitFor();
  return { context, page, errors };
}

async function openChannel(page) {
  await page.getByRole('link', { name: 'Settings', exact: true }).click();
  await page.getByRole('heading', { name: 'Channels' }).waitFor();
  await page.getByRole('link', { name: env('CHANNEL_NAME'), exact: true }).click();
  await page.getByRole('heading', { name: env('CHANNEL_NAME'), level: 1 }).waitFor();
}

async function tab(page, name) {
  await page.getByRole('navigation', { name: `${env('CHANNEL_NAME')} settings` })
    .getByRole('link', { name, exact: true }).click();
  await page.getByRole('heading', { name, level: 2 }).waitFor();
}

async function saved(page, text) {
  await page.locator('#status.ok', { hasText: text }).waitFor();
}

scenario(async (browser) => {
  const admin = await signIn(browser, 'ada', env('ADMIN_PASSWORD'));
  const { page } = admin;
  await openChannel(page);

  // Working hours: Berlin, two ranges on Monday, a holiday.
  await tab(page, 'Working hours');
  await page.getByLabel('Keep working hours (off: always open)').check();
  await page.getByLabel('Time zone').fill('Europe/Berlin');
  const addMonday = page.getByRole('button', { name: 'Add a range on Monday' });
  await addMonday.click();
  await page.getByLabel('Monday range 1 opens').fill('09:00');
  await page.getByLabel('Monday range 1 closes').fill('12:00');
  await addMonday.click();
  await page.getByLabel('Monday range 2 opens').fill('13:00');
  await page.getByLabel('Monday range 2 closes').fill('17:00');
  await page.getByRole('button', { name: 'Add a holiday' }).click();
  await page.getByLabel('Holiday', { exact: true }).fill('2026-12-25');
  await page.getByLabel('Reply outside working hours').fill('We are closed; back {opens}.');
  await accessible(page, 'the working hours tab');
  await page.getByRole('button', { name: 'Save working hours' }).click();
  await saved(page, 'Working hours saved.');
  // The server's preview, by the engine's code: closed over lunch.
  const preview = page.locator('#hours-preview');
  await preview.filter({ hasText: 'opens Monday 5 January, 13:00' }).waitFor();
  const previewText = await preview.textContent();
  assert(previewText.includes('Closed now (Monday 5 January, 12:30, Europe/Berlin)'), previewText);
  await page.screenshot({ path: env('SHOT_HOURS'), fullPage: true });

  // Auto-actions: no_answer.
  await tab(page, 'Auto-actions');
  await page.getByText(`These scripts run for ${env('CHANNEL_NAME')} only`).waitFor();
  await accessible(page, 'the auto-actions tab');
  await page.getByRole('button', { name: 'Edit no_answer' }).click();
  const source = page.getByLabel('Script for no_answer');
  await source.fill('reply("We are on it.")');
  await page.getByRole('button', { name: 'Save script' }).click();
  await saved(page, 'The no_answer script is saved');
  await accessible(page, 'the no_answer editor');

  // A second version (the syntax error, Check and Test are scenario 2's,
  // tests/browser/settings_scenario2.mjs), then the first restored.
  await source.fill('let waited = 10;\nreply(`Still on it, ${waited} minutes so far.`)');
  await page.getByRole('button', { name: 'Save script' }).click();
  await saved(page, 'The no_answer script is saved');
  await page.locator('.versions li', { hasText: '2 line(s) (running now)' }).waitFor();

  // Restore the version before.
  await page.locator('.versions li').nth(1).getByRole('button', { name: /^Restore/ }).click();
  await saved(page, 'That version runs again.');
  await page.locator('.versions li').first().filter({ hasText: '1 line(s) (running now)' }).waitFor();
  const restored = await page.getByLabel('Script for no_answer').inputValue();
  assert(restored === 'reply("We are on it.")', `restored ${restored}`);

  // Agreement.
  await tab(page, 'Agreement');
  await page.getByLabel('Ask customers to accept an agreement before the chat goes on').check();
  await page.getByLabel('Agreement text').fill('We keep this chat for 90 days to answer you. Do you agree?');
  await accessible(page, 'the agreement tab');
  await page.screenshot({ path: path.join(path.dirname(env('SHOT_HOURS')), 'settings-channel-agreement.png'), fullPage: true });
  await page.getByRole('button', { name: 'Save agreement' }).click();
  await saved(page, 'Agreement saved.');

  // A canned response.
  await tab(page, 'Canned responses');
  await page.getByRole('button', { name: 'Add a response' }).click();
  await page.getByLabel('Name', { exact: true }).fill('Refund');
  await page.getByLabel('Shortcut').fill('/refund');
  await page.getByLabel('Text', { exact: true }).fill('Your refund is on its way: allow three working days.');
  await accessible(page, 'the canned responses tab');
  await page.screenshot({ path: path.join(path.dirname(env('SHOT_HOURS')), 'settings-channel-canned.png'), fullPage: true });
  await page.getByRole('button', { name: 'Save canned responses' }).click();
  await saved(page, 'Canned responses saved: 1 in 1 list(s).');

  // Ask for a rating.
  await tab(page, 'Quality assessment');
  await page.getByLabel('Ask the customer to rate the conversation when it closes (Q1)').check();
  await accessible(page, 'the quality assessment tab');
  await page.screenshot({ path: path.join(path.dirname(env('SHOT_HOURS')), 'settings-channel-quality.png'), fullPage: true });
  await page.getByRole('button', { name: 'Save quality assessment' }).click();
  await saved(page, 'Quality assessment saved.');

  await tab(page, 'Chat bot');
  await page.getByLabel(/^Bot/).first().waitFor();
  await accessible(page, 'the chat bot tab');
  await page.screenshot({ path: path.join(path.dirname(env('SHOT_HOURS')), 'settings-channel-bot.png'), fullPage: true });
  assert(admin.errors.length === 0, `no console errors, got: ${admin.errors.join(' | ')}`);

  // A supervisor sees the same settings and cannot change them.
  const sup = await signIn(browser, 'sam', env('SUPERVISOR_PASSWORD'));
  await openChannel(sup.page);
  await tab(sup.page, 'Working hours');
  assert(await sup.page.getByLabel('Time zone').inputValue() === 'Europe/Berlin', 'the supervisor sees the zone');
  assert(await sup.page.getByLabel('Time zone').isDisabled(), 'the zone is read-only');
  assert(await sup.page.getByRole('button', { name: 'Save working hours' }).count() === 0
    || !(await sup.page.getByRole('button', { name: 'Save working hours' }).isVisible()), 'no Save for a supervisor');
  await accessible(sup.page, 'the working hours tab, read-only');
  await tab(sup.page, 'Auto-actions');
  await sup.page.getByRole('button', { name: 'Show no_answer' }).click();
  assert(await sup.page.getByLabel('Script for no_answer').isDisabled(), 'the script is read-only');
  await accessible(sup.page, 'the auto-actions tab, read-only');
  assert(sup.errors.length === 0, `no console errors, got: ${sup.errors.join(' | ')}`);
  return { preview: previewText };
});
