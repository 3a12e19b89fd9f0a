// The bot's decisions, kept free of host imports so `node --test` runs them
// as they are; `bot.js` wires them to the host.

/** Words that mean "let me talk to a person". */
const HANDOVER_WORDS = ['agent', 'human', 'person', 'someone'];

/** An order number as the shop prints it: `#` optional, 4 to 12 digits. */
const ORDER_NUMBER = /#?\b(\d{4,12})\b/;

const DEFAULT_GREETING = 'Hello! I can tell you where your order is.';
const ASK_TEXT = 'What is your order number? (Write "agent" to talk to a person.)';

/** @typedef {import('frontdesk:plugin/bot-types@0.1.0').BotAction} BotAction */
/** @typedef {import('frontdesk:plugin/bot-types@0.1.0').BotEvent} BotEvent */
/** @typedef {import('frontdesk:plugin/types@0.1.0').ChannelContext} ChannelContext */

/**
 * What a lookup found: `{found: true, status, eta?}`, `{found: false}` for an
 * unknown order, or `{failed: reason}` when the shop could not be asked.
 * @typedef {{found: true, status: string, eta?: string} | {found: false} | {failed: string}} Lookup
 */

/** @param {string} text */
export function wantsAPerson(text) {
  const lower = text.toLowerCase();
  return HANDOVER_WORDS.some((word) => lower.includes(word));
}

/** @param {string} text @returns {string | undefined} */
export function orderNumberIn(text) {
  return ORDER_NUMBER.exec(text)?.[1];
}

/** @param {ChannelContext} ctx */
export function config(ctx) {
  return JSON.parse(ctx.configJson || '{}');
}

/** The URL that answers for `number`. @param {string} base @param {string} number */
export function orderUrl(base, number) {
  return `${base.replace(/\/+$/, '')}/orders/${encodeURIComponent(number)}`;
}

/** @param {string} text @returns {BotAction} */
const reply = (text) => ({ tag: 'reply', val: { text, quickReplies: [] } });

/** @returns {BotAction} */
const askForOrder = (text = ASK_TEXT) => ({
  tag: 'ask',
  val: { field: 'order', text, options: [] },
});

/** @param {string} note @returns {BotAction} */
const handOver = (note) => ({ tag: 'hand-over', val: note });

/**
 * The actions for one event. `lookup(number)` asks the shop.
 * @param {ChannelContext} ctx
 * @param {BotEvent} event
 * @param {(number: string) => Lookup} lookup
 * @returns {BotAction[]}
 */
export function decide(ctx, event, lookup) {
  switch (event.tag) {
    case 'session-started':
      return [reply(config(ctx).greeting || DEFAULT_GREETING), askForOrder()];
    case 'answered':
      return onText(event.val.value, lookup);
    case 'customer-message':
      return onText(event.val.text ?? '', lookup);
    default:
      return [];
  }
}

/** @param {string} text @param {(number: string) => Lookup} lookup @returns {BotAction[]} */
function onText(text, lookup) {
  if (wantsAPerson(text)) {
    return [handOver('the customer asked for a person')];
  }
  const number = orderNumberIn(text);
  if (!number) {
    return [askForOrder(`"${text}" is not an order number; it has 4 to 12 digits, like 10042. ${ASK_TEXT}`)];
  }
  const found = lookup(number);
  if ('failed' in found) {
    return [
      reply('I cannot reach the order system right now; a colleague will help you.'),
      handOver(`order ${number}: the lookup failed (${found.failed})`),
    ];
  }
  if (!found.found) {
    return [
      reply(`I could not find order ${number}; a colleague will look into it.`),
      handOver(`order ${number} was not found`),
    ];
  }
  const eta = found.eta ? `, expected ${found.eta}` : '';
  return [
    { tag: 'set-data', val: ['order', number] },
    reply(`Order ${number}: ${found.status}${eta}.`),
    askForOrder('Anything else? Give another order number, or write "agent" to talk to a person.'),
  ];
}

/**
 * Reads the shop's answer. @param {number} status @param {Uint8Array} body
 * @returns {Lookup}
 */
export function readAnswer(status, body) {
  if (status === 404) {
    return { found: false };
  }
  if (status !== 200) {
    return { failed: `the shop answered ${status}` };
  }
  try {
    const order = JSON.parse(new TextDecoder().decode(body));
    if (typeof order.status !== 'string') {
      return { failed: 'the answer has no "status"' };
    }
    return { found: true, status: order.status, eta: order.eta };
  } catch {
    return { failed: 'the answer is not JSON' };
  }
}
