// Issue 17, the marketplace in the console: Ada signs in through the form,
// opens Settings → Plugins, browses the configured catalogue, reads what
// the echo connector is, who published and signed it and the permissions
// it asks for, installs it with one click, and sees it listed as signed by
// its publisher with her approval recorded. axe-core checks each page.
//
// Env (tests/console_browser/marketplace.rs): FRONTDESK_URL, ADMIN_PASSWORD, SHOT.

import { env, scenario, assert, accessible, BASE, DEADLINE } from './console_lib.mjs';

await scenario(async (browser) => {
  // bypassCSP lets axe-core's script in (see `accessible`).
  const context = await browser.newContext({ viewport: { width: 1366, height: 900 }, bypassCSP: true });
  context.setDefaultTimeout(DEADLINE);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(`page: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
  const main = page.locator('#page');

  await page.goto(`${BASE()}/console/`);
  await page.getByLabel('Name', { exact: true }).fill('ada');
  await page.getByLabel('Password', { exact: true }).fill(env('ADMIN_PASSWORD'));
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.locator('#me-name', { hasText: 'ada' }).waitFor();
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.getByRole('heading', { name: 'Channels', level: 1 }).waitFor();
  await page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'Plugins' }).click();
  await page.getByRole('heading', { name: 'Plugins', level: 1 }).waitFor();

  // Browse: the catalogue's offer, read before installing.
  const catalogue = page.getByRole('region', { name: 'Catalogues' });
  const offer = catalogue.locator('article[data-offer="echo@0.1.0"]');
  await offer.waitFor();
  const facts = await offer.textContent();
  assert(facts.includes('Example connector for a simple JSON webhook.'), `the description is shown: ${facts}`);
  assert(facts.includes('acme (trusted)'), `who signed it is shown: ${facts}`);
  const permissions = await offer.locator('ul.permissions li').allTextContents();
  assert(permissions.some((p) => p.startsWith('send HTTP requests to:')), `network permission: ${permissions}`);
  assert(permissions.some((p) => p.includes('secrets: token')), `secret permission: ${permissions}`);
  await accessible(page, 'the Plugins page with a catalogue');

  // Install with one click; it is listed, signed, and the catalogue says so.
  await offer.getByRole('button', { name: /^Install echo 0\.1\.0/ }).click();
  await page.locator('#status', { hasText: 'echo 0.1.0 is installed.' }).waitFor();
  const echo = main.locator('section[data-plugin="echo"]');
  await echo.waitFor();
  await echo.getByText('signed by acme').first().waitFor();
  await catalogue.locator('article[data-offer="echo@0.1.0"]', { hasText: 'version 0.1.0 is active' }).waitFor();
  await accessible(page, 'the Plugins page after the install');
  await page.screenshot({ path: env('SHOT'), fullPage: true });

  assert(errors.length === 0, `no console errors: ${errors.join(' | ')}`);
  return { installed: 'echo' };
});
