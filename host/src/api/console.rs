//! The agent console's files at `/console/`, embedded in the binary.
//!
//! Everything under `host/assets/console/` is compiled in (in debug builds
//! too, so `cargo build` alone gives a binary that serves it); there is no
//! build step and no Node toolchain. The pages talk only to `/api/v1`.
//!
//! Every file goes out with a strict Content-Security-Policy: scripts only
//! from this server and never inline, so even a customer's text that slipped
//! into the page as markup could not run (the console also only ever sets
//! customer text as text).

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use rust_embed::RustEmbed;

use super::{ApiError, AppState};

#[derive(RustEmbed)]
#[folder = "assets/console/"]
struct Assets;

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
     frame-ancestors 'none'; form-action 'self'";

/// `/console` and everything under `/console/`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/console",
            get(|| async { Redirect::permanent("/console/") }),
        )
        .route("/console/", get(|| async { file("index.html") }))
        .route(
            "/console/{*path}",
            get(|Path(path): Path<String>| async move { file(&path) }),
        )
}

fn file(path: &str) -> Response {
    let Some(asset) = Assets::get(path) else {
        return ApiError::NoRoute(format!("/console/{path}")).into_response();
    };
    let mut response = (StatusCode::OK, asset.data.into_owned()).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(path)),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    // Small files, and a new binary must show its own console at once.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("woff2") => "font/woff2",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_has_a_known_type() {
        for path in Assets::iter() {
            assert_ne!(
                content_type(&path),
                "application/octet-stream",
                "{path} would be served without a content type"
            );
        }
        assert!(Assets::get("index.html").is_some());
    }
}
