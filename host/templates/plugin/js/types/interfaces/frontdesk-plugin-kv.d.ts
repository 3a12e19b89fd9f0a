declare module 'frontdesk:plugin/kv@0.1.0' {
  export function get(key: string): Uint8Array | undefined;
  export function set(key: string, value: Uint8Array): void;
  export { _delete as delete };
  function _delete(key: string): void;
  export type Error = ErrorTooLarge | ErrorUnavailable;
  /**
   * The key or value is larger than the host allows, or the channel's
   * quota is full.
   */
  export interface ErrorTooLarge {
    tag: 'too-large',
    val: string,
  }
  /**
   * The store failed; the call may be retried.
   */
  export interface ErrorUnavailable {
    tag: 'unavailable',
    val: string,
  }
}
