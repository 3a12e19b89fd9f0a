/// <reference path="./interfaces/frontdesk-plugin-bot-types.d.ts" />
/// <reference path="./interfaces/frontdesk-plugin-clock.d.ts" />
/// <reference path="./interfaces/frontdesk-plugin-http.d.ts" />
/// <reference path="./interfaces/frontdesk-plugin-kv.d.ts" />
/// <reference path="./interfaces/frontdesk-plugin-log.d.ts" />
/// <reference path="./interfaces/frontdesk-plugin-types.d.ts" />
declare module 'frontdesk:plugin/bot@0.1.0' {
  export type ChannelContext = import('frontdesk:plugin/types@0.1.0').ChannelContext;
  export type Session = import('frontdesk:plugin/bot-types@0.1.0').Session;
  export type BotEvent = import('frontdesk:plugin/bot-types@0.1.0').BotEvent;
  export type BotAction = import('frontdesk:plugin/bot-types@0.1.0').BotAction;
  export type * as FrontdeskPluginBotTypes010 from 'frontdesk:plugin/bot-types@0.1.0'; // import frontdesk:plugin/bot-types@0.1.0
  export type * as FrontdeskPluginClock010 from 'frontdesk:plugin/clock@0.1.0'; // import frontdesk:plugin/clock@0.1.0
  export type * as FrontdeskPluginHttp010 from 'frontdesk:plugin/http@0.1.0'; // import frontdesk:plugin/http@0.1.0
  export type * as FrontdeskPluginKv010 from 'frontdesk:plugin/kv@0.1.0'; // import frontdesk:plugin/kv@0.1.0
  export type * as FrontdeskPluginLog010 from 'frontdesk:plugin/log@0.1.0'; // import frontdesk:plugin/log@0.1.0
  export type * as FrontdeskPluginTypes010 from 'frontdesk:plugin/types@0.1.0'; // import frontdesk:plugin/types@0.1.0
  /**
  * Reacts to one event; the actions run in order.
  */
  export function onEvent(ctx: ChannelContext, session: Session, event: BotEvent): Array<BotAction>;
  export type Result<T, E> = { tag: 'ok', val: T } | { tag: 'err', val: E };
}
