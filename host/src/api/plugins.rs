//! Plugins through the admin API (B2, O4, O5, P4, X2).
//!
//! The running server's plugin host does the work, so an upgrade or rollback
//! here switches every channel of that plugin at its next call, with no
//! restart. Package paths are on the server's own disk.

use std::path::PathBuf;

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use frontdesk_plugin_host::{Package, PluginHost, PluginInfo};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiError, ApiJson, ApiPath, ApiQuery, AppState, Caller, ErrorBody};
use crate::store::Role;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_plugins))
        .routes(routes!(install))
        .routes(routes!(upload))
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
    /// The active version's description.
    pub description: Option<String>,
    /// `installed` (by an admin) or `built-in` (carried by the server binary,
    /// used while nothing of that name is installed).
    pub source: String,
    /// The version the server binary carries, if it has this plugin built
    /// in; removing an installed plugin of that name falls back to it.
    pub builtin_version: Option<String>,
    /// What the active version may do, one line each (its manifest's
    /// capabilities); empty for none.
    pub permissions: Vec<String>,
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
    let manifest = host.manifest(&p.name);
    let permissions = manifest
        .as_ref()
        .map(|m| m.permissions())
        .unwrap_or_default();
    let config = manifest
        .and_then(|m| serde_json::to_value(m.config).ok())
        .unwrap_or_else(|| serde_json::json!({}));
    PluginView {
        permissions,
        config,
        description: p.description,
        source: p.source.as_str().to_string(),
        builtin_version: p.builtin_version,
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

/// Every installed plugin as admins see it.
fn views(host: &PluginHost) -> Vec<PluginView> {
    host.list().into_iter().map(|p| view(host, p)).collect()
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
    Ok(Json(views(&host(&state)?)))
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
        Ok(views(&host))
    })
    .await?;
    Ok(Json(list))
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
        Ok(views(&host))
    })
    .await?;
    Ok(Json(list))
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
        Ok(views(&host))
    })
    .await?;
    Ok(Json(list))
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
        Ok(views(&host))
    })
    .await?;
    Ok(Json(list))
}

/// The most an uploaded archive may weigh: what a package may unpack to.
const UPLOAD_LIMIT: usize = frontdesk_plugin_host::MAX_PACKAGE_BYTES as usize;

/// A plugin package's `.tar.gz` bytes, as the request body.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct PackageArchive(#[allow(dead_code)] Vec<u8>);

/// What to do with an uploaded package.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadMode {
    /// `true` to install it as a newer version and switch every channel to
    /// it (as `/plugins/upgrade`); otherwise it is installed (as
    /// `/plugins/install`), becoming active only if it is the first version.
    pub upgrade: Option<bool>,
}

/// What an upload installed, and every plugin after it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Uploaded {
    pub name: String,
    pub version: String,
    /// What it may do, one line each.
    pub permissions: Vec<String>,
    pub plugins: Vec<PluginView>,
}

/// Installs (or with `?upgrade=true` upgrades to) a package sent as the raw
/// `.tar.gz` body, e.g. from the settings page's file input (admins only,
/// audited as `plugin.install` or `plugin.upgrade`).
#[utoipa::path(post, path = "/plugins/upload", tag = "plugins", params(UploadMode),
    request_body(content = PackageArchive, content_type = "application/octet-stream",
        description = "The `.tar.gz` archive's bytes (any content type is read as such)"),
    responses((status = 200, body = Uploaded), (status = 400, body = ErrorBody),
        (status = 413, body = ErrorBody)))]
async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(mode): ApiQuery<UploadMode>,
    body: Body,
) -> Result<Json<Uploaded>, ApiError> {
    // Before reading a byte: only admins make the server unpack archives.
    caller.require(&[Role::Admin], "managing plugins")?;
    let bytes = axum::body::to_bytes(body, UPLOAD_LIMIT)
        .await
        .map_err(|e| {
            if std::error::Error::source(&e)
                .is_some_and(|s| s.is::<http_body_util::LengthLimitError>())
            {
                ApiError::PayloadTooLarge(UPLOAD_LIMIT)
            } else {
                ApiError::invalid(format!(
                    "package: the upload broke off ({e}); send it again"
                ))
            }
        })?;
    if bytes.is_empty() {
        return Err(ApiError::invalid(
            "package: the upload is empty; choose a .tar.gz plugin package",
        ));
    }
    let package = tokio::task::spawn_blocking(move || {
        Package::from_archive(bytes.as_ref(), std::path::Path::new("upload.tar.gz"))
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?
    .map_err(|e| ApiError::invalid(format!("package: this is not a plugin package: {e}")))?;
    let (name, version) = (
        package.manifest.name.clone(),
        package.manifest.version.to_string(),
    );
    let permissions = package.manifest.permissions();
    let upgrade = mode.upgrade.unwrap_or(false);
    let action = if upgrade {
        "plugin.upgrade"
    } else {
        "plugin.install"
    };
    let target = format!("plugin:{name}@{version}");
    let plugins = change(&state, &caller, action, &target, move |host| {
        let done = if upgrade {
            host.upgrade(&package)
        } else {
            host.install(&package)
        };
        done.map_err(|e| format!("package: {e}"))?;
        Ok(views(&host))
    })
    .await?;
    Ok(Json(Uploaded {
        name,
        version,
        permissions,
        plugins,
    }))
}
