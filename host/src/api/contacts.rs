//! Contacts (C1): known customers, visible to the people of their channels.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiError, ApiJson, ApiPath, ApiQuery, AppState, Caller, ErrorBody};
use crate::contacts::normalize;
use crate::store::{Contact, NewContact, Role};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_contacts, create_contact))
        .routes(routes!(get_contact))
        .routes(routes!(merge_contact))
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
