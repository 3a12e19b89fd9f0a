//! The HTTP surface: webhooks, the REST API under `/api/v1`, `/healthz`, `/metrics`.
//!
//! [`app`] builds the whole router from an [`AppState`] with no socket, so
//! tests drive it with `oneshot`. What a request does is the application's
//! (`crate::app`); handlers parse, check the caller, call it and map its
//! `app::Error` to an [`ApiError`] (one `From`, in `error.rs`).

mod actions;
mod attachments;
mod bots;
mod channel_health;
mod channel_setup;
mod channels;
mod console;
mod contacts;
mod error;
mod extract;
mod failed_inbound;
mod hours;
mod leads;
mod live;
mod marketplace;
mod message_log;
mod openapi;
mod ops;
mod passwords;
mod plugins;
mod scripts;
mod sessions;
mod settings;
mod sign_in;
mod stats;
mod tokens;
mod totp;
mod transcripts;
mod users;
mod webchat;
mod webhooks;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::Uri;
use axum::response::IntoResponse;
use axum::routing::get;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

pub use error::{ApiError, BODY_LIMIT, ErrorBody};
pub use extract::{ApiJson, ApiPath, ApiQuery, Caller, Credential};
pub use sign_in::first_run_link;

use crate::app::App;
use crate::clock::ManualClock;

/// What every handler shares: the application, and what only HTTP needs.
///
/// Handlers reach the application's parts through it (`state.store`,
/// `state.engine`: it derefs to [`App`]); the use cases are `App`'s methods.
#[derive(Clone)]
pub struct AppState {
    pub app: App,
    pub metrics: crate::prometheus::Metrics,
    /// Set only when the server runs on a test clock (`FRONTDESK_TEST_CLOCK`).
    pub test_clock: Option<Arc<ManualClock>>,
    /// Rate limits (L1), shared by every request.
    pub limits: Arc<crate::limits::Limits>,
    /// A catalogue directory this server offers at `/catalogue/` (`--serve-catalogue`).
    pub served_catalogue: Option<Arc<std::path::Path>>,
}

impl AppState {
    /// HTTP over `app` with the default rate limits, no test clock and no
    /// served catalogue.
    pub fn new(app: App) -> Self {
        let limits = crate::limits::Limits::new(Default::default(), Default::default());
        limits.sweep_under(&app.workers);
        AppState {
            app,
            metrics: crate::prometheus::Metrics::get(),
            test_clock: None,
            limits,
            served_catalogue: None,
        }
    }
}

impl std::ops::Deref for AppState {
    type Target = App;

    fn deref(&self) -> &App {
        &self.app
    }
}

/// The whole HTTP app.
pub fn app(state: AppState) -> Router {
    let v1 = OpenApiRouter::new()
        .merge(users::routes())
        .merge(sign_in::routes())
        .merge(tokens::routes())
        .merge(totp::routes())
        .merge(channels::routes())
        .merge(channel_health::routes())
        .merge(contacts::routes())
        .merge(sessions::routes())
        .merge(attachments::routes())
        .merge(ops::admin_routes())
        .merge(actions::routes())
        .merge(scripts::routes())
        .merge(hours::routes())
        .merge(plugins::routes())
        .merge(marketplace::routes())
        .merge(settings::routes())
        .merge(failed_inbound::routes())
        .merge(bots::routes())
        .merge(leads::routes())
        .merge(live::routes())
        .merge(stats::routes())
        .merge(message_log::routes())
        .merge(transcripts::routes());
    let (api, mut openapi) = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .nest("/api/v1", v1)
        .split_for_parts();
    openapi::add_common_answers(&mut openapi);
    let openapi = Arc::new(openapi);
    let api = match &state.served_catalogue {
        Some(dir) => api.nest_service(
            crate::catalogue::SERVED_PATH,
            tower_http::services::ServeDir::new(dir.as_ref()),
        ),
        None => api,
    };
    api.route(
        "/api/v1/openapi.json",
        get(move || async move { axum::Json(openapi.as_ref().clone()) }),
    )
    .route("/api/v1/live", get(live::socket))
    .merge(webhooks::routes())
    .merge(webchat::routes())
    .merge(ops::routes())
    .merge(console::routes())
    .fallback(|uri: Uri| async move { ApiError::NoRoute(uri.path().to_string()) })
    .layer(DefaultBodyLimit::max(BODY_LIMIT))
    .layer(axum::middleware::map_response_with_state(
        state.clone(),
        ops::record_storage_fault,
    ))
    .layer(CatchPanicLayer::custom(|_| {
        ApiError::Internal("a handler panicked".into()).into_response()
    }))
    .layer(TraceLayer::new_for_http())
    .with_state(state)
}

#[cfg(test)]
mod tests;
