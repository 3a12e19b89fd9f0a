//! The widget's script, embedded in the binary: no Node at build time.

use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;

/// `host/assets/widget/widget.js`, served as `/widget.js`.
const WIDGET_JS: &str = include_str!("../../../assets/widget/widget.js");

pub async fn widget_js() -> impl IntoResponse {
    let (name, value) = super::no_cache();
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/javascript; charset=utf-8"),
            ),
            (name, value),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        WIDGET_JS,
    )
}
