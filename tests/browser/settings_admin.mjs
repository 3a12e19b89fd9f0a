// Issue 16, the admin's settings pages (U1, P1, P4, P5, P6, S5, X2): Ada
// signs in through the form, opens Settings → Users, adds an agent with a
// password (after the server refuses a short one at its field) and a
// supervisor with a one-time link that a second browser opens to set a
// password and land signed in; she disables the agent; → Plugins, she
// uploads a package and reads what it asks for; → Operations, she sends a
// failed reply again, sees it fail again with the reason, and filters the
// audit log down to the changes to users. axe-core checks every page.
//
// Env (tests/console_browser/settings_admin.rs): FRONTDESK_URL,
// ADMIN_PASSWORD, PACKAGE (a .tar.gz), OUTBOX (the failed item's id),
// SHOT_USERS, SHOT_PLUGINS, SHOT_OPERATIONS.

import { env, scenario, assert, accessible, BASE, DEADLINE } from './console_lib.mjs';

const NORA_PASSWORD = 'nora answers every chat';
const SID_PASSWORD = 'sid watches the queue';

/** A page in a fresh context that lets axe-core in (see `accessible`). */
async function freshPage(browser) {
  const context = await browser.newContext({ viewport: { width: 1366, height: 900 }, bypassCSP: true });
  context.setDefaultTimeout(DEADLINE);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(`page: ${e.message}`));
  // A refused request is logged by the browser itself (the short password
  // here is refused on purpose); anything else the page logs is a bug.
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(`console: ${m.text()}`);
  });
  return { context, page, errors };
}

await scenario(async (browser) => {
  const { page, errors } = await freshPage(browser);
  const main = page.locator('#page');

  // Ada signs in through the form and opens Settings → Users.
  await page.goto(`${BASE()}/console/`);
  await page.getByLabel('Name', { exact: true }).fill('ada');
  await page.getByLabel('Password', { exact: true }).fill(env('ADMIN_PASSWORD'));
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.locator('#me-name', { hasText: 'ada' }).waitFor();
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.getByRole('heading', { name: 'Channels', level: 1 }).waitFor();
  await page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'Users' }).click();
  await page.getByRole('heading', { name: 'Users', level: 1 }).waitFor();
  await main.locator('tr[data-user="ada"]').waitFor();
  // Which channels each serves, read from the channels' queues and supervisors.
  const queueLink = main.locator('tr[data-user="ann"]').getByRole('link', { name: 'Partner API' });
  await queueLink.waitFor();
  assert((await queueLink.getAttribute('href')).endsWith('/queue'), 'the queue links to its Queue tab');
  await main.locator('tr[data-user="ada"]').getByRole('link', { name: 'Partner API' }).waitFor();
  await accessible(page, 'the Users page');

  // An agent with a password: the server's refusal shows at the field.
  const add = page.getByRole('form', { name: 'Add a user' });
  await add.getByLabel('Name (they sign in with it)').fill('nora');
  await add.getByLabel('Role').selectOption('agent');
  await add.getByLabel('Display name').fill('Nora K.');
  await add.getByLabel('Set a password now').check();
  await add.getByLabel('Password (at least 10 characters)').fill('short');
  await add.getByRole('button', { name: 'Add user' }).click();
  const refusal = add.locator('.field-error');
  await refusal.waitFor();
  assert((await refusal.textContent()).startsWith('password'), 'the refusal names the password');
  assert(await add.getByLabel('Password (at least 10 characters)').getAttribute('aria-invalid') === 'true',
    'the password field is marked invalid');
  await add.getByLabel('Password (at least 10 characters)').fill(NORA_PASSWORD);
  await add.getByRole('button', { name: 'Add user' }).click();
  const nora = main.locator('tr[data-user="nora"]');
  await nora.waitFor();
  assert((await nora.textContent()).includes('Nora K.'), 'the display name is listed');
  assert(await add.locator('.field-error').count() === 0, 'the error is gone once it worked');

  // A supervisor with a one-time link, opened in a second browser.
  await add.getByLabel('Name (they sign in with it)').fill('sid');
  await add.getByLabel('Role').selectOption('supervisor');
  await add.getByLabel('Make a one-time link they open to choose their own').check();
  assert(await add.getByLabel('Password (at least 10 characters)').isHidden(), 'no password field for a link');
  await add.getByRole('button', { name: 'Add user' }).click();
  const linkBox = add.getByLabel(/^One-time link for sid/);
  await linkBox.waitFor();
  const link = await linkBox.inputValue();
  assert(link.includes('/console/#setup='), `a setup link: ${link}`);
  await main.locator('tr[data-user="sid"]').waitFor();

  const sid = await freshPage(browser);
  await sid.page.goto(link);
  await sid.page.getByRole('heading', { name: 'Set the password for sid' }).waitFor();
  await sid.page.getByLabel('New password').fill(SID_PASSWORD);
  await sid.page.getByLabel('The same password again').fill(SID_PASSWORD);
  await sid.page.getByRole('button', { name: 'Save and sign in' }).click();
  await sid.page.locator('#me-name', { hasText: 'sid' }).waitFor();
  await sid.page.locator('#me-role', { hasText: 'supervisor' }).waitFor();
  assert(sid.errors.length === 0, `sid's console has no errors: ${sid.errors.join(' | ')}`);
  await sid.context.close();

  // Nora is disabled.
  await nora.getByRole('button', { name: 'Change nora' }).click();
  const status = page.getByRole('form', { name: 'Status of nora' });
  await status.getByLabel(/^Disabled/).check();
  await status.getByRole('button', { name: 'Save status' }).click();
  await main.locator('tr[data-user="nora"] .user-status', { hasText: 'disabled' }).waitFor();
  // Her API token (made with her account) is revoked, and her two-factor
  // sign-in turned off, as for someone who lost their phone (P2, P5).
  const tokens = page.getByRole('table', { name: 'API tokens of nora' });
  await tokens.getByRole('cell', { name: 'active' }).waitFor();
  await tokens.getByRole('button', { name: /^Revoke the token .* of nora$/ }).click();
  await tokens.getByRole('cell', { name: /^revoked / }).waitFor();
  assert(await tokens.getByRole('button').count() === 0, 'a revoked token has no Revoke button');
  await page.getByRole('button', { name: 'Turn off two-factor sign-in' }).click();
  await page.locator('#status', { hasText: 'nora now signs in with the password alone' }).waitFor();
  await accessible(page, 'the Users page with a user open');
  await page.screenshot({ path: env('SHOT_USERS'), fullPage: true });

  // Plugins: upload the package, read what it may do.
  await page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'Plugins' }).click();
  await page.getByRole('heading', { name: 'Plugins', level: 1 }).waitFor();
  // The first-party plugins ship with the server: listed before anything is installed.
  await main.locator('section[data-plugin="webchat"]', { hasText: 'Built in: ships with the server' }).waitFor();
  await accessible(page, 'the Plugins page');
  await page.getByLabel('Plugin package (.tar.gz)').setInputFiles(env('PACKAGE'));
  // The package built from the repository is unsigned: she says so explicitly.
  await page.getByLabel(/Allow an unsigned package/).check();
  await page.getByRole('button', { name: 'Upload' }).click();
  const echo = main.locator('section[data-plugin="echo"]');
  await echo.waitFor();
  await page.locator('#status', { hasText: 'echo 0.1.0 was installed.' }).waitFor();
  const permissions = await echo.locator('ul.permissions li').allTextContents();
  assert(permissions.some((p) => p.startsWith('send HTTP requests to:')), `network permission: ${permissions}`);
  assert(permissions.some((p) => p.includes('key-value store')), `stored data permission: ${permissions}`);
  assert(permissions.some((p) => p.includes('secrets: token')), `secret permission: ${permissions}`);
  assert((await echo.textContent()).includes('connector'), 'its kind is shown');
  assert((await echo.textContent()).includes('unsigned'), 'it is marked unsigned');
  await accessible(page, 'the Plugins page with a plugin');
  await page.screenshot({ path: env('SHOT_PLUGINS'), fullPage: true });

  // Operations: the failed reply is sent again and fails again, with why.
  await page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'Operations' }).click();
  await page.getByRole('heading', { name: 'Operations', level: 1 }).waitFor();
  const failed = main.locator(`tr[data-outbox="${env('OUTBOX')}"]`);
  await failed.waitFor();
  assert((await failed.locator('.reason').textContent()).includes('no callback_url'), 'the reason is shown');
  await main.getByRole('link', { name: 'Open the statistics' }).waitFor();
  await accessible(page, 'the Operations page');
  await failed.getByRole('button', { name: 'Send again' }).click();
  await failed.locator('.outcome', { hasText: 'Failed again.' }).waitFor({ timeout: 60_000 });
  assert((await failed.locator('.reason').textContent()).includes('no callback_url'), 'the new reason is shown');

  // The audit log, filtered to changes to users.
  const audit = page.getByRole('form', { name: 'Filter the audit log' });
  await audit.getByLabel('Action').fill('user.');
  await audit.getByRole('button', { name: 'Filter' }).click();
  const actions = main.locator('table.audit .audit-action');
  await main.locator('table.audit caption', { hasText: 'change(s)' }).waitFor();
  await page.waitForFunction(() => {
    const cells = [...document.querySelectorAll('table.audit .audit-action')].map((c) => c.textContent);
    return cells.length > 0 && cells.every((a) => a.startsWith('user.'));
  });
  const seen = await actions.allTextContents();
  for (const wanted of ['user.create', 'user.setup_link', 'user.status']) {
    assert(seen.includes(wanted), `${wanted} is in the filtered log: ${seen}`);
  }
  await audit.getByLabel('Action').fill('outbox.retry');
  await audit.getByRole('button', { name: 'Filter' }).click();
  await page.waitForFunction(() => {
    const cells = [...document.querySelectorAll('table.audit .audit-action')].map((c) => c.textContent);
    return cells.length === 1 && cells[0] === 'outbox.retry';
  });
  await accessible(page, 'the Operations page filtered');
  await page.screenshot({ path: env('SHOT_OPERATIONS'), fullPage: true });

  assert(errors.length === 0, `no console errors: ${errors.join(' | ')}`);
  return { users: ['nora', 'sid'], plugin: 'echo' };
});
