// order-status-js: a frontdesk bot in JavaScript. `frontdesk plugin build .`
// turns this module into a WebAssembly component of the `bot` world of
// frontdesk:plugin@0.1.0 (see ../wit/bot.wit); the imports below are the
// host's, and requests reach only the manifest's allowed_hosts.

import { send } from 'frontdesk:plugin/http@0.1.0';
import { log } from 'frontdesk:plugin/log@0.1.0';
import { config, decide, orderUrl, readAnswer } from './order-status.js';

/**
 * The bot world's one export; returning is `ok`, throwing is `err`.
 * @type {typeof import('frontdesk:plugin/bot@0.1.0').onEvent}
 */
export function onEvent(ctx, _session, event) {
  const lookup = (number) => {
    const url = orderUrl(config(ctx).orders_api, number);
    try {
      const response = send({
        method: 'get',
        url,
        headers: [['accept', 'application/json']],
        body: new Uint8Array(),
        timeoutMs: 3000,
      });
      return readAnswer(response.status, response.body);
    } catch (error) {
      // The host's `http.error` arrives as the thrown value's payload.
      const why = error?.payload ?? error;
      log('warn', `order lookup ${url} failed: ${JSON.stringify(why)}`);
      return { failed: why?.tag ?? String(why) };
    }
  };
  return decide(ctx, event, lookup);
}
