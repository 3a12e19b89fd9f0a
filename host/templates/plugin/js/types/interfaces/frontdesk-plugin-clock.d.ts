declare module 'frontdesk:plugin/clock@0.1.0' {
  /**
   * Unix time in milliseconds.
   */
  export function nowMs(): bigint;
}
