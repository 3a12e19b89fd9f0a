// Scenario (a), issue 7: a customer's message appears live in the agent's
// queue; the agent takes it, replies with a canned response typed as its
// shortcut (A6), and closes it (R18). Clock-in and break (R7) on the way.
import { env, scenario, signIn, customerWrites, row, assert, noErrors } from './console_lib.mjs';

await scenario(async (browser) => {
  const ann = await signIn(browser, 'ann', env('ANN_PASSWORD'));
  const { page } = ann;

  // R7: clock in, then take a break, so routing gives Ann nothing by itself.
  await page.locator('#clock-btn').click();
  await page.locator('#shift-state', { hasText: 'clocked in' }).waitFor();
  await page.locator('#break-btn').click();
  await page.locator('#shift-state', { hasText: 'on a break' }).waitFor();

  const listsFetched = ann.requests.filter((r) => r.startsWith('GET /api/v1/sessions?')).length;
  const session = await customerWrites(env('CHANNEL'), env('SECRET'), 'a1',
    'Hi, my order #1234 has not arrived.', { name: 'Dana Customer' });

  // Live: the row arrives over the WebSocket, with no reload and no refetch.
  await row(page, 'queue-list', session).waitFor();
  assert(ann.requests.filter((r) => r.startsWith('GET /api/v1/sessions?')).length === listsFetched,
    'the queue updated from the live socket, not by polling');

  await row(page, 'queue-list', session).click();
  await page.locator('#log li.in .body', { hasText: 'my order #1234' }).waitFor();
  await page.locator('#contact dd', { hasText: 'Dana Customer' }).waitFor();

  await page.keyboard.press('Alt+t');
  await page.locator('#chat-agent', { hasText: 'with ann' }).waitFor();
  await row(page, 'mine-list', session).waitFor();
  await row(page, 'queue-list', session).waitFor({ state: 'detached' });

  // A6: the shortcut and Tab insert the canned text; Enter sends it.
  const box = page.locator('#reply-text');
  await box.focus();
  await page.keyboard.type('/hel');
  await page.locator('#canned-hint', { hasText: '/hello' }).waitFor();
  await page.keyboard.type('lo');
  await page.keyboard.press('Tab');
  const canned = env('CANNED_TEXT');
  assert(await box.inputValue() === canned, `the shortcut became the canned text, got ${await box.inputValue()}`);
  await page.keyboard.press('Enter');
  await page.locator('#log li.out .body', { hasText: canned }).waitFor();
  assert(await box.inputValue() === '', 'the reply box is empty after sending');

  if (process.env.SCREENSHOT) await page.screenshot({ path: process.env.SCREENSHOT });

  await page.locator('#close-btn').click();
  await page.locator('#chat-state', { hasText: /^closed$/ }).waitFor();
  await row(page, 'mine-list', session).waitFor({ state: 'detached' });
  noErrors(ann);
  return { session };
});
