//! The relay behind the plugins' `smtp` import: lettre's async SMTP client.
//!
//! The relay is named by a URL (`--smtp-relay`): `smtp://host:port` (plain,
//! for a relay on loopback or a private network), `smtp://host:587?tls=required`
//! (STARTTLS), `smtps://user:pass@host:465` (implicit TLS with login).
//! A 5xx answer is final ([`MailError::Rejected`]); a 4xx, a timeout or a
//! connection failure is [`MailError::Transient`], so the outbox tries again.

use std::time::Duration;

use frontdesk_plugin_host::{MailError, Mailer};
use lettre::address::{Address, Envelope};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

/// How long one relay conversation may take before it counts as failed.
const RELAY_TIMEOUT: Duration = Duration::from_secs(30);

/// Why the relay URL could not be used.
#[derive(Debug, thiserror::Error)]
#[error(
    "invalid --smtp-relay URL {url:?}: {why}; use smtp://HOST:PORT, smtp://HOST:587?tls=required or smtps://USER:PASS@HOST:465"
)]
pub struct RelayUrlError {
    url: String,
    why: String,
}

/// A [`Mailer`] sending through one SMTP relay.
pub struct SmtpRelay {
    transport: AsyncSmtpTransport<Tokio1Executor>,
}

impl SmtpRelay {
    /// A relay from its URL; nothing connects until the first mail. Call it
    /// inside the tokio runtime: the connection pool starts a task.
    pub fn from_url(url: &str) -> Result<SmtpRelay, RelayUrlError> {
        // lettre's rustls uses the process-wide provider; ring is ours.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let builder =
            AsyncSmtpTransport::<Tokio1Executor>::from_url(url).map_err(|e| RelayUrlError {
                url: redact(url),
                why: e.to_string(),
            })?;
        Ok(SmtpRelay {
            transport: builder.timeout(Some(RELAY_TIMEOUT)).build(),
        })
    }

    /// Connects, greets (EHLO, then STARTTLS and AUTH as the URL asks) and
    /// sends NOOP, without mailing anything: `frontdesk check`'s probe.
    pub async fn probe(&self) -> Result<(), String> {
        match self.transport.test_connection().await {
            Ok(true) => Ok(()),
            Ok(false) => Err("the relay greeted but did not answer NOOP".into()),
            Err(e) => Err(e.to_string()),
        }
    }
}

/// The URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}://***@{}", &url[..scheme], &url[at + 1..])
        }
        _ => url.to_string(),
    }
}

fn address(text: &str) -> Result<Address, MailError> {
    text.parse()
        .map_err(|e| MailError::Rejected(format!("{text:?} is not a valid address: {e}")))
}

/// Sorts a relay failure into final and worth-retrying.
fn classify(error: lettre::transport::smtp::Error) -> MailError {
    if error.is_permanent() {
        MailError::Rejected(error.to_string())
    } else {
        // 4xx, timeouts, refused connections, TLS trouble: the relay may be
        // back later, and the outbox keeps the message until then.
        MailError::Transient(error.to_string())
    }
}

#[async_trait::async_trait]
impl Mailer for SmtpRelay {
    async fn send(
        &self,
        mail_from: &str,
        rcpt_to: &[String],
        message: &[u8],
    ) -> Result<(), MailError> {
        let from = if mail_from.is_empty() {
            None
        } else {
            Some(address(mail_from)?)
        };
        let to = rcpt_to
            .iter()
            .map(|r| address(r))
            .collect::<Result<Vec<_>, _>>()?;
        let envelope =
            Envelope::new(from, to).map_err(|e| MailError::Rejected(format!("envelope: {e}")))?;
        self.transport
            .send_raw(&envelope, message)
            .await
            .map(|_| ())
            .map_err(classify)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The connection pool starts a task, so even building needs a runtime.
    #[tokio::test]
    async fn bad_urls_are_explained_without_the_password() {
        let err = SmtpRelay::from_url("ftp://user:secret@host")
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("smtp://HOST:PORT"), "{err}");
        assert!(!err.contains("secret"), "{err}");
        assert!(SmtpRelay::from_url("smtp://127.0.0.1:2525").is_ok());
    }

    #[tokio::test]
    async fn a_relay_that_is_down_is_transient() {
        // Bind and drop: the port is closed when the relay connects.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let relay = SmtpRelay::from_url(&format!("smtp://127.0.0.1:{port}")).unwrap();
        let result = relay
            .send(
                "help@shop.test",
                &["bob@example.org".into()],
                b"Subject: x\r\n\r\nhi\r\n",
            )
            .await;
        assert!(matches!(result, Err(MailError::Transient(_))), "{result:?}");
        let bad = relay
            .send("help@shop.test", &["not an address".into()], b"x")
            .await;
        assert!(matches!(bad, Err(MailError::Rejected(_))), "{bad:?}");
    }
}
