//! The network part of `frontdesk check`: listen addresses, the public
//! URL and the SMTP relay.

use std::io::ErrorKind;
use std::time::Duration;

use super::{Report, redact};
use crate::mail::SmtpRelay;

/// Whether `serve` could bind `addr` now (port 0 always can).
pub(super) fn listen(topic: &'static str, flag: &str, addr: &str, report: &mut Report) {
    match std::net::TcpListener::bind(addr) {
        Ok(_) => report.ok(topic, format!("{addr} is free to bind")),
        Err(err) if err.kind() == ErrorKind::AddrInUse => report.warn(
            topic,
            format!("{addr} is in use now"),
            format!("nothing if frontdesk is running there; otherwise another program holds it: stop it or change {flag}"),
        ),
        Err(err) if err.kind() == ErrorKind::PermissionDenied => report.fail(
            topic,
            format!("no permission to bind {addr}: {err}"),
            format!("use a port above 1023 for {flag} and let the reverse proxy take 443 (docs/deployment.md)"),
        ),
        Err(err) => report.fail(
            topic,
            format!("cannot bind {addr}: {err}"),
            format!("{flag} takes HOST:PORT with an address of this machine, e.g. 127.0.0.1:8080"),
        ),
    }
}

/// The public URL's form, and on request whether it reaches this server.
pub(super) async fn public_url(
    raw: Option<&str>,
    listen: &str,
    reach: bool,
    timeout: Duration,
    report: &mut Report,
) {
    const TOPIC: &str = "public url";
    let Some(raw) = raw else {
        report.warn(
            TOPIC,
            format!("not set: links, webhook registrations and cookies use http://{listen}, which only people reaching this machine directly can open"),
            "pass --public-url https://support.example.com (FRONTDESK_PUBLIC_URL): the address people and providers reach",
        );
        return;
    };
    let url = match url::Url::parse(raw) {
        Ok(url) => url,
        Err(err) => {
            report.fail(
                TOPIC,
                format!("{raw:?} is not a URL: {err}"),
                "write it whole, e.g. https://support.example.com",
            );
            return;
        }
    };
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        report.fail(
            TOPIC,
            format!("{raw:?} is not an http:// or https:// URL with a host"),
            "e.g. https://support.example.com",
        );
        return;
    }
    if url.query().is_some() || url.fragment().is_some() || url.path() != "/" {
        report.warn(
            TOPIC,
            format!("{raw:?} has a path, query or fragment; frontdesk adds /hooks/..., /console/... to it"),
            "frontdesk serves from the root of its host name: give the proxy a host of its own and drop the rest",
        );
    }
    let local = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    if url.scheme() == "http" && !local {
        report.warn(
            TOPIC,
            format!("{raw} is not https: passwords, tokens and cookies cross the network readable, and cookies lack the Secure flag"),
            "put a TLS reverse proxy in front (deploy/nginx.conf, docs/deployment.md) and use https://",
        );
    } else {
        report.ok(TOPIC, format!("{raw} is well-formed"));
    }
    if reach {
        reach_healthz(raw, timeout, report).await;
    }
}

/// Fetches `{public url}/healthz` as someone outside would.
async fn reach_healthz(public_url: &str, timeout: Duration, report: &mut Report) {
    const TOPIC: &str = "public url";
    let _ = rustls::crypto::ring::default_provider().install_default();
    let healthz = format!("{}/healthz", public_url.trim_end_matches('/'));
    let client = match reqwest::Client::builder().timeout(timeout).build() {
        Ok(client) => client,
        Err(err) => {
            report.fail(
                TOPIC,
                format!("cannot make an HTTP client: {err}"),
                "report this as a bug",
            );
            return;
        }
    };
    match client.get(&healthz).send().await {
        Ok(answer) if answer.status().is_success() => {
            report.ok(TOPIC, format!("{healthz} answered {}", answer.status()));
        }
        Ok(answer) => {
            let status = answer.status();
            let body: String = answer.text().await.unwrap_or_default().chars().take(200).collect();
            report.fail(
                TOPIC,
                format!("{healthz} answered {status}: {body}"),
                "503 is frontdesk's own health answer (docs/operations.md#health); 502 or 504 means the proxy cannot reach --listen",
            );
        }
        Err(err) => report.fail(
            TOPIC,
            format!("cannot reach {healthz}: {}", error_chain(&err)),
            "is frontdesk running, does the name resolve to the proxy, is the proxy forwarding to --listen, and is its certificate valid?",
        ),
    }
}

/// The relay: connects, greets and logs in as its URL says, sending nothing.
pub(super) async fn smtp_relay(
    raw: Option<&str>,
    mail_from: &str,
    timeout: Duration,
    report: &mut Report,
) {
    const TOPIC: &str = "smtp relay";
    let Some(raw) = raw else {
        report.ok(
            TOPIC,
            "not set: needed only for email channels' replies and mailed transcripts (--smtp-relay)",
        );
        return;
    };
    let relay = match SmtpRelay::from_url(raw) {
        Ok(relay) => relay,
        Err(err) => {
            report.fail(
                TOPIC,
                err.to_string(),
                "correct --smtp-relay (FRONTDESK_SMTP_RELAY)",
            );
            return;
        }
    };
    let shown = redact(raw);
    match tokio::time::timeout(timeout, relay.probe()).await {
        Ok(Ok(())) => report.ok(TOPIC, format!("{shown} answered EHLO and NOOP")),
        Ok(Err(err)) => report.fail(
            TOPIC,
            format!("{shown}: {err}"),
            "check the host and port, the TLS mode (smtp://HOST:587?tls=required, smtps://HOST:465) and the user and password; is a firewall in the way?",
        ),
        Err(_) => report.fail(
            TOPIC,
            format!("{shown} did not answer within {timeout:?}"),
            "check the host and port; a firewall that drops packets looks like this",
        ),
    }
    match mail_from.parse::<lettre::Address>() {
        Err(err) => report.fail(
            "mail from",
            format!("{mail_from:?} is not an email address: {err}"),
            "set --mail-from (FRONTDESK_MAIL_FROM) to an address of your domain",
        ),
        Ok(address) if address.domain() == "localhost" => report.warn(
            "mail from",
            format!("{mail_from} is a localhost address: relays and receivers often refuse such senders"),
            "set --mail-from (FRONTDESK_MAIL_FROM) to an address of your domain, e.g. support@example.com",
        ),
        Ok(_) => report.ok("mail from", mail_from.to_string()),
    }
}

/// An error with its causes, which reqwest keeps apart.
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
