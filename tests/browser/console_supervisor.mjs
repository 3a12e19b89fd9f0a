// Q3, issue 7: a supervisor sees every session of their channel, closed ones
// too, and rates one with a comment.
import { env, scenario, signIn, row, assert, noErrors } from './console_lib.mjs';

await scenario(async (browser) => {
  const sam = await signIn(browser, 'sam', env('SAM_PASSWORD'));
  const { page } = sam;
  const session = env('SESSION');
  await row(page, 'all-list', session).click();
  await page.locator('#chat-state', { hasText: 'closed' }).waitFor();
  await page.locator('#rating-score').selectOption('4');
  await page.locator('#rating-comment').fill('Friendly and quick. <b>Well done</b>');
  await page.locator('#rating-form button[type=submit]').click();
  await page.locator('#ratings li', { hasText: 'supervisor (sam): 4/5 — Friendly and quick. <b>Well done</b>' }).waitFor();
  assert(await page.locator('#ratings b').count() === 0, 'the comment shows as text');
  noErrors(sam);
  return { session: Number(session) };
});
