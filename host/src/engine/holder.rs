//! R18's holder rule, checked in the engine's step so that a take by a
//! colleague cannot slip in between the check and the action.

use frontdesk_routing::{AgentId, Router, State};

use super::{Actor, EngineError, Event};

/// R18: only the agent holding a session, or someone who oversees its
/// channel, may transfer, close or reply in it. A session in the bot,
/// queue or offer stage is nobody's yet; the core's own rules decide.
pub(super) fn holder_allows(
    router: &Router,
    actor: Actor,
    event: &Event,
) -> Result<(), EngineError> {
    let session = match *event {
        Event::AgentMessage { session, .. }
        | Event::TransferToAgent { session, .. }
        | Event::TransferToQueue { session, .. }
        | Event::Close { session } => session,
        _ => return Ok(()),
    };
    if actor.oversees {
        return Ok(());
    }
    let Some(s) = router.session(session) else {
        return Ok(());
    };
    match s.holder {
        Some(holder)
            if holder != AgentId(actor.user)
                && !matches!(s.state, State::Bot | State::Queued | State::Offered) =>
        {
            Err(EngineError::Refused(
                frontdesk_routing::Error::AlreadyTaken { session, holder },
            ))
        }
        _ => Ok(()),
    }
}
