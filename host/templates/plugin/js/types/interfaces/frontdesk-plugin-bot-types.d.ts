/// <reference path="./frontdesk-plugin-types.d.ts" />
declare module 'frontdesk:plugin/bot-types@0.1.0' {
  export type Sender = import('frontdesk:plugin/types@0.1.0').Sender;
  export type InboundMessage = import('frontdesk:plugin/types@0.1.0').InboundMessage;
  /**
   * The session a bot event belongs to.
   */
  export interface Session {
    sessionId: string,
    channelId: string,
    customer: Sender,
    /**
     * Free-form data the bot stored with `set-data` earlier in this session.
     */
    data: Array<[string, string]>,
  }
  /**
   * A question the bot asked and the customer answered.
   */
  export interface Answer {
    /**
     * The `field` of the `ask` action.
     */
    field: string,
    value: string,
  }
  /**
   * What happened in the session.
   */
  export type BotEvent = BotEventSessionStarted | BotEventCustomerMessage | BotEventAnswered | BotEventTimerFired;
  /**
   * The session was just created and the bot has it first (B1).
   */
  export interface BotEventSessionStarted {
    tag: 'session-started',
  }
  /**
   * The customer wrote.
   */
  export interface BotEventCustomerMessage {
    tag: 'customer-message',
    val: InboundMessage,
  }
  /**
   * The customer answered an `ask`.
   */
  export interface BotEventAnswered {
    tag: 'answered',
    val: Answer,
  }
  /**
   * A timer the bot set with `set-timer` is due; carries its name.
   */
  export interface BotEventTimerFired {
    tag: 'timer-fired',
    val: string,
  }
  export interface Reply {
    text: string,
    quickReplies: Array<string>,
  }
  export interface Question {
    /**
     * The name the answer comes back under.
     */
    field: string,
    text: string,
    /**
     * Suggested answers; empty means free text.
     */
    options: Array<string>,
  }
  export interface TransferTarget {
    queue?: string,
    agent?: string,
  }
  export interface Timer {
    name: string,
    afterMs: bigint,
  }
  /**
   * What the bot wants done, in order.
   */
  export type BotAction = BotActionReply | BotActionAsk | BotActionSetData | BotActionHandOver | BotActionTransfer | BotActionClose | BotActionSetTimer;
  /**
   * Send a message to the customer.
   */
  export interface BotActionReply {
    tag: 'reply',
    val: Reply,
  }
  /**
   * Ask the customer something; the answer returns as `answered`.
   */
  export interface BotActionAsk {
    tag: 'ask',
    val: Question,
  }
  /**
   * Remember a value for the rest of the session (shown to agents too).
   */
  export interface BotActionSetData {
    tag: 'set-data',
    val: [string, string],
  }
  /**
   * Put the session in the channel's queue for an agent; the string is
   * a note shown to the agent.
   */
  export interface BotActionHandOver {
    tag: 'hand-over',
    val: string | undefined,
  }
  /**
   * Move the session to a named queue or agent.
   */
  export interface BotActionTransfer {
    tag: 'transfer',
    val: TransferTarget,
  }
  /**
   * Close the session; the string is the reason.
   */
  export interface BotActionClose {
    tag: 'close',
    val: string | undefined,
  }
  /**
   * Wake the bot later in this session.
   */
  export interface BotActionSetTimer {
    tag: 'set-timer',
    val: Timer,
  }
}
