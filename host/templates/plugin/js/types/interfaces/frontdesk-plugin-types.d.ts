declare module 'frontdesk:plugin/types@0.1.0' {
  /**
   * Everything a plugin knows about the channel a call is for.
   * 
   * The host validated `config-json` against the manifest's config schema
   * before the call, so a plugin may deserialize it without re-checking
   * required fields. `secrets` holds only the secrets the manifest declares,
   * and only this channel's values: another channel's token never reaches
   * the plugin.
   */
  export interface ChannelContext {
    channelId: string,
    configJson: string,
    secrets: Array<[string, string]>,
  }
  /**
   * The customer as the provider describes them; unknown parts stay `none`.
   */
  export interface Sender {
    /**
     * Stable id of the person at the provider (Telegram user id, PSID, address).
     */
    externalId: string,
    name?: string,
    /**
     * A username or handle, without a leading `@`.
     */
    handle?: string,
    email?: string,
    phone?: string,
  }
  /**
   * # Variants
   * 
   * ## `"image"`
   * 
   * ## `"audio"`
   * 
   * ## `"video"`
   * 
   * ## `"file"`
   * 
   * ## `"location"`
   * 
   * ## `"sticker"`
   * 
   * ## `"other"`
   */
  export type AttachmentKind = 'image' | 'audio' | 'video' | 'file' | 'location' | 'sticker' | 'other';
  /**
   * A file or media item; the host fetches `url` later if it needs the bytes.
   */
  export interface Attachment {
    kind: AttachmentKind,
    url?: string,
    /**
     * Provider's own id for the file, for providers that only give ids.
     */
    providerFileId?: string,
    fileName?: string,
    mimeType?: string,
    sizeBytes?: bigint,
    /**
     * The bytes themselves, for providers that carry them inside the
     * message (an email's MIME parts); the host stores them without a
     * fetch. `none` means the host asks `fetch-attachment` later.
     */
    data?: Uint8Array,
  }
  /**
   * One customer message, normalized.
   */
  export interface InboundMessage {
    /**
     * The conversation at the provider; with the channel it keys the session.
     */
    externalChatId: string,
    /**
     * Unique per channel: a retried webhook carries the same id and is
     * stored once.
     */
    externalMessageId: string,
    sender: Sender,
    text?: string,
    attachments: Array<Attachment>,
    /**
     * When the provider says it was sent, in Unix milliseconds.
     */
    sentAtMs?: bigint,
    /**
     * The external message id this one replies to, if the provider says.
     */
    inReplyTo?: string,
    /**
     * Set when this is a customer's edit of an earlier message (Telegram's
     * `edited_message`): the earlier message's provider id. The edit is
     * stored as a message of its own, marked as an edit, so the log keeps both.
     */
    editOf?: string,
  }
  /**
   * A reply on its way to the customer.
   */
  export interface OutboundMessage {
    externalChatId: string,
    /**
     * The host's id for this outbox entry; stable across retries, so a
     * connector can pass it to providers that deduplicate.
     */
    outboxId: string,
    text?: string,
    attachments: Array<Attachment>,
    /**
     * Quick-reply buttons, for providers that have them.
     */
    quickReplies: Array<string>,
    inReplyTo?: string,
    /**
     * The agent's name as the channel chose to show it (I1): their
     * profile name, a per-channel name, or none when the channel hides
     * agents. Connectors show it the way their network can (a sender
     * name, a first line).
     */
    authorName?: string,
    /**
     * The avatar URL that goes with `author-name` (I1), when there is one.
     */
    authorAvatar?: string,
  }
}
