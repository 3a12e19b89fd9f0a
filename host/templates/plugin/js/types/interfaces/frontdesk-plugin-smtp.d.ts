declare module 'frontdesk:plugin/smtp@0.1.0' {
  /**
   * Sends a complete RFC 5322 message; the plugin writes its headers, so it
   * controls Message-ID, In-Reply-To and References for threading.
   */
  export function send(envelope: Envelope, message: Uint8Array): void;
  export interface Envelope {
    mailFrom: string,
    rcptTo: Array<string>,
  }
  export type Error = ErrorForbidden | ErrorRejected | ErrorTransient;
  /**
   * The manifest does not grant `smtp`, or the host has no relay configured.
   */
  export interface ErrorForbidden {
    tag: 'forbidden',
    val: string,
  }
  /**
   * The relay refused the message for good (bad address, policy).
   */
  export interface ErrorRejected {
    tag: 'rejected',
    val: string,
  }
  /**
   * A temporary failure; retrying later may work.
   */
  export interface ErrorTransient {
    tag: 'transient',
    val: string,
  }
}
