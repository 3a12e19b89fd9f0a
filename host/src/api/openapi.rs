//! The OpenAPI document served at `/api/v1/openapi.json`: each handler's
//! `#[utoipa::path]` plus what every operation shares (bearer auth, and the
//! error answers any operation can give), so that what the server answers
//! is what the document says (checked by schemathesis, `tests/openapi.rs`).

use utoipa::OpenApi;
use utoipa::openapi::path::Operation;
use utoipa::openapi::{Content, Ref, RefOr, ResponseBuilder};

use super::ErrorBody;

#[derive(OpenApi)]
#[openapi(
    info(title = "frontdesk", description = "Open channels: sessions, queues, agents. Errors are {\"error\": {\"code\", \"message\"}}."),
    components(schemas(ErrorBody)),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
        openapi.security = Some(vec![utoipa::openapi::security::SecurityRequirement::new(
            "bearer",
            Vec::<String>::new(),
        )]);
    }
}

/// Adds the error answers every operation can give and its own
/// `#[utoipa::path]` leaves out; an answer it documents is kept as it is.
/// Runs on the finished document (a `Modify` would run before the routes
/// are merged in).
pub fn add_common_answers(openapi: &mut utoipa::openapi::OpenApi) {
    for item in openapi.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            add_to(operation);
        }
    }
}

fn add_to(operation: &mut Operation) {
    let takes_input = operation.parameters.as_ref().is_some_and(|p| !p.is_empty())
        || operation.request_body.is_some();
    let has_body = operation.request_body.is_some();
    let answers = [
        (
            "400",
            takes_input,
            "`invalid_json`, `invalid_query` or `invalid_input`: the body, the query or a path segment is malformed; the message names it",
        ),
        (
            "401",
            true,
            "`unauthorized`: no API token, an unknown one, or its user is disabled",
        ),
        (
            "403",
            true,
            "`forbidden`: the caller's role may not do this",
        ),
        ("413", has_body, "`payload_too_large`: over 1 MiB"),
        (
            "503",
            true,
            "`storage_unavailable` or `unavailable`: nothing was changed; try again after `Retry-After` seconds",
        ),
    ];
    let responses = &mut operation.responses.responses;
    for (status, applies, description) in answers {
        if applies && !responses.contains_key(status) {
            responses.insert(status.to_string(), error_answer(description));
        }
    }
}

fn error_answer(description: &str) -> RefOr<utoipa::openapi::Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                Content::new(Some(Ref::from_schema_name("ErrorBody"))),
            )
            .build(),
    )
}
