//! Contacts and leads (C1–C3): reading a contact, merging two records of
//! one customer, the consent answer a contact gave (G1), and the leads
//! agents and the ingest path create.

use async_trait::async_trait;
use serde::Serialize;
use utoipa::ToSchema;

use super::{ConsentRow, Contact, Lead, Millis, Result, Viewer};

/// C2: when a channel creates leads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LeadMode {
    /// A lead for every new customer who can be reached again (the default).
    #[default]
    Auto,
    /// Only when an agent clicks "create lead" in the chat.
    Manual,
    /// Never.
    Off,
}

/// C2: whether a customer can be reached again, and if not, why not.
pub fn unreachable_reason(
    source: &str,
    email: Option<&str>,
    phone: Option<&str>,
) -> Option<String> {
    // These networks let the business write first again later.
    let network_reaches = matches!(source, "telegram" | "facebook" | "messenger" | "email");
    if network_reaches || email.is_some() || phone.is_some() {
        None
    } else {
        Some(format!(
            "the customer wrote through {source} and left no email or phone, so they cannot be reached again (C2)"
        ))
    }
}

/// What asking for a session's lead came to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum LeadOutcome {
    /// A new lead.
    Created { lead: Lead },
    /// The session already had one; it is unchanged.
    Exists { lead: Lead },
    /// None was created, and why.
    Refused { reason: String },
}

/// Contacts, their consent answers (G1) and leads.
#[async_trait]
pub trait ContactStore: Send + Sync + 'static {
    /// C1: folds `merged` into `kept`: its channel identities, sessions,
    /// leads and consent move over, empty fields of `kept` are filled from
    /// it, and `merged` is deleted. Audited (P4). `None` if either is missing.
    async fn merge_contacts(
        &self,
        actor: i64,
        kept: i64,
        merged: i64,
        now: Millis,
    ) -> Result<Option<Contact>>;
    /// C2: creates the session's lead if the customer can be reached again;
    /// `created_by` is e.g. `agent:7`. A refusal is noted on the session.
    async fn create_lead(
        &self,
        session_id: i64,
        created_by: &str,
        now: Millis,
    ) -> Result<LeadOutcome>;
    /// C2: why the session has no lead, if that was noted.
    async fn lead_note(&self, session_id: i64) -> Result<Option<String>>;
    /// C2: one lead.
    async fn lead(&self, id: i64) -> Result<Option<Lead>>;
    /// A contact if the viewer may see it (P2), with its possible match (C1).
    async fn contact(&self, viewer: Viewer, id: i64) -> Result<Option<Contact>>;
    /// G1: the contact's answer to the consent notice, if they gave one.
    async fn consent(&self, contact_id: i64) -> Result<Option<ConsentRow>>;
    /// G1: records the contact's answer, replacing an earlier one.
    async fn set_consent(&self, contact_id: i64, answer: &ConsentRow) -> Result<()>;
}
