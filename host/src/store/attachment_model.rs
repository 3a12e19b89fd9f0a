//! Attachments of inbound messages: what ingest records, what the fetch
//! worker claims and finishes, and what the API lists and serves.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::kinds::{AttachmentKind, AttachmentState};
use super::model::Millis;

/// An attachment as a connector hands it over, stored with its message.
///
/// Its first state follows from what it carries: `data` is stored at once;
/// `refused` is failed with that reason; otherwise a `url` or
/// `provider_file_id` waits for the fetch worker, and with neither it is
/// failed (there is nothing to fetch).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NewAttachment {
    pub kind: AttachmentKind,
    pub file_name: Option<String>,
    /// The provider's declared content type.
    pub mime_type: Option<String>,
    /// The provider's declared size in bytes.
    pub declared_size: Option<i64>,
    /// Where the connector's `fetch-attachment` export finds the file.
    pub url: Option<String>,
    /// The provider's id for the file, for providers that name files by id.
    pub provider_file_id: Option<String>,
    /// The bytes, when the provider carried them in the message (email).
    #[serde(skip)]
    pub data: Option<Vec<u8>>,
    /// Why it will never be fetched (e.g. over the size cap): stored as failed.
    pub refused: Option<String>,
}

impl NewAttachment {
    /// The state it is stored in, and the reason when that is `failed`.
    pub fn initial_state(&self) -> (AttachmentState, Option<String>) {
        if let Some(why) = &self.refused {
            (AttachmentState::Failed, Some(why.clone()))
        } else if self.data.is_some() {
            (AttachmentState::Stored, None)
        } else if self.url.is_some() || self.provider_file_id.is_some() {
            (AttachmentState::Pending, None)
        } else {
            (
                AttachmentState::Failed,
                Some("the connector named no URL or file id to fetch it from".to_string()),
            )
        }
    }
}

/// An attachment as the messages API lists it; the bytes are served by
/// `GET /api/v1/attachments/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct AttachmentInfo {
    /// Unguessable (128 random bits); the id to download it by.
    pub id: String,
    #[serde(skip)]
    pub message_id: i64,
    pub kind: AttachmentKind,
    pub file_name: Option<String>,
    /// The fetched content type once stored; the provider's declared one before.
    pub mime_type: Option<String>,
    /// Bytes stored, or the provider's declared size before that.
    pub size: Option<i64>,
    /// `pending` (waiting for the fetch worker), `stored` or `failed`.
    pub state: AttachmentState,
    /// Why it failed, or the last fetch error while it is retried.
    pub error: Option<String>,
}

/// A pending attachment claimed by the fetch worker.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AttachmentJob {
    pub id: String,
    pub channel_id: i64,
    /// Fetch attempts made before this one.
    pub attempts: i64,
    pub kind: AttachmentKind,
    pub file_name: Option<String>,
    pub mime_type: Option<String>,
    pub declared_size: Option<i64>,
    pub url: Option<String>,
    pub provider_file_id: Option<String>,
}

/// How a fetch attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchOutcome {
    /// The bytes and their content type, stored for good.
    Stored { mime_type: String, data: Vec<u8> },
    /// Try again at `at`.
    Retry { at: Millis, error: String },
    /// Given up (a permanent refusal, over the size cap, or the last try).
    Failed { error: String },
}

/// An attachment's bytes for a download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentFile {
    pub info: AttachmentInfo,
    /// `None` unless the state is `stored`.
    pub data: Option<Vec<u8>>,
}
