//! Failed inbound: authentic webhook requests the channel's connector could
//! not parse. The webhook keeps each one raw and answers the provider 200,
//! because Telegram holds back a chat's later updates while one keeps
//! failing; admins list them at `GET /api/v1/inbound/failed`.

use axum::Json;
use axum::extract::State;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiError, ApiQuery, AppState, Caller, ErrorBody};
use crate::store::{FailedInbound, Role};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_failed))
}

/// Which failed inbound requests to list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FailedQuery {
    /// Only this channel's.
    pub channel: Option<i64>,
    /// At most this many (default 100, at most 1000).
    pub limit: Option<i64>,
}

/// A webhook request kept because its connector could not parse it.
#[derive(Debug, Serialize, ToSchema)]
pub struct FailedInboundView {
    pub id: i64,
    pub channel_id: i64,
    /// When it arrived, Unix milliseconds.
    pub received_at: i64,
    /// What the connector said was wrong.
    pub reason: String,
    /// The request headers; credentials (secret tokens, signatures) are `<redacted>`.
    #[schema(value_type = Object)]
    pub headers: serde_json::Value,
    /// The body as text, when it is UTF-8.
    pub body: Option<String>,
    /// The body in standard base64, when it is not UTF-8.
    pub body_base64: Option<String>,
}

impl From<FailedInbound> for FailedInboundView {
    fn from(row: FailedInbound) -> Self {
        let (body, body_base64) = match String::from_utf8(row.body) {
            Ok(text) => (Some(text), None),
            Err(bytes) => (
                None,
                Some(base64::engine::general_purpose::STANDARD.encode(bytes.as_bytes())),
            ),
        };
        FailedInboundView {
            id: row.id,
            channel_id: row.channel_id,
            received_at: row.received_at,
            reason: row.reason,
            headers: serde_json::from_str(&row.headers).unwrap_or(serde_json::Value::Null),
            body,
            body_base64,
        }
    }
}

/// Authentic webhook requests a connector could not parse, newest first
/// (admins only). The provider was answered 200 for each, so nothing retries
/// them: this list is where they surface.
#[utoipa::path(get, path = "/inbound/failed", tag = "admin", params(FailedQuery),
    responses((status = 200, body = Vec<FailedInboundView>), (status = 403, body = ErrorBody)))]
async fn list_failed(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<FailedQuery>,
) -> Result<Json<Vec<FailedInboundView>>, ApiError> {
    caller.require(&[Role::Admin], "reading failed inbound requests")?;
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let rows = state.store.failed_inbound(q.channel, limit).await?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}
