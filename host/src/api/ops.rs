//! Operations: `/healthz`, `/metrics` (X4), and the admin views of the audit
//! log (P4) and the outbox (S5).

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::StorageFault;
use super::{ApiError, ApiPath, ApiQuery, AppState, Caller, ErrorBody};
use crate::store::{AuditEntry, AuditFilter, Fault, OutboxItem, Role};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
}

pub fn admin_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(audit))
        .routes(routes!(outbox))
        .routes(routes!(retry_outbox))
        .routes(routes!(advance_test_clock))
}

#[derive(Serialize)]
struct Health {
    /// `ok`; `degraded` while the database refuses writes; `routing_refused`
    /// on a node that neither routes nor can hand routing to the node that
    /// does (a second process on one SQLite file), so a load balancer keeps
    /// traffic off it. A PostgreSQL follower is `ok`: it forwards routing
    /// through the routing inbox (issue 18), so every node takes traffic.
    status: &'static str,
    database: &'static str,
    /// Set while the database refuses writes (S4): since when, and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    storage_fault: Option<Fault>,
    routing: Routing,
}

/// Whether this node runs the routing engine (one leader per database,
/// issue 18).
#[derive(Serialize)]
struct Routing {
    /// `leader` while this node routes, `follower` while another node does
    /// (or none can be sure to: see `reason`).
    role: &'static str,
    /// `active` (the leader), `following` (a follower that forwards to
    /// the leader), or `refused` (a follower that cannot).
    state: &'static str,
    /// Why a follower does not route: another node holds the lease, this
    /// node lost it or could not renew it in time.
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    /// The routing lease's fencing token this node last held (PostgreSQL).
    #[serde(skip_serializing_if = "Option::is_none")]
    token: Option<i64>,
}

/// 200 when the database answers and takes writes and this node routes or
/// forwards routing to the node that does; 503 with the reason otherwise,
/// so a load balancer drops the node. Once no
/// write has failed for a few seconds, each call tries a probe write, so a
/// storage fault clears as soon as the database takes writes again, even
/// when nothing else writes.
async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    if let Err(err) = state.store.ping().await {
        return ApiError::Unavailable(format!("the database does not answer: {err}"))
            .into_response();
    }
    let health = state.store.health();
    if health.fault().is_some_and(|fault| !fault.recent) {
        match state.store.probe_write(state.clock.now()).await {
            Ok(()) => health.recovered(),
            Err(err) => health.observe(&err),
        }
    }
    let storage_fault = health.fault();
    let refusal = state.engine.refusal();
    let forwards = state.engine.routes().is_ok();
    let (code, status) = match (&storage_fault, &refusal) {
        (Some(_), _) => (StatusCode::SERVICE_UNAVAILABLE, "degraded"),
        (None, Some(_)) if !forwards => (StatusCode::SERVICE_UNAVAILABLE, "routing_refused"),
        (None, _) => (StatusCode::OK, "ok"),
    };
    let (role, routing_state) = match (&refusal, forwards) {
        (Some(_), true) => ("follower", "following"),
        (Some(_), false) => ("follower", "refused"),
        (None, _) => ("leader", "active"),
    };
    let routing = Routing {
        role,
        state: routing_state,
        reason: refusal,
        token: state.engine.lease().token().filter(|t| *t > 0),
    };
    let body = Health {
        status,
        database: state.store.backend(),
        storage_fault,
        routing,
    };
    (code, Json(body)).into_response()
}

/// Tells the store's health of a request that failed on a storage fault.
pub(super) async fn record_storage_fault(
    State(state): State<AppState>,
    response: Response,
) -> Response {
    if let Some(StorageFault(detail)) = response.extensions().get::<StorageFault>() {
        state.store.health().failed(detail.clone());
    }
    response
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
}

/// How many rows to return.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Limit {
    /// At most this many (default 100, at most 1000).
    pub limit: Option<i64>,
    /// Only outbox items in this state: pending, sent or failed.
    pub state: Option<String>,
}

/// Which audit entries to list; every filter is optional.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// At most this many (default 100, at most 1000).
    pub limit: Option<i64>,
    /// Only changes made by this user id.
    pub actor: Option<i64>,
    /// Only this action (`user.status`), or every action under a prefix
    /// ending in `.` (`user.`).
    pub action: Option<String>,
    /// Only changes at or after this time, Unix milliseconds.
    pub since: Option<i64>,
    /// Only changes before this time, Unix milliseconds.
    pub until: Option<i64>,
}

/// The newest admin changes first, optionally filtered by who, what and
/// when (admins only, P4).
#[utoipa::path(get, path = "/audit", tag = "admin", params(AuditQuery),
    responses((status = 200, body = Vec<AuditEntry>), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
async fn audit(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> Result<Json<Vec<AuditEntry>>, ApiError> {
    caller.require(&[Role::Admin], "reading the audit log")?;
    if let (Some(since), Some(until)) = (q.since, q.until)
        && until <= since
    {
        return Err(ApiError::invalid(
            "until must be after since; swap the two times",
        ));
    }
    let action = q
        .action
        .map(|a| a.trim().to_string())
        .filter(|a| !a.is_empty());
    let filter = AuditFilter {
        actor_id: q.actor,
        action,
        since: q.since,
        until: q.until,
        limit: q.limit.unwrap_or(100).clamp(1, 1000),
    };
    Ok(Json(state.store.audit_search(&filter).await?))
}

/// Outbound messages, e.g. `?state=failed` for those that gave up (admins only, S5).
#[utoipa::path(get, path = "/outbox", tag = "admin", params(Limit),
    responses((status = 200, body = Vec<OutboxItem>), (status = 403, body = ErrorBody)))]
async fn outbox(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<Limit>,
) -> Result<Json<Vec<OutboxItem>>, ApiError> {
    caller.require(&[Role::Admin], "reading the outbox")?;
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    Ok(Json(
        state.store.list_outbox(q.state.as_deref(), limit).await?,
    ))
}

/// Sends a failed outbound message again, e.g. after its channel got the
/// `callback_url` it lacked (admins only, audited as `outbox.retry`, S5).
#[utoipa::path(post, path = "/outbox/{id}/retry", tag = "admin", params(("id" = i64, Path)),
    responses((status = 200, body = OutboxItem), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn retry_outbox(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<OutboxItem>, ApiError> {
    caller.require(&[Role::Admin], "sending an outbox item again")?;
    match state
        .store
        .retry_outbox(caller.0.id, id, state.clock.now())
        .await
    {
        Ok(Some(item)) => {
            state.outbox.notify_one();
            Ok(Json(item))
        }
        Ok(None) => Err(ApiError::Conflict(format!(
            "outbox item {id} has not failed (it is pending or sent); only failed items are sent again"
        ))),
        Err(crate::store::StoreError::NotFound(_)) => Err(ApiError::not_found("outbox item", id)),
        Err(err) => Err(err.into()),
    }
}

/// How far to move the test clock.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Advance {
    /// Milliseconds to move forward.
    pub advance_ms: i64,
}

/// The test clock's time after the move.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ClockNow {
    pub now: i64,
}

/// Moves the test clock forward (admins only; exists only on a server started
/// with `FRONTDESK_TEST_CLOCK`, so tests never wait real minutes).
#[utoipa::path(post, path = "/test/clock", tag = "admin", request_body = Advance,
    responses((status = 200, body = ClockNow), (status = 404, body = ErrorBody)))]
async fn advance_test_clock(
    State(state): State<AppState>,
    caller: Caller,
    crate::api::ApiJson(advance): crate::api::ApiJson<Advance>,
) -> Result<Json<ClockNow>, ApiError> {
    caller.require(&[Role::Admin], "moving the test clock")?;
    let clock = state.test_clock.as_ref().ok_or_else(|| {
        ApiError::NoRoute(
            "/api/v1/test/clock (start the server with FRONTDESK_TEST_CLOCK to enable it)".into(),
        )
    })?;
    if advance.advance_ms < 0 {
        return Err(ApiError::invalid(
            "advance_ms must not be negative: time only moves forward",
        ));
    }
    Ok(Json(ClockNow {
        now: clock.advance(advance.advance_ms),
    }))
}
