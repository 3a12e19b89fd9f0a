/// <reference path="./interfaces/frontdesk-plugin-clock.d.ts" />
/// <reference path="./interfaces/frontdesk-plugin-connector-types.d.ts" />
/// <reference path="./interfaces/frontdesk-plugin-http.d.ts" />
/// <reference path="./interfaces/frontdesk-plugin-kv.d.ts" />
/// <reference path="./interfaces/frontdesk-plugin-log.d.ts" />
/// <reference path="./interfaces/frontdesk-plugin-smtp.d.ts" />
/// <reference path="./interfaces/frontdesk-plugin-types.d.ts" />
declare module 'frontdesk:plugin/connector@0.1.0' {
  export type ChannelContext = import('frontdesk:plugin/types@0.1.0').ChannelContext;
  export type OutboundMessage = import('frontdesk:plugin/types@0.1.0').OutboundMessage;
  export type Attachment = import('frontdesk:plugin/types@0.1.0').Attachment;
  export type InboundRequest = import('frontdesk:plugin/connector-types@0.1.0').InboundRequest;
  export type InboundOutcome = import('frontdesk:plugin/connector-types@0.1.0').InboundOutcome;
  export type SendReceipt = import('frontdesk:plugin/connector-types@0.1.0').SendReceipt;
  export type ConnectorError = import('frontdesk:plugin/connector-types@0.1.0').ConnectorError;
  export type FetchedFile = import('frontdesk:plugin/connector-types@0.1.0').FetchedFile;
  export type * as FrontdeskPluginClock010 from 'frontdesk:plugin/clock@0.1.0'; // import frontdesk:plugin/clock@0.1.0
  export type * as FrontdeskPluginConnectorTypes010 from 'frontdesk:plugin/connector-types@0.1.0'; // import frontdesk:plugin/connector-types@0.1.0
  export type * as FrontdeskPluginHttp010 from 'frontdesk:plugin/http@0.1.0'; // import frontdesk:plugin/http@0.1.0
  export type * as FrontdeskPluginKv010 from 'frontdesk:plugin/kv@0.1.0'; // import frontdesk:plugin/kv@0.1.0
  export type * as FrontdeskPluginLog010 from 'frontdesk:plugin/log@0.1.0'; // import frontdesk:plugin/log@0.1.0
  export type * as FrontdeskPluginSmtp010 from 'frontdesk:plugin/smtp@0.1.0'; // import frontdesk:plugin/smtp@0.1.0
  export type * as FrontdeskPluginTypes010 from 'frontdesk:plugin/types@0.1.0'; // import frontdesk:plugin/types@0.1.0
  /**
  * Prepares the provider for a channel that was just created, enabled or
  * reconfigured, e.g. registers `webhook-url` (Telegram's `setWebhook`).
  * Must be safe to call again with the same arguments. Errors tell the
  * admin what happened: `malformed` when the config cannot work and the
  * provider was not called; `unauthorized` or `permanent` when the
  * provider refused; `transient` or `rate-limited` when it could not be
  * reached or failed for now.
  */
  export function setup(ctx: ChannelContext, webhookUrl: string): void;
  /**
  * Verifies the request's signature or token, then parses it.
  */
  export function handleInbound(ctx: ChannelContext, req: InboundRequest): InboundOutcome;
  /**
  * Renders a reply in the provider's format and sends it.
  */
  export function send(ctx: ChannelContext, msg: OutboundMessage): SendReceipt;
  /**
  * Downloads an attachment a parsed message named (by provider file id or
  * by a URL on the provider's own hosts). Requests go through the
  * allow-listed `http` import; the host caps the size it stores.
  */
  export function fetchAttachment(ctx: ChannelContext, attachment: Attachment): FetchedFile;
  export type Result<T, E> = { tag: 'ok', val: T } | { tag: 'err', val: E };
}
