// Issue 7's first scenario as one story in two browser contexts: a customer
// writes in the widget (on the shop's own origin), the agent sees it live in
// the console, replies with a canned response by shortcut, the customer
// sees it under the identity the channel chose (I1), the agent closes, the
// customer rates from the widget's buttons (Q1) and the score is stored
// (Q2). The widget's transcript button reaches the server and shows its
// answer (this server has no mail relay, so the answer is the refusal).
//
// Env (tests/full_story_browser.rs): FRONTDESK_URL, CHANNEL, ADMIN_TOKEN,
// ANN_PASSWORD, CANNED_TEXT, SHOWN_AS.

import http from 'node:http';
import { env, scenario, signIn, row, assert, noErrors, BASE, DEADLINE } from './console_lib.mjs';

async function api(method, path, body) {
  const res = await fetch(BASE() + path, {
    method,
    headers: { authorization: `Bearer ${env('ADMIN_TOKEN')}`, 'content-type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = await res.json();
  assert(res.ok, `${method} ${path}: ${res.status} ${JSON.stringify(data)}`);
  return data;
}

/** Polls `probe` until it gives a truthy value, failing at the deadline. */
async function until(what, probe) {
  const deadline = Date.now() + DEADLINE;
  for (;;) {
    const value = await probe();
    if (value) return value;
    assert(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25)); // a poll interval, not a wait for time
  }
}

await scenario(async (browser) => {
  const site = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,">
<title>Shop</title></head><body><h1>Example shop</h1>
<script src="${BASE()}/widget.js" data-channel="${env('CHANNEL')}" async></script></body></html>`);
  });
  await new Promise((r) => site.listen(0, '127.0.0.1', r));
  try {
    const ann = await signIn(browser, 'ann', env('ANN_PASSWORD'));

    const shop = await browser.newContext({ viewport: { width: 1000, height: 720 } });
    shop.setDefaultTimeout(DEADLINE);
    const customer = await shop.newPage();
    const errors = [];
    customer.on('console', (m) => { if (m.type() === 'error') errors.push(`widget console: ${m.text()}`); });
    customer.on('pageerror', (e) => errors.push(`widget page: ${e.message}`));
    await customer.goto(`http://127.0.0.1:${site.address().port}/`);
    await customer.getByRole('button', { name: 'Chat with us' }).click();
    const box = customer.getByRole('textbox', { name: 'Write a message…' });
    await box.fill('Hi, my parcel 77 is late');
    await box.press('Enter');
    await customer.locator('.log .msg[data-id] .body', { hasText: 'parcel 77' }).waitFor();

    // The agent sees the session live in "my sessions" (evenly routing gave it to Ann).
    const session = await until('the session', async () =>
      (await api('GET', `/api/v1/sessions?channel_id=${env('CHANNEL')}`))[0]?.id);
    await row(ann.page, 'mine-list', session).waitFor();
    await row(ann.page, 'mine-list', session).click();
    await ann.page.locator('#log li.in .body', { hasText: 'parcel 77' }).waitFor();

    // A6: the canned response by shortcut.
    await ann.page.locator('#reply-text').focus();
    await ann.page.keyboard.type('/hello');
    await ann.page.keyboard.press('Tab');
    await ann.page.keyboard.press('Enter');
    const canned = env('CANNED_TEXT');
    await ann.page.locator('#log li.out .body', { hasText: canned }).waitFor();

    // I1: the customer sees the reply under the channel's chosen name.
    const reply = customer.locator('.log .msg.agent', { hasText: canned });
    await reply.waitFor();
    await reply.locator('.author', { hasText: env('SHOWN_AS') }).waitFor();
    assert(!(await reply.innerText()).includes('ann'), 'the agent\'s own name stays hidden');

    // R18: the agent closes; Q1: the widget offers the rating buttons.
    await ann.page.locator('#close-btn').click();
    const four = customer.getByRole('button', { name: /rate this chat\? 4$/ });
    await four.waitFor();
    await four.click();

    // Q2: the score is stored with the session.
    const ratings = await until('the customer rating', async () => {
      const list = await api('GET', `/api/v1/sessions/${session}/ratings`);
      return list.find((r) => r.rater === 'customer') && list;
    });
    const score = ratings.find((r) => r.rater === 'customer').score;
    assert(score === 4, `the customer's score is stored: ${JSON.stringify(ratings)}`);

    // O3: the transcript button reaches the server and shows its answer.
    await customer.getByRole('button', { name: 'Email transcript' }).click();
    await customer.getByRole('textbox', { name: 'Email address for the transcript' }).fill('dana@example.org');
    await customer.getByRole('button', { name: 'Send transcript' }).click();
    await customer.getByRole('status').filter({ hasText: 'smtp-relay' }).waitFor();

    noErrors(ann);
    // The refused transcript (no mail relay: 409 not_configured) is the one
    // expected error in the widget's network log.
    const unexpected = errors.filter((e) => !e.includes('409'));
    assert(unexpected.length === 0, `no console errors, got: ${unexpected.join(' | ')}`);
    return { session, score };
  } finally {
    site.close();
  }
});
