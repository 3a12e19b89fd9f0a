//! Plugins through the admin API (B2, O4, O5, P4, X2).
//!
//! The running server's plugin host does the work, so an upgrade or rollback
//! here switches every channel of that plugin at its next call, with no
//! restart. Package paths are on the server's own disk; a package may also
//! be named from the configured catalogues (issue 17, `marketplace.rs`).
//! Every install checks the publisher's signature against the trusted
//! publishers; an unsigned package needs `allow_unsigned` and is listed as such.

use std::path::PathBuf;

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use frontdesk_plugin_host::{Consent, Package, PluginHost, PluginInfo, PluginSource};
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
    /// Who signed the active version; `null` when it was installed unsigned.
    pub signed_by: Option<String>,
    /// Whether the active version was installed without a signature (never
    /// for a built-in plugin, which the binary itself carries).
    pub unsigned: bool,
    /// A newer version that asks for more permissions and waits for
    /// `POST /plugins/{name}/approve`; the active one serves meanwhile.
    pub awaiting_approval: Option<String>,
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
    /// The trusted publisher who signed it; `null`: unsigned.
    pub signed_by: Option<String>,
    /// Who approved its permissions (`user:ID (NAME)` or `cli:USER`); `null` if nobody has.
    pub approved_by: Option<String>,
    /// When, Unix milliseconds.
    pub approved_at_ms: Option<u64>,
    /// What it may do, one line each.
    pub permissions: Vec<String>,
}

pub(super) fn view(host: &PluginHost, p: PluginInfo) -> PluginView {
    let manifest = host.manifest(&p.name);
    let permissions = manifest
        .as_ref()
        .map(|m| m.permissions())
        .unwrap_or_default();
    let config = manifest
        .and_then(|m| serde_json::to_value(m.config).ok())
        .unwrap_or_else(|| serde_json::json!({}));
    let signed_by = p
        .versions
        .iter()
        .find(|v| v.active)
        .and_then(|v| v.signed_by.clone());
    PluginView {
        // A built-in plugin is vouched for by the binary, not a publisher.
        unsigned: signed_by.is_none() && p.source == PluginSource::Installed,
        signed_by,
        awaiting_approval: p.awaiting_approval,
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
                signed_by: v.signed_by,
                approved_by: v.approval.as_ref().map(|a| a.by.clone()),
                approved_at_ms: v.approval.map(|a| a.at_ms),
                permissions: v.permissions,
            })
            .collect(),
        load_error: p.load_error,
    }
}

/// Every installed plugin as admins see it.
pub(super) fn views(host: &PluginHost) -> Vec<PluginView> {
    host.list().into_iter().map(|p| view(host, p)).collect()
}

pub(super) fn host(state: &AppState) -> Result<PluginHost, ApiError> {
    state
        .plugins
        .clone()
        .ok_or_else(|| ApiError::Unavailable("this server runs without a plugin directory".into()))
}

/// Runs a blocking registry change off the async threads and audits it.
pub(super) async fn change<T: Send + 'static>(
    state: &AppState,
    caller: &Caller,
    action: &str,
    target: &str,
    detail: serde_json::Value,
    work: impl FnOnce(PluginHost) -> Result<T, String> + Send + 'static,
) -> Result<T, ApiError> {
    caller.require(&[Role::Admin], "managing plugins")?;
    let host = host(state)?;
    let result = tokio::task::spawn_blocking(move || work(host))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(ApiError::invalid)?;
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

/// A package to install: a path on the server (a `.tar.gz` archive, or a
/// folder with `manifest.toml` and the `.wasm`), or a plugin `name` (and
/// optionally `version`, else the newest) from the configured catalogues.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PackageSource {
    #[schema(value_type = Option<String>)]
    pub path: Option<PathBuf>,
    pub name: Option<String>,
    pub version: Option<String>,
    /// `true` to install a package without a publisher signature (it is
    /// then listed as unsigned); otherwise an unsigned package is refused.
    pub allow_unsigned: Option<bool>,
}

/// What an audit entry of an install records: whose signature it carried
/// and the permissions the caller approved.
fn consented(consent: &Consent, package: &Package) -> serde_json::Value {
    serde_json::json!({
        "signed_by": consent.signed_by,
        "permissions": package.manifest.permissions(),
    })
}

/// Who approves permissions through the API.
pub(super) fn approver(caller: &Caller) -> String {
    format!("user:{} ({})", caller.0.id, caller.0.name)
}

/// Reads, fetches and checks the package `source` names.
async fn obtain(
    state: &AppState,
    source: PackageSource,
) -> Result<crate::catalogue::Checked, ApiError> {
    let market = state.marketplace.clone();
    let allow_unsigned = source.allow_unsigned.unwrap_or(false);
    match (source.path, source.name) {
        (Some(path), None) => tokio::task::spawn_blocking(move || {
            let package = Package::open(&path)
                .map_err(|e| format!("{} is not a plugin package: {e}", path.display()))?;
            market.check(package, allow_unsigned)
        })
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(ApiError::invalid),
        (None, Some(name)) => {
            let (source, entry) = market
                .find(&name, source.version.as_deref())
                .await
                .map_err(ApiError::invalid)?;
            market
                .fetch(&source, &entry)
                .await
                .map_err(ApiError::invalid)
        }
        _ => Err(ApiError::invalid(
            "give either \"path\" (a package on the server) or \"name\" (from a catalogue), not both",
        )),
    }
}

/// Installs a package; the first version of a plugin becomes active; the
/// caller's approval of its permissions is recorded (admins only).
#[utoipa::path(post, path = "/plugins/install", tag = "plugins", request_body = PackageSource,
    responses((status = 200, body = Vec<PluginView>), (status = 400, body = ErrorBody)))]
async fn install(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(source): ApiJson<PackageSource>,
) -> Result<Json<Vec<PluginView>>, ApiError> {
    add_version(&state, &caller, source, Step::Install).await
}

/// Installs a newer version and switches every channel to it (admins only;
/// X2). One that asks for more permissions than the active version waits
/// for `POST /plugins/{name}/approve` (shown as `awaiting_approval`).
#[utoipa::path(post, path = "/plugins/upgrade", tag = "plugins", request_body = PackageSource,
    responses((status = 200, body = Vec<PluginView>), (status = 400, body = ErrorBody)))]
async fn upgrade(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(source): ApiJson<PackageSource>,
) -> Result<Json<Vec<PluginView>>, ApiError> {
    add_version(&state, &caller, source, Step::Upgrade).await
}

/// Whether a package is a plugin's first version or a newer one.
#[derive(Debug, Clone, Copy)]
enum Step {
    Install,
    Upgrade,
}

/// Checks a package's signature, records the caller's approval of its
/// permissions, and installs or upgrades it (audited as either).
async fn add_version(
    state: &AppState,
    caller: &Caller,
    source: PackageSource,
    step: Step,
) -> Result<Json<Vec<PluginView>>, ApiError> {
    caller.require(&[Role::Admin], "managing plugins")?;
    let checked = obtain(state, source).await?;
    let m = &checked.package.manifest;
    let target = format!("plugin:{}@{}", m.name, m.version);
    let consent = Consent {
        signed_by: checked.signed_by,
        approved_by: Some(approver(caller)),
    };
    let package = checked.package;
    let action = match step {
        Step::Install => "plugin.install",
        Step::Upgrade => "plugin.upgrade",
    };
    let list = change(
        state,
        caller,
        action,
        &target,
        consented(&consent, &package),
        move |host| {
            match step {
                Step::Install => host.install_with(&package, &consent).map(drop),
                Step::Upgrade => host.upgrade_with(&package, &consent).map(drop),
            }
            .map_err(|e| e.to_string())?;
            Ok(views(&host))
        },
    )
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
    let list = change(
        &state,
        &caller,
        "plugin.rollback",
        &target,
        serde_json::json!({}),
        move |host| {
            host.rollback(&name).map_err(|e| e.to_string())?;
            Ok(views(&host))
        },
    )
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
    let list = change(
        &state,
        &caller,
        "plugin.activate",
        &target,
        serde_json::json!({}),
        move |host| {
            host.activate(&name, &body.version)
                .map_err(|e| e.to_string())?;
            Ok(views(&host))
        },
    )
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
    /// `true` to accept a package without a publisher signature.
    pub allow_unsigned: Option<bool>,
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
    let market = state.marketplace.clone();
    let allow_unsigned = mode.allow_unsigned.unwrap_or(false);
    let checked = tokio::task::spawn_blocking(move || {
        let package = Package::from_archive(bytes.as_ref(), std::path::Path::new("upload.tar.gz"))
            .map_err(|e| format!("package: this is not a plugin package: {e}"))?;
        market
            .check(package, allow_unsigned)
            .map_err(|e| format!("package: {e}"))
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?
    .map_err(ApiError::invalid)?;
    let consent = Consent {
        signed_by: checked.signed_by,
        approved_by: Some(approver(&caller)),
    };
    let package = checked.package;
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
    let plugins = change(
        &state,
        &caller,
        action,
        &target,
        consented(&consent, &package),
        move |host| {
            let done = if upgrade {
                host.upgrade_with(&package, &consent).map(|_| ())
            } else {
                host.install_with(&package, &consent).map(|_| ())
            };
            done.map_err(|e| format!("package: {e}"))?;
            Ok(views(&host))
        },
    )
    .await?;
    Ok(Json(Uploaded {
        name,
        version,
        permissions,
        plugins,
    }))
}
