//! Plugins through the admin API (B2, O4, O5, P4, X2).
//!
//! The running server's plugin host does the work, so an upgrade or rollback
//! here switches every channel of that plugin at its next call, with no
//! restart. Package paths are on the server's own disk.

use std::path::PathBuf;

use axum::Json;
use axum::extract::State;
use frontdesk_plugin_host::{Package, PluginHost, PluginInfo};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiError, ApiJson, ApiPath, AppState, Caller, ErrorBody};
use crate::store::Role;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_plugins))
        .routes(routes!(install))
        .routes(routes!(upgrade))
        .routes(routes!(rollback))
        .routes(routes!(activate))
}

/// An installed plugin.
#[derive(Debug, Serialize, ToSchema)]
pub struct PluginView {
    pub name: String,
    /// `connector` or `bot`.
    pub kind: String,
    /// The version calls go to.
    pub active: String,
    pub versions: Vec<VersionView>,
    /// Why the plugin could not be loaded, if it could not.
    pub load_error: Option<String>,
    /// The active version's channel config, field by field (`type`,
    /// `required`, `secret`, `description`, `min`, `max`), for a settings form.
    #[schema(value_type = Object)]
    pub config: serde_json::Value,
}

/// One installed version.
#[derive(Debug, Serialize, ToSchema)]
pub struct VersionView {
    pub version: String,
    pub sha256: String,
    pub api: String,
    pub active: bool,
    /// Why calls to it are stopped, if they are.
    pub quarantine: Option<String>,
}

fn view(host: &PluginHost, p: PluginInfo) -> PluginView {
    let config = host
        .manifest(&p.name)
        .and_then(|m| serde_json::to_value(m.config).ok())
        .unwrap_or_else(|| serde_json::json!({}));
    PluginView {
        config,
        name: p.name,
        kind: format!("{:?}", p.kind).to_lowercase(),
        active: p.active,
        versions: p
            .versions
            .into_iter()
            .map(|v| VersionView {
                version: v.version,
                sha256: v.sha256,
                api: v.api,
                active: v.active,
                quarantine: v.quarantine.map(|q| format!("{q:?}")),
            })
            .collect(),
        load_error: p.load_error,
    }
}

fn host(state: &AppState) -> Result<PluginHost, ApiError> {
    state
        .plugins
        .clone()
        .ok_or_else(|| ApiError::Unavailable("this server runs without a plugin directory".into()))
}

/// Runs a blocking registry change off the async threads and audits it.
async fn change<T: Send + 'static>(
    state: &AppState,
    caller: &Caller,
    action: &str,
    target: &str,
    work: impl FnOnce(PluginHost) -> Result<T, String> + Send + 'static,
) -> Result<T, ApiError> {
    caller.require(&[Role::Admin], "managing plugins")?;
    let host = host(state)?;
    let result = tokio::task::spawn_blocking(move || work(host))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(ApiError::invalid)?;
    let detail = serde_json::json!({});
    state
        .store
        .record_audit(caller.0.id, action, target, &detail, state.clock.now())
        .await?;
    Ok(result)
}

/// Installed plugins (admins only).
#[utoipa::path(get, path = "/plugins", tag = "plugins",
    responses((status = 200, body = Vec<PluginView>), (status = 403, body = ErrorBody)))]
async fn list_plugins(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<PluginView>>, ApiError> {
    caller.require(&[Role::Admin], "listing plugins")?;
    let host = host(&state)?;
    Ok(Json(
        host.list().into_iter().map(|p| view(&host, p)).collect(),
    ))
}

/// A package on the server: a `.tar.gz` archive, or a folder with `manifest.toml` and the `.wasm`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PackagePath {
    #[schema(value_type = String)]
    pub path: PathBuf,
}

fn read(path: &std::path::Path) -> Result<Package, String> {
    Package::open(path).map_err(|e| format!("{} is not a plugin package: {e}", path.display()))
}

/// Installs a package; the first version of a plugin becomes active (admins only).
#[utoipa::path(post, path = "/plugins/install", tag = "plugins", request_body = PackagePath,
    responses((status = 200, body = Vec<PluginView>), (status = 400, body = ErrorBody)))]
async fn install(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(package): ApiJson<PackagePath>,
) -> Result<Json<Vec<PluginView>>, ApiError> {
    let target = format!("package:{}", package.path.display());
    let list = change(&state, &caller, "plugin.install", &target, move |host| {
        host.install(&read(&package.path)?)
            .map_err(|e| e.to_string())?;
        Ok(host.list())
    })
    .await?;
    let host = host(&state)?;
    Ok(Json(list.into_iter().map(|p| view(&host, p)).collect()))
}

/// Installs a newer version and switches every channel to it (admins only; X2).
#[utoipa::path(post, path = "/plugins/upgrade", tag = "plugins", request_body = PackagePath,
    responses((status = 200, body = Vec<PluginView>), (status = 400, body = ErrorBody)))]
async fn upgrade(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(package): ApiJson<PackagePath>,
) -> Result<Json<Vec<PluginView>>, ApiError> {
    let target = format!("package:{}", package.path.display());
    let list = change(&state, &caller, "plugin.upgrade", &target, move |host| {
        host.upgrade(&read(&package.path)?)
            .map_err(|e| e.to_string())?;
        Ok(host.list())
    })
    .await?;
    let host = host(&state)?;
    Ok(Json(list.into_iter().map(|p| view(&host, p)).collect()))
}

/// Goes back to the version active before (admins only; X2).
#[utoipa::path(post, path = "/plugins/{name}/rollback", tag = "plugins", params(("name" = String, Path)),
    responses((status = 200, body = Vec<PluginView>), (status = 400, body = ErrorBody)))]
async fn rollback(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<Vec<PluginView>>, ApiError> {
    let target = format!("plugin:{name}");
    let list = change(&state, &caller, "plugin.rollback", &target, move |host| {
        host.rollback(&name).map_err(|e| e.to_string())?;
        Ok(host.list())
    })
    .await?;
    let host = host(&state)?;
    Ok(Json(list.into_iter().map(|p| view(&host, p)).collect()))
}

/// Which version to make active.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Activate {
    pub version: String,
}

/// Makes an installed version active (admins only).
#[utoipa::path(post, path = "/plugins/{name}/activate", tag = "plugins", params(("name" = String, Path)),
    request_body = Activate, responses((status = 200, body = Vec<PluginView>), (status = 400, body = ErrorBody)))]
async fn activate(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
    ApiJson(body): ApiJson<Activate>,
) -> Result<Json<Vec<PluginView>>, ApiError> {
    let target = format!("plugin:{name}");
    let list = change(&state, &caller, "plugin.activate", &target, move |host| {
        host.activate(&name, &body.version)
            .map_err(|e| e.to_string())?;
        Ok(host.list())
    })
    .await?;
    let host = host(&state)?;
    Ok(Json(list.into_iter().map(|p| view(&host, p)).collect()))
}
