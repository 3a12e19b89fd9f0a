// Scenario (b), issue 7: Ann transfers a session to Ben (R18), each in their
// own browser context; Ben's console shows it arrive live.
import { env, scenario, signIn, customerWrites, row, assert, noErrors } from './console_lib.mjs';

await scenario(async (browser) => {
  const ann = await signIn(browser, 'ann', env('ANN_PASSWORD'));
  const ben = await signIn(browser, 'ben', env('BEN_PASSWORD'));

  const session = await customerWrites(env('CHANNEL'), env('SECRET'), 'b1', 'Can someone from billing help?');
  await row(ann.page, 'queue-list', session).waitFor();
  await row(ben.page, 'queue-list', session).waitFor();

  await row(ann.page, 'queue-list', session).click();
  await ann.page.locator('#take-btn').click();
  await ann.page.locator('#chat-agent', { hasText: 'with ann' }).waitFor();
  // Ben sees it leave the queue: Ann has it now.
  await row(ben.page, 'queue-list', session).waitFor({ state: 'detached' });

  await ann.page.locator('#transfer-to').selectOption(`agent:${env('BEN_ID')}`);
  await ann.page.locator('#transfer-btn').click();
  await ann.page.locator('#chat-agent', { hasText: 'with ben' }).waitFor();

  // Live in Ben's console, and gone from Ann's list.
  await row(ben.page, 'mine-list', session).waitFor();
  await row(ann.page, 'mine-list', session).waitFor({ state: 'detached' });
  await row(ben.page, 'mine-list', session).click();
  await ben.page.locator('#log li.in .body', { hasText: 'billing' }).waitFor();
  assert(await ben.page.locator('#take-btn').isHidden(), 'Ben holds it: nothing to take');
  noErrors(ann, ben);
  return { session };
});
