//! The marketplace through the admin API (issue 17): browse the configured
//! catalogues, and approve an upgrade that asks for more permissions.
//! Installing from a catalogue is `POST /plugins/install {"name": ...}`.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::plugins::{PluginView, approver, change, host, views};
use super::{ApiError, ApiJson, ApiPath, AppState, Caller, ErrorBody};
use crate::catalogue::Entry;
use crate::store::Role;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(browse))
        .routes(routes!(approve))
}

/// One configured catalogue and whether it could be read.
#[derive(Debug, Serialize, ToSchema)]
pub struct CatalogueSource {
    /// Its URL or directory, as configured (`--catalogue`).
    pub source: String,
    /// Why it could not be read, if it could not; its packages are then missing below.
    pub error: Option<String>,
}

/// A package a catalogue offers.
#[derive(Debug, Serialize, ToSchema)]
pub struct Offer {
    #[serde(flatten)]
    pub entry: Entry,
    /// The catalogue it is in.
    pub source: String,
    /// The version of this plugin installed and active here, if any.
    pub installed: Option<String>,
    /// Whether this server trusts the publisher who signed it; an
    /// untrusted one is refused at install.
    pub trusted: bool,
}

/// What the configured catalogues offer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Catalogue {
    pub catalogues: Vec<CatalogueSource>,
    /// Every package, by name then version.
    pub plugins: Vec<Offer>,
}

/// Browses the configured catalogues (admins only).
#[utoipa::path(get, path = "/plugins/catalogue", tag = "plugins",
    responses((status = 200, body = Catalogue), (status = 403, body = ErrorBody)))]
async fn browse(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Catalogue>, ApiError> {
    caller.require(&[Role::Admin], "browsing plugin catalogues")?;
    let market = state.marketplace.clone();
    let trusted = market.trusted().map_err(ApiError::Internal)?;
    let installed: std::collections::HashMap<String, String> = match &state.plugins {
        Some(host) => host
            .list()
            .into_iter()
            .map(|p| (p.name, p.active))
            .collect(),
        None => Default::default(),
    };
    let mut catalogues = Vec::new();
    let mut plugins = Vec::new();
    for (source, index) in market.indexes().await {
        match index {
            Ok(index) => {
                catalogues.push(CatalogueSource {
                    source: source.clone(),
                    error: None,
                });
                for entry in index.plugins {
                    plugins.push(Offer {
                        installed: installed.get(&entry.name).cloned(),
                        trusted: trusted.trusts_key(&entry.signature.key),
                        source: source.clone(),
                        entry,
                    });
                }
            }
            Err(error) => catalogues.push(CatalogueSource {
                source,
                error: Some(error),
            }),
        }
    }
    Ok(Json(Catalogue {
        catalogues,
        plugins,
    }))
}

/// The version whose permissions an admin approves.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Approve {
    pub version: String,
}

/// Approves the permissions of the version awaiting approval and makes it
/// active; the approval records who and when (admins only, audited).
#[utoipa::path(post, path = "/plugins/{name}/approve", tag = "plugins", params(("name" = String, Path)),
    request_body = Approve, responses((status = 200, body = Vec<PluginView>), (status = 400, body = ErrorBody)))]
async fn approve(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
    ApiJson(body): ApiJson<Approve>,
) -> Result<Json<Vec<PluginView>>, ApiError> {
    host(&state)?;
    let by = approver(&caller);
    let target = format!("plugin:{name}@{}", body.version);
    let list = change(
        &state,
        &caller,
        "plugin.approve",
        &target,
        serde_json::json!({}),
        move |host| {
            host.approve(&name, &body.version, &by)
                .map_err(|e| e.to_string())?;
            Ok(views(&host))
        },
    )
    .await?;
    Ok(Json(list))
}
