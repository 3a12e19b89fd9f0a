//! The store as the background workers see it: each holds the narrowest
//! bundle of sub-traits it uses, not the whole [`Store`](super::Store).
//!
//! A bundle is a supertrait of `Store` with a blanket impl, so an
//! `Arc<dyn Store>` becomes an `Arc<dyn DeliveryStore>` (say) by trait
//! upcasting, and a bundle names no method of its own.

use super::{
    AttachmentStore, ChannelStore, DataStore, HealthStore, OutboxStore, UserStore, WebchatStore,
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
