//! The store as the background workers and the engine's parts see it: each holds the narrowest
//! bundle of sub-traits it uses, not the whole [`Store`](super::Store).
//!
//! A bundle is a supertrait of `Store` with a blanket impl, so an
//! `Arc<dyn Store>` becomes an `Arc<dyn DeliveryStore>` (say) by trait
//! upcasting, and a bundle names no method of its own.

use super::{
    AttachmentStore, BotStore, ChannelStore, ContactStore, DataStore, HealthStore, OutboxStore,
    RoutingStore, TranscriptStore, UserStore, WebchatStore,
};

/// What the webchat hub reads to push a sent message to a visitor's
/// sockets: the message with its chat, and its channel's agent identity (I1).
pub trait PushStore: WebchatStore + ChannelStore {}
impl<T: WebchatStore + ChannelStore + ?Sized> PushStore for T {}

/// What the outbox's delivery worker uses (S5): its outbox rows, the
/// reply's channel and agent (I1), the webchat hub's reads, and the
/// storage health it reports faults to.
pub trait DeliveryStore: OutboxStore + UserStore + PushStore + HealthStore {}
impl<T: OutboxStore + UserStore + PushStore + HealthStore + ?Sized> DeliveryStore for T {}

/// What the attachment fetcher uses (issue 6): its claims, the channel an
/// attachment came in on, and the storage health it reports faults to.
pub trait FetchStore: AttachmentStore + ChannelStore + HealthStore {}
impl<T: AttachmentStore + ChannelStore + HealthStore + ?Sized> FetchStore for T {}

/// What the retention worker uses (issue 19): every channel's retention setting,
/// and the batched removal of what is older.
pub trait RetentionStore: ChannelStore + DataStore {}
impl<T: ChannelStore + DataStore + ?Sized> RetentionStore for T {}

/// What the engine's consent gate reads (G1): the channel's notice, a
/// session's contact and the contact's answer. Its writes go in the
/// engine's step.
pub trait ConsentGateStore: ChannelStore + TranscriptStore + ContactStore {}
impl<T: ChannelStore + TranscriptStore + ContactStore + ?Sized> ConsentGateStore for T {}

/// What the engine's hook runner reads to build a script's view (A1–A5,
/// W2, Q1): the session, its contact, the channel with its queue, the
/// responsible agent, and the transcript's figures.
pub trait HookStore:
    TranscriptStore + ContactStore + ChannelStore + UserStore + RoutingStore
{
}
impl<T: TranscriptStore + ContactStore + ChannelStore + UserStore + RoutingStore + ?Sized> HookStore
    for T
{
}

/// What the bot worker uses (B1–B5): its conversations and their steps, the
/// session and contact a bot is shown, and the users and channels a bot's
/// transfer names.
pub trait BotWorkerStore:
    BotStore + TranscriptStore + ContactStore + ChannelStore + UserStore
{
}
impl<T: BotStore + TranscriptStore + ContactStore + ChannelStore + UserStore + ?Sized>
    BotWorkerStore for T
{
}

/// What the engine's loop uses: the routing rows it restores and writes,
/// the users and queues it catches up with, the storage health it reports
/// to, and what each of its parts reads (handed to them narrowed).
pub trait EngineStore: HookStore + ConsentGateStore + BotStore + HealthStore {}
impl<T: HookStore + ConsentGateStore + BotStore + HealthStore + ?Sized> EngineStore for T {}
