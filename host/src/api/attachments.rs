//! Attachment downloads (issue 6): the bytes of a stored attachment, for
//! users who may see its session (P1, P2).

use axum::body::Body;
use axum::extract::State;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_SECURITY_POLICY, CONTENT_TYPE,
    X_CONTENT_TYPE_OPTIONS,
};
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiError, ApiPath, AppState, Caller, ErrorBody};
use crate::store::AttachmentState;

/// No script, no subresources, and a sandbox with an opaque origin: an HTML
/// or SVG attachment opened in a browser tab cannot run anything or reach
/// the API with the viewer's credentials.
pub const ATTACHMENT_CSP: &str = "default-src 'none'; sandbox";

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(download))
}

/// Downloads an attachment's bytes, with the content type it was stored with.
///
/// Always as a download (`Content-Disposition: attachment`), never sniffed
/// (`X-Content-Type-Options: nosniff`), and under a CSP that runs no script.
/// An attachment of a session the caller may not see answers exactly like
/// one that does not exist (P2). One not fetched yet, or that could not be
/// fetched, answers 409 with its state.
#[utoipa::path(get, path = "/attachments/{id}", tag = "sessions",
    params(("id" = String, Path, description = "The attachment id from the messages list")),
    responses(
        (status = 200, description = "The file", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 404, body = ErrorBody),
        (status = 409, description = "Not fetched yet (`pending`) or not fetchable (`failed`)", body = ErrorBody)))]
async fn download(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    let file = state
        .store
        .attachment_file(caller.viewer(), &id)
        .await?
        .ok_or_else(|| ApiError::not_found("attachment", &id))?;
    let info = file.info;
    let data = match (info.state, file.data) {
        (AttachmentState::Stored, Some(data)) => data,
        (AttachmentState::Failed, _) => {
            return Err(ApiError::Conflict(format!(
                "attachment {id} could not be fetched: {}",
                info.error.as_deref().unwrap_or("no reason recorded")
            )));
        }
        _ => {
            return Err(ApiError::Conflict(format!(
                "attachment {id} is not fetched yet; try again in a moment"
            )));
        }
    };
    let content_type = info
        .mime_type
        .as_deref()
        .and_then(crate::attachments::content_type)
        .and_then(|t| HeaderValue::from_str(&t).ok())
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    let disposition = HeaderValue::from_str(&content_disposition(info.file_name.as_deref()))
        .unwrap_or(HeaderValue::from_static("attachment"));
    let mut response = Response::new(Body::from(data));
    *response.status_mut() = StatusCode::OK;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, content_type);
    headers.insert(CONTENT_DISPOSITION, disposition);
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(
        CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(ATTACHMENT_CSP),
    );
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
    Ok(response)
}

/// `attachment`, with the file name (its last path segment) as an ASCII
/// fallback and RFC 6266 / 5987 `filename*` for the exact UTF-8 name.
fn content_disposition(file_name: Option<&str>) -> String {
    let Some(name) = file_name
        .map(|n| n.rsplit(['/', '\\']).next().unwrap_or(n).trim())
        .filter(|n| !n.is_empty())
    else {
        return "attachment".to_string();
    };
    let fallback: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::new();
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&byte) {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::content_disposition;

    #[test]
    fn content_disposition_keeps_the_name_safe_and_exact() {
        assert_eq!(content_disposition(None), "attachment");
        assert_eq!(
            content_disposition(Some("../../etc/passwd")),
            "attachment; filename=\"passwd\"; filename*=UTF-8''passwd"
        );
        assert_eq!(
            content_disposition(Some("Grüße \"x\".pdf")),
            "attachment; filename=\"Gr__e _x_.pdf\"; filename*=UTF-8''Gr%C3%BC%C3%9Fe%20%22x%22.pdf"
        );
    }
}
