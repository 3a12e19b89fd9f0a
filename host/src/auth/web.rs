//! The browser's session (P5): an `HttpOnly`, `SameSite=Strict` cookie that
//! names a server-side session, and a CSRF token the page echoes back.
//!
//! The session cookie is random and stored only as a hash, so a copy of the
//! database signs nobody in. `SameSite=Strict` already keeps other sites'
//! requests from carrying it; the CSRF token (a readable cookie the page
//! copies into `X-CSRF-Token`, checked against the session's own) is the
//! second lock, for browsers or proxies that get SameSite wrong.

use axum::http::header::COOKIE;
use axum::http::{HeaderMap, HeaderValue};
use cookie::{Cookie, SameSite};

use crate::store::Millis;

/// The session cookie; `HttpOnly`, so page scripts never see it.
pub const SESSION_COOKIE: &str = "frontdesk_session";
/// The CSRF token cookie; readable by the console's scripts on purpose.
pub const CSRF_COOKIE: &str = "frontdesk_csrf";
/// The header a cookie-signed-in request that changes something must carry.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// How long a browser session lasts from sign-in: a working day and some.
pub const SESSION_TTL_MS: Millis = 12 * 3_600_000;

/// The value of cookie `name` in a request, if it sent one.
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|cookie| cookie.name() == name)
        .map(|cookie| cookie.value().to_string())
}

/// The two `Set-Cookie` values that sign a browser in.
pub fn sign_in_cookies(session: &str, csrf: &str, secure: bool) -> [HeaderValue; 2] {
    let max_age = cookie::time::Duration::milliseconds(SESSION_TTL_MS);
    [
        build(SESSION_COOKIE, session, true, secure, max_age),
        build(CSRF_COOKIE, csrf, false, secure, max_age),
    ]
}

/// The two `Set-Cookie` values that make the browser forget the session.
pub fn sign_out_cookies(secure: bool) -> [HeaderValue; 2] {
    let gone = cookie::time::Duration::ZERO;
    [
        build(SESSION_COOKIE, "", true, secure, gone),
        build(CSRF_COOKIE, "", false, secure, gone),
    ]
}

fn build(
    name: &'static str,
    value: &str,
    http_only: bool,
    secure: bool,
    max_age: cookie::time::Duration,
) -> HeaderValue {
    let cookie = Cookie::build((name, value.to_string()))
        .path("/")
        .http_only(http_only)
        .secure(secure)
        .same_site(SameSite::Strict)
        .max_age(max_age)
        .build();
    HeaderValue::from_str(&cookie.to_string()).expect("cookie values are URL-safe base64 or hex")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_strict_and_the_session_is_http_only() {
        let [session, csrf] = sign_in_cookies("abc", "def", true);
        let session = session.to_str().unwrap();
        assert!(session.starts_with("frontdesk_session=abc"));
        assert!(session.contains("HttpOnly") && session.contains("SameSite=Strict"));
        assert!(session.contains("Secure") && session.contains("Max-Age=43200"));
        assert!(!csrf.to_str().unwrap().contains("HttpOnly"));
    }

    #[test]
    fn finds_a_cookie_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            COOKIE,
            HeaderValue::from_static("a=1; frontdesk_session=xyz; b=2"),
        );
        assert_eq!(
            cookie_value(&headers, SESSION_COOKIE).as_deref(),
            Some("xyz")
        );
        assert_eq!(cookie_value(&headers, CSRF_COOKIE), None);
    }
}
