//! The [`Bot`] trait and the glue that exports it as the `bot` world.

use std::marker::PhantomData;

use crate::wit::bot as w;
use crate::{Answer, BotAction, BotEvent, ChannelContext, InboundMessage, Session};

/// A chat bot that gets sessions before agents do: implement this, then call
/// [`export_bot!`](crate::export_bot).
///
/// Every method has a default, so a bot implements only the events it cares
/// about. The host makes a fresh instance per event; keep state in
/// [`BotAction::SetData`] (per session) or [`kv`](crate::kv) (per channel).
pub trait Bot {
    /// A new session arrived. The default says nothing and waits.
    fn on_session_started(
        _ctx: &ChannelContext,
        _session: &Session,
    ) -> Result<Vec<BotAction>, String> {
        Ok(Vec::new())
    }

    /// The customer wrote. The default hands the session to the queue, so a
    /// bot that handles nothing never strands a customer.
    fn on_message(
        _ctx: &ChannelContext,
        _session: &Session,
        _message: InboundMessage,
    ) -> Result<Vec<BotAction>, String> {
        Ok(vec![BotAction::HandOver(None)])
    }

    /// The customer answered an [`BotAction::Ask`]. The default does nothing.
    fn on_answer(
        _ctx: &ChannelContext,
        _session: &Session,
        _answer: Answer,
    ) -> Result<Vec<BotAction>, String> {
        Ok(Vec::new())
    }

    /// A timer set with [`BotAction::SetTimer`] is due. The default does nothing.
    fn on_timer(
        _ctx: &ChannelContext,
        _session: &Session,
        _name: String,
    ) -> Result<Vec<BotAction>, String> {
        Ok(Vec::new())
    }
}

/// Adapts a [`Bot`] to the generated `Guest` trait. Public only for the macro.
#[doc(hidden)]
pub struct BotExport<T>(PhantomData<T>);

impl<T: Bot> w::Guest for BotExport<T> {
    fn on_event(
        ctx: ChannelContext,
        session: Session,
        event: BotEvent,
    ) -> Result<Vec<BotAction>, String> {
        match event {
            BotEvent::SessionStarted => T::on_session_started(&ctx, &session),
            BotEvent::CustomerMessage(message) => T::on_message(&ctx, &session, message),
            BotEvent::Answered(answer) => T::on_answer(&ctx, &session, answer),
            BotEvent::TimerFired(name) => T::on_timer(&ctx, &session, name),
        }
    }
}

/// Exports a [`Bot`] implementation as this component's `bot` world.
///
/// Call it once, at the crate root of a `cdylib` built for `wasm32-wasip2`.
#[macro_export]
macro_rules! export_bot {
    ($bot:ty) => {
        #[doc(hidden)]
        type __FrontdeskBotExport = $crate::__private::BotExport<$bot>;
        $crate::__private::export_bot_world!(
            __FrontdeskBotExport with_types_in $crate::__private::bot_bindings
        );
    };
}

impl BotAction {
    /// A plain text reply.
    pub fn reply(text: impl Into<String>) -> Self {
        BotAction::Reply(crate::Reply {
            text: text.into(),
            quick_replies: Vec::new(),
        })
    }

    /// A question whose answer comes back as [`BotEvent::Answered`] under `field`.
    pub fn ask(field: impl Into<String>, text: impl Into<String>, options: Vec<String>) -> Self {
        BotAction::Ask(crate::Question {
            field: field.into(),
            text: text.into(),
            options,
        })
    }
}
