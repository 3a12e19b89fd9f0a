//! Agents as the core sees them: employment status, shift, presence, idle time.

use serde::{Deserialize, Serialize};

use crate::ids::AgentId;
use crate::time::Timestamp;

/// What an admin or the agent themself sets: the inputs of R7, R13 and R15.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentStatus {
    /// Dismissed agents never get sessions, and R15 takes theirs away.
    pub dismissed: bool,
    /// On vacation: like dismissed, until they are back.
    pub vacation: bool,
    /// Clocked in for their shift (R7).
    pub clocked_in: bool,
    /// On a break (R7).
    pub on_break: bool,
}

/// An agent exactly as the core keeps it, and as the engine persists it
/// (`Command::SaveAgent`) and hands it back to `Router::restore`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentSnapshot {
    /// The agent.
    pub id: AgentId,
    /// Employment and shift status.
    pub status: AgentStatus,
    /// R12: console connected and active within the last 10 minutes.
    pub online: bool,
    /// R2: the later of their last reply and their last assignment. `None`
    /// (never) sorts before any time, so a new agent is the idlest.
    pub idle_since: Option<Timestamp>,
}

impl AgentSnapshot {
    /// A new agent: offline, never assigned.
    pub fn new(id: AgentId, status: AgentStatus) -> Self {
        Self {
            id,
            status,
            online: false,
            idle_since: None,
        }
    }
}
