/// <reference path="./frontdesk-plugin-http.d.ts" />
/// <reference path="./frontdesk-plugin-types.d.ts" />
declare module 'frontdesk:plugin/connector-types@0.1.0' {
  export type InboundMessage = import('frontdesk:plugin/types@0.1.0').InboundMessage;
  export type Response = import('frontdesk:plugin/http@0.1.0').Response;
  /**
   * A provider webhook request as the host received it.
   */
  export interface InboundRequest {
    method: string,
    /**
     * The path after `/hooks/{channel}`, usually empty.
     */
    path: string,
    /**
     * The raw query string, without `?`.
     */
    query: string,
    headers: Array<[string, string]>,
    body: Uint8Array,
  }
  /**
   * What one inbound request amounts to.
   */
  export interface InboundOutcome {
    /**
     * Zero or more messages; a delivery receipt or a typing event is zero.
     */
    messages: Array<InboundMessage>,
    /**
     * The answer the provider expects, if it is not a plain `200 OK`
     * (e.g. Messenger's `hub.challenge` echo). The host sends it only
     * after the messages are durably stored.
     */
    reply?: Response,
  }
  /**
   * The result of a send.
   */
  export interface SendReceipt {
    /**
     * The provider's id for the sent message, if it gives one.
     */
    externalMessageId?: string,
    /**
     * A frame for the host to push to the customer's live connection,
     * for connectors whose customers are connected to the host itself
     * (the web chat widget's WebSocket) rather than to a provider.
     */
    push?: Uint8Array,
  }
  /**
   * A provider's request to slow down.
   */
  export interface RateLimit {
    message: string,
    /**
     * How long the provider asks to wait (Telegram's `retry_after`,
     * an HTTP `Retry-After`); the outbox waits at least this long.
     */
    retryAfterMs: bigint,
  }
  /**
   * An attachment's bytes, fetched from the provider.
   */
  export interface FetchedFile {
    /**
     * The content type the provider gave, if any.
     */
    mimeType?: string,
    body: Uint8Array,
  }
  /**
   * How a connector call failed; the host maps each case to its behaviour.
   */
  export type ConnectorError = ConnectorErrorUnauthorized | ConnectorErrorMalformed | ConnectorErrorTransient | ConnectorErrorPermanent | ConnectorErrorUnprocessable | ConnectorErrorRateLimited;
  /**
   * The signature or token did not verify: the webhook gets 401.
   */
  export interface ConnectorErrorUnauthorized {
    tag: 'unauthorized',
    val: string,
  }
  /**
   * The request is not something this provider sends: 400, no retry.
   */
  export interface ConnectorErrorMalformed {
    tag: 'malformed',
    val: string,
  }
  /**
   * A temporary failure (provider 5xx, rate limit, network): the outbox
   * retries with backoff.
   */
  export interface ConnectorErrorTransient {
    tag: 'transient',
    val: string,
  }
  /**
   * Will never work as is (unknown chat, bot blocked): no retry.
   */
  export interface ConnectorErrorPermanent {
    tag: 'permanent',
    val: string,
  }
  /**
   * The request is authentic (its signature verified) but cannot be
   * parsed. The host keeps the raw request for admins as a failed
   * inbound and answers 200, because providers such as Telegram hold
   * back a chat's later updates while one keeps failing.
   */
  export interface ConnectorErrorUnprocessable {
    tag: 'unprocessable',
    val: string,
  }
  /**
   * The provider asked to slow down: the outbox retries after the
   * given time.
   */
  export interface ConnectorErrorRateLimited {
    tag: 'rate-limited',
    val: RateLimit,
  }
}
