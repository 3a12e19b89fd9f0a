// Scenario (c), issue 7: a customer's HTML and script payloads show as text
// in the agent's console and nothing runs (no console errors either).
import { env, scenario, signIn, customerWrites, row, assert, noErrors } from './console_lib.mjs';

const SCRIPT = '<script>window.__pwned = "script"</script>';
const IMG = '<img src=x onerror="window.__pwned = \'img\'">';

await scenario(async (browser) => {
  const ann = await signIn(browser, 'ann', env('ANN_PASSWORD'));
  const { page } = ann;
  const session = await customerWrites(env('CHANNEL'), env('SECRET'), 'c1', `${SCRIPT} and ${IMG}`,
    { name: IMG });

  await row(page, 'queue-list', session).waitFor();
  await row(page, 'queue-list', session).click();
  const body = page.locator('#log li.in .body').first();
  await body.waitFor();
  assert(await body.textContent() === `${SCRIPT} and ${IMG}`, 'the payload shows exactly as text');
  await page.locator('#contact dd', { hasText: '<img src=x' }).waitFor();
  await page.locator('#chat-title', { hasText: '<img src=x' }).waitFor();

  const injected = await page.evaluate(() => document.querySelectorAll(
    '#log img, #log script, #contact img, #chat-title img, .sessions img').length);
  assert(injected === 0, `no element was made from customer text, found ${injected}`);
  // An onerror handler would have run by the time the image failed; make
  // sure the page has settled (a round trip through the event loop and the
  // network) before looking at the flag.
  await page.evaluate(() => fetch('/console/index.html').then((r) => r.text()));
  assert(await page.evaluate(() => window.__pwned) === undefined, 'no payload ran');
  noErrors(ann);
  return { session };
});
