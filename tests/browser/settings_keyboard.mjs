// Issue 16, "everything works from the keyboard": an admin signs in and
// reaches every settings page and every channel tab with Tab, Shift+Tab,
// Enter, Space and the arrow keys only (no mouse, no locator clicks), walks
// each one's whole tab order (every control reached, the focus ring always
// showing, focus never trapped, Shift+Tab retracing Tab), and changes and
// saves one field on each page. axe checks each page as it is left.
//
// Env (tests/console_browser/keyboard.rs): FRONTDESK_URL, ADMIN_PASSWORD,
// CHANNEL_NAME. Prints what it saved, for the Rust side to check.

import { env, scenario, assert, accessible, BASE, DEADLINE } from './console_lib.mjs';
import { tabTo, wholeTabOrder, replaceText } from './keyboard_lib.mjs';

const CHANNEL = env('CHANNEL_NAME');
const RENAMED = `${CHANNEL} desk`;

const saidOk = (page, text) => page.locator('#status.ok', { hasText: text }).waitFor();

/**
 * Enter on a link of the settings menu (or a channel tab), then the page's
 * heading; the page is drawn when it hands focus to its main area.
 */
async function go(page, link, heading, level = 1) {
  await tabTo(page, link, { tag: 'a' });
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: heading, level }).waitFor();
  await page.waitForFunction(() => document.activeElement && document.activeElement.id === 'page');
}

/** Goes to a channel tab by keyboard and walks its tab order. */
async function channelTab(page, title) {
  await go(page, new RegExp(`^${title}$`), title, 2);
  await wholeTabOrder(page, `the ${title} tab`);
}

scenario(async (browser) => {
  const context = await browser.newContext({ viewport: { width: 1366, height: 900 }, bypassCSP: true });
  context.setDefaultTimeout(DEADLINE);
  const page = await context.newPage();
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => errors.push(`page: ${e.message}`));
  const stops = {};

  // Sign in: Tab to each field, type, Enter submits.
  await page.goto(`${BASE()}/console/`);
  await page.getByRole('button', { name: 'Sign in', exact: true }).waitFor();
  await tabTo(page, /^Name$/, { tag: 'input' });
  await page.keyboard.type('ada');
  await tabTo(page, /^Password$/, { tag: 'input' });
  await page.keyboard.type(env('ADMIN_PASSWORD'));
  await page.keyboard.press('Enter');
  await page.locator('#me-name', { hasText: 'ada' }).waitFor();
  await go(page, /^Settings$/, 'Channels');

  // Channels: create one by keyboard (the kind list starts on `api`).
  stops.channels = await wholeTabOrder(page, 'Channels');
  await tabTo(page, /^Name/, { tag: 'input' });
  await page.keyboard.type('Keyboard line');
  await tabTo(page, /^Create channel$/);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Channel “Keyboard line” created' }).waitFor();
  await accessible(page, 'Channels');

  // One channel, each tab in order.
  await go(page, new RegExp(`^${CHANNEL}$`), CHANNEL);
  await page.getByRole('heading', { name: 'Queue', level: 2 }).waitFor();
  stops.queue = await wholeTabOrder(page, 'the Queue tab');
  await tabTo(page, /^Forward interval/, { tag: 'input' });
  await replaceText(page, '2');
  await tabTo(page, /^Save$/);
  await page.keyboard.press('Enter');
  await saidOk(page, 'Saved.');
  await accessible(page, 'the Queue tab');

  await channelTab(page, 'CRM');
  await tabTo(page, /^(Automatically|By hand|Off)/, { tag: 'input' });
  // Arrow keys move the choice within the radio group.
  await page.keyboard.press('ArrowDown');
  await tabTo(page, /^Save$/);
  await page.keyboard.press('Enter');
  await saidOk(page, 'Saved.');

  await channelTab(page, 'Agent information');
  await tabTo(page, /^(Each agent's profile|The channel's identity|Hidden)/, { tag: 'input' });
  await page.keyboard.press('ArrowUp');
  assert(await page.getByRole('radio', { name: /^Hidden/ }).isChecked(), 'ArrowUp from the first choice wraps to Hidden');
  await tabTo(page, /^Save$/);
  await page.keyboard.press('Enter');
  await saidOk(page, 'Saved.');

  await channelTab(page, 'Working hours');
  await tabTo(page, /^Keep working hours/, { tag: 'input' });
  await page.keyboard.press('Space');
  await tabTo(page, /^Time zone/, { tag: 'input' });
  await page.keyboard.type('Europe/Berlin');
  await tabTo(page, /^Add a range on Monday$/);
  await page.keyboard.press('Enter');
  await tabTo(page, /^Monday range 1 opens$/, { tag: 'input' });
  await page.keyboard.type('09:00');
  await tabTo(page, /^Monday range 1 closes$/, { tag: 'input' });
  await page.keyboard.type('17:00');
  await tabTo(page, /^Save working hours$/);
  await page.keyboard.press('Enter');
  await saidOk(page, 'Working hours saved.');
  await accessible(page, 'the Working hours tab');

  await channelTab(page, 'Agreement');
  await tabTo(page, /^Ask customers to accept/, { tag: 'input' });
  await page.keyboard.press('Space');
  await tabTo(page, /^Agreement text/, { tag: 'textarea' });
  await page.keyboard.type('We keep this chat for 30 days. Agree?');
  await tabTo(page, /^Save agreement$/);
  await page.keyboard.press('Enter');
  await saidOk(page, 'Agreement saved.');

  await channelTab(page, 'Auto-actions');
  await tabTo(page, /^Edit first_message$/);
  await page.keyboard.press('Enter');
  await page.getByLabel('Script for first_message').waitFor();
  stops.script = await wholeTabOrder(page, 'the first_message editor');
  await tabTo(page, /^Script for first_message/, { tag: 'textarea' });
  await replaceText(page, 'reply("Hello from the keyboard")');
  // Tab leaves the editor: it does not insert a tab character.
  await tabTo(page, /^Save script$/);
  await page.keyboard.press('Enter');
  await saidOk(page, 'The first_message script is saved');
  await accessible(page, 'the Auto-actions tab');

  await channelTab(page, 'Canned responses');
  await tabTo(page, /^Add a response$/);
  await page.keyboard.press('Enter');
  await tabTo(page, /^Name/, { tag: 'input' });
  await page.keyboard.type('Thanks');
  await tabTo(page, /^Shortcut/, { tag: 'input' });
  await page.keyboard.type('/thanks');
  await tabTo(page, /^Text/, { tag: 'textarea' });
  await page.keyboard.type('Thank you for waiting.');
  await tabTo(page, /^Save canned responses$/);
  await page.keyboard.press('Enter');
  await saidOk(page, 'Canned responses saved');

  await channelTab(page, 'Quality assessment');
  await tabTo(page, /^Ask the customer to rate/, { tag: 'input' });
  await page.keyboard.press('Space');
  await tabTo(page, /^Save quality assessment$/);
  await page.keyboard.press('Enter');
  await saidOk(page, 'Quality assessment saved.');

  // No bot is installed here: the choice is "No bot", saved as it is.
  await channelTab(page, 'Chat bot');
  await tabTo(page, /^Save chat bot$/);
  await page.keyboard.press('Enter');
  await saidOk(page, 'No bot');

  await channelTab(page, 'Other');
  await tabTo(page, /^Name/, { tag: 'input' });
  await replaceText(page, RENAMED);
  await tabTo(page, /^Save$/);
  await page.keyboard.press('Enter');
  await saidOk(page, 'Saved.');

  // Users: add an agent.
  await go(page, /^Users$/, 'Users');
  stops.users = await wholeTabOrder(page, 'Users');
  await tabTo(page, /^Name \(they sign in with it\)/, { tag: 'input' });
  await page.keyboard.type('kim');
  await tabTo(page, /^Set a password now/, { tag: 'input' });
  await page.keyboard.press('Space');
  await tabTo(page, /^Password \(at least 10 characters\)/, { tag: 'input' });
  await page.keyboard.type('kim signs in with this');
  await tabTo(page, /^Add user$/);
  await page.keyboard.press('Enter');
  await page.locator('tr[data-user="kim"]').waitFor();
  await accessible(page, 'Users');

  // Plugins: reached and walked; nothing to type there without a package file.
  await go(page, /^Plugins$/, 'Plugins');
  stops.plugins = await wholeTabOrder(page, 'Plugins');

  // Operations: filter the audit log.
  await go(page, /^Operations$/, 'Operations');
  stops.operations = await wholeTabOrder(page, 'Operations');
  await tabTo(page, /^Action/, { tag: 'input' });
  await page.keyboard.type('user.');
  await tabTo(page, /^Filter$/);
  await page.keyboard.press('Enter');
  // The log lists channel changes until the filter applies.
  await page.locator('td', { hasText: 'channel.update' }).first().waitFor({ state: 'detached' });
  await page.locator('td', { hasText: 'user.create' }).first().waitFor();

  // My account: a token, shown once.
  await go(page, /^My account$/, 'My account');
  stops.account = await wholeTabOrder(page, 'My account');
  await tabTo(page, /^Name of the new token/, { tag: 'input' });
  await page.keyboard.type('keyboard');
  await page.keyboard.press('Enter');
  await tabTo(page, /^Done, I copied it$/);
  await page.keyboard.press('Enter');
  await page.getByRole('cell', { name: 'keyboard', exact: true }).waitFor();
  await accessible(page, 'My account');

  assert(errors.length === 0, `no console errors, got: ${errors.join(' | ')}`);
  return { stops, renamed: RENAMED };
});
