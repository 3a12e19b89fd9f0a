declare module 'frontdesk:plugin/http@0.1.0' {
  export function send(req: Request): Response;
  /**
   * # Variants
   * 
   * ## `"get"`
   * 
   * ## `"post"`
   * 
   * ## `"put"`
   * 
   * ## `"patch"`
   * 
   * ## `"delete"`
   * 
   * ## `"head"`
   */
  export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete' | 'head';
  export interface Request {
    method: Method,
    url: string,
    headers: Array<[string, string]>,
    body: Uint8Array,
    /**
     * At most the host's own per-request limit; `none` takes that limit.
     */
    timeoutMs?: number,
  }
  export interface Response {
    status: number,
    headers: Array<[string, string]>,
    body: Uint8Array,
  }
  export type Error = ErrorForbidden | ErrorInvalidRequest | ErrorTimeout | ErrorTransport | ErrorResponseTooLarge;
  /**
   * The host is not on the plugin's allow-list; nothing was sent.
   */
  export interface ErrorForbidden {
    tag: 'forbidden',
    val: string,
  }
  /**
   * The URL, method or a header was invalid.
   */
  export interface ErrorInvalidRequest {
    tag: 'invalid-request',
    val: string,
  }
  /**
   * The request did not finish in time.
   */
  export interface ErrorTimeout {
    tag: 'timeout',
  }
  /**
   * The connection failed (DNS, TCP, TLS).
   */
  export interface ErrorTransport {
    tag: 'transport',
    val: string,
  }
  /**
   * The response body was larger than the host allows.
   */
  export interface ErrorResponseTooLarge {
    tag: 'response-too-large',
    val: bigint,
  }
}
