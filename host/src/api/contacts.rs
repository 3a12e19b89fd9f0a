//! Contacts (C1): known customers, visible to the people of their channels.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiError, ApiJson, ApiPath, ApiQuery, AppState, Caller, ErrorBody};
use crate::contacts::normalize;
use crate::store::{Contact, Erasure, NewContact, Role};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_contacts, create_contact))
        .routes(routes!(get_contact, erase_contact))
        .routes(routes!(merge_contact))
        .routes(routes!(export_contact))
}

/// Which contact to fold into this one.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Merge {
    /// The other record of the same customer; it is deleted by the merge.
    pub from: i64,
}

/// C1: one customer writing from two places (say Telegram and email) ends
/// up as one contact. The other contact's channel identities, sessions,
/// leads and consent move here, empty fields here are filled from it, and
/// it is deleted. The caller must be able to see both. Audited (P4).
#[utoipa::path(post, path = "/contacts/{id}/merge", tag = "contacts", params(("id" = i64, Path)),
    request_body = Merge,
    responses((status = 200, body = Contact), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn merge_contact(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(merge): ApiJson<Merge>,
) -> Result<Json<Contact>, ApiError> {
    if merge.from == id {
        return Err(ApiError::invalid(
            "a contact cannot be merged into itself: `from` must name another contact",
        ));
    }
    for contact in [id, merge.from] {
        state
            .store
            .contact(caller.viewer(), contact)
            .await?
            .ok_or_else(|| ApiError::not_found("contact", contact))?;
    }
    let merged = state
        .store
        .merge_contacts(caller.0.id, id, merge.from, state.clock.now())
        .await?
        .ok_or_else(|| ApiError::not_found("contact", merge.from))?;
    Ok(Json(merged))
}

/// Search and paging for contacts.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ContactQuery {
    /// Substring of the name, email or phone.
    pub q: Option<String>,
    /// At most this many (default 100, at most 500).
    pub limit: Option<i64>,
}

/// Contacts the caller may see.
#[utoipa::path(get, path = "/contacts", tag = "contacts", params(ContactQuery),
    responses((status = 200, body = Vec<Contact>)))]
async fn list_contacts(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<ContactQuery>,
) -> Result<Json<Vec<Contact>>, ApiError> {
    let limit = query.limit.unwrap_or(100).clamp(1, 500);
    Ok(Json(
        state
            .store
            .list_contacts(caller.viewer(), query.q.as_deref(), limit)
            .await?,
    ))
}

/// Records a contact. Nobody becomes its responsible agent by creating it
/// (R14, C4): an admin may name anyone, a supervisor an agent of their
/// channels' queues; agents may name nobody, since responsibility routes a
/// contact's sessions in every channel to that agent.
#[utoipa::path(post, path = "/contacts", tag = "contacts", request_body = NewContact,
    responses((status = 201, body = Contact), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn create_contact(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(mut new): ApiJson<NewContact>,
) -> Result<(StatusCode, Json<Contact>), ApiError> {
    if new.name.trim().is_empty() {
        return Err(ApiError::invalid("name must not be empty"));
    }
    // C1: stored as matched, so a later message from `Ada@Example.org` finds it.
    new.email = normalize::checked_email(new.email.as_deref())
        .map_err(|e| ApiError::invalid(e.to_string()))?;
    new.phone = normalize::checked_phone(new.phone.as_deref())
        .map_err(|e| ApiError::invalid(e.to_string()))?;
    if let Some(responsible) = new.responsible_user_id {
        match caller.0.role {
            Role::Admin => {}
            Role::Supervisor => {
                let theirs = super::live::colleague_ids(&state, caller.viewer())
                    .await?
                    .is_none_or(|ids| ids.contains(&responsible));
                if !theirs {
                    return Err(ApiError::invalid(format!(
                        "responsible_user_id {responsible} is not an agent of your channels' queues; \
                         name one of them, or ask an admin"
                    )));
                }
            }
            Role::Agent => {
                return Err(ApiError::Forbidden(
                    "agents cannot choose who is responsible for a contact (R14): an agent becomes \
                     responsible by taking or being transferred the contact's session; \
                     leave responsible_user_id out, or ask a supervisor"
                        .into(),
                ));
            }
        }
    }
    Ok((
        StatusCode::CREATED,
        Json(state.store.create_contact(&new, state.clock.now()).await?),
    ))
}

/// One contact, if the caller may see it.
#[utoipa::path(get, path = "/contacts/{id}", tag = "contacts", params(("id" = i64, Path)),
    responses((status = 200, body = Contact), (status = 404, body = ErrorBody)))]
async fn get_contact(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Contact>, ApiError> {
    let contact = state.store.contact(caller.viewer(), id).await?;
    Ok(Json(
        contact.ok_or_else(|| ApiError::not_found("contact", id))?,
    ))
}

/// Everything stored about a contact as one `.tar.gz` (GDPR art. 15, 20):
/// `export.json` (what is in it), `contact.json`, one `{table}.json` per
/// table with rows naming them or their sessions (`contact_identities`,
/// `contact_consents`, `sessions`, `session_events`, `messages`,
/// `attachments` metadata, `ratings`, `leads`, `outbox`, `bot_sessions`,
/// ...), and the attachments' bytes under `attachments/`. Admins only.
#[utoipa::path(get, path = "/contacts/{id}/export", tag = "contacts", params(("id" = i64, Path)),
    responses((status = 200, content_type = "application/gzip", body = Vec<u8>,
        description = "a .tar.gz of JSON files and the attachments' bytes"),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn export_contact(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Response, ApiError> {
    caller.require(&[Role::Admin], "exporting a contact's data")?;
    let export = state
        .store
        .contact_export(id)
        .await?
        .ok_or_else(|| ApiError::not_found("contact", id))?;
    let now = state.clock.now();
    let body = tokio::task::spawn_blocking(move || export_archive(id, &export, now))
        .await
        .map_err(|e| ApiError::Internal(format!("the export task failed: {e}")))?
        .map_err(|e| ApiError::Internal(format!("writing the export: {e}")))?;
    let file = format!("attachment; filename=\"contact-{id}.tar.gz\"");
    let headers = [
        (CONTENT_TYPE, HeaderValue::from_static("application/gzip")),
        (
            CONTENT_DISPOSITION,
            HeaderValue::from_str(&file).unwrap_or(HeaderValue::from_static("attachment")),
        ),
        (CACHE_CONTROL, HeaderValue::from_static("private, no-store")),
    ];
    Ok((headers, body).into_response())
}

/// The export's `.tar.gz` bytes.
fn export_archive(
    id: i64,
    export: &crate::store::ContactExport,
    now: crate::store::Millis,
) -> std::io::Result<Vec<u8>> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    let mut add = |name: &str, bytes: &[u8]| {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_mtime((now / 1000).max(0) as u64);
        tar.append_data(&mut header, name, bytes)
    };
    let rows: std::collections::BTreeMap<&String, usize> =
        export.tables.iter().map(|(t, r)| (t, r.len())).collect();
    let index = serde_json::json!({
        "contact_id": id,
        "exported_at": now,
        "rows": rows,
        "attachment_files": export.files.len(),
        "note": "contact.json is the contact; every other {table}.json holds the rows of that table \
                 naming the contact or one of their sessions; attachments/ holds the files' bytes",
    });
    add("export.json", &serde_json::to_vec_pretty(&index)?)?;
    for (table, rows) in &export.tables {
        let (name, value) = match (table.as_str(), rows.as_slice()) {
            ("contacts", [contact]) => ("contact.json".to_string(), contact.clone()),
            _ => (
                format!("{table}.json"),
                serde_json::Value::from(rows.clone()),
            ),
        };
        add(&name, &serde_json::to_vec_pretty(&value)?)?;
    }
    for (attachment, file_name, bytes) in &export.files {
        // The provider's file name, reduced to characters safe in a path.
        let safe: String = file_name
            .as_deref()
            .unwrap_or("file")
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "._-".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        add(&format!("attachments/{attachment}-{safe}"), bytes)?;
    }
    tar.into_inner()?.finish()
}

/// What an erasure removed, per table (plus `attachment_bytes`).
#[derive(Debug, Serialize, ToSchema)]
pub struct Erased {
    pub contact_id: i64,
    /// Rows removed per table (`messages`, `attachments`, `outbox`,
    /// `failed_inbound`, `plugin_kv`, ...) and `attachment_bytes`.
    pub removed: std::collections::BTreeMap<String, u64>,
}

/// Erases a contact everywhere (GDPR art. 17): their sessions with every
/// message, attachment (bytes too), event, rating, lead and unsent outbox
/// item, their identities and consent, failed inbound requests and plugin kv
/// entries that hold one of their identities, email or phone, and the
/// contact. Refused (409) while one of their sessions is not closed. Keeps
/// an audit entry (`contact.erase`) with the counts only. Admins only.
#[utoipa::path(delete, path = "/contacts/{id}", tag = "contacts", params(("id" = i64, Path)),
    responses((status = 200, body = Erased), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "one of their sessions is still open")))]
async fn erase_contact(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Erased>, ApiError> {
    caller.require(&[Role::Admin], "erasing a contact")?;
    match state
        .store
        .erase_contact(caller.0.id, id, state.clock.now())
        .await?
    {
        Erasure::NotFound => Err(ApiError::not_found("contact", id)),
        Erasure::OpenSessions(open) => Err(ApiError::Conflict(format!(
            "contact {id} has sessions that are not closed ({open:?}); close them first, then erase the contact"
        ))),
        Erasure::Erased(removed) => Ok(Json(Erased {
            contact_id: id,
            removed,
        })),
    }
}
