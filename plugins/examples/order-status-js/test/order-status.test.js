// `npm test` (node --test): the bot's decisions, without the host.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decide, orderUrl, readAnswer } from '../src/order-status.js';

const ctx = { channelId: '1', configJson: '{"orders_api": "https://shop.example/api/"}', secrets: [] };
const said = (text) => ({ tag: 'customer-message', val: { text } });
const json = (value) => new TextEncoder().encode(JSON.stringify(value));

test('greets and asks for the order number', () => {
  const actions = decide(ctx, { tag: 'session-started' }, () => assert.fail('no lookup'));
  assert.deepEqual(actions.map((a) => a.tag), ['reply', 'ask']);
  assert.equal(actions[1].val.field, 'order');
});

test('answers with the status the shop gives', () => {
  const asked = [];
  const actions = decide(ctx, { tag: 'answered', val: { field: 'order', value: '#10042' } }, (n) => {
    asked.push(n);
    return readAnswer(200, json({ status: 'shipped', eta: 'Friday' }));
  });
  assert.deepEqual(asked, ['10042']);
  assert.equal(actions[1].val.text, 'Order 10042: shipped, expected Friday.');
});

test('hands over when the order is unknown, the shop fails, or on request', () => {
  const unknown = decide(ctx, said('it is 55555'), () => readAnswer(404, new Uint8Array()));
  assert.equal(unknown.at(-1).tag, 'hand-over');
  assert.equal(unknown.at(-1).val, 'order 55555 was not found');
  const failed = decide(ctx, said('10042'), () => readAnswer(500, new Uint8Array()));
  assert.match(failed.at(-1).val, /lookup failed \(the shop answered 500\)/);
  assert.equal(decide(ctx, said('an agent please'), () => assert.fail())[0].tag, 'hand-over');
});

test('asks again for text that holds no order number', () => {
  const actions = decide(ctx, said('where is my parcel'), () => assert.fail('no lookup'));
  assert.equal(actions[0].tag, 'ask');
  assert.match(actions[0].val.text, /is not an order number/);
});

test('builds the lookup URL from the configured base', () => {
  assert.equal(orderUrl('https://shop.example/api/', '10042'), 'https://shop.example/api/orders/10042');
});
