//! Capabilities granted by the manifest: HTTP to the configured provider,
//! per-channel secrets and kv, and config checked against the schema.

use std::sync::Arc;

use serde_json::json;

use super::guests::{self, echo_channel, echo_request, one_message};
use crate::types::{AttachmentKind, ConnectorError, OutboundMessage};
use crate::{
    CallError, ConfigError, FieldError, HostConfig, KvScope, KvStore, MemoryKv, PluginHost,
};

fn reply(chat: &str, text: &str) -> OutboundMessage {
    OutboundMessage {
        external_chat_id: chat.to_string(),
        outbox_id: "ob-1".to_string(),
        text: Some(text.to_string()),
        attachments: Vec::new(),
        quick_replies: Vec::new(),
        in_reply_to: None,
        author_name: None,
        author_avatar: None,
    }
}

#[tokio::test]
async fn echo_normalizes_inbound_and_sends_to_its_configured_provider() {
    let dir = tempfile::tempdir().unwrap();
    let kv = Arc::new(MemoryKv::new(4096));
    let mut config = HostConfig::new(dir.path());
    config.limits = guests::test_limits();
    config.kv = kv.clone();
    let host = PluginHost::open(config).unwrap();
    host.install(&guests::echo()).unwrap();
    let provider = guests::provider().await;
    let channel = echo_channel("web-1", "t0k", &provider.base_url);

    let served = host
        .handle_inbound(
            &channel,
            &echo_request("t0k", &one_message("m-42", "Hello there")),
        )
        .await
        .unwrap();
    assert_eq!(
        (served.plugin.as_str(), served.version.as_str()),
        ("echo", "0.1.0")
    );
    let message = &served.value.unwrap().messages[0];
    assert_eq!(message.external_chat_id, "chat-1");
    assert_eq!(message.external_message_id, "m-42");
    assert_eq!(message.sender.name.as_deref(), Some("Ada Lovelace"));
    assert_eq!(message.sender.email.as_deref(), Some("ada@example.com"));
    assert_eq!(message.sent_at_ms, Some(1_700_000_000_000));
    assert_eq!(message.attachments[0].kind, AttachmentKind::Image);

    let first = host
        .send(&channel, &reply("chat-1", "Hi Ada"))
        .await
        .unwrap()
        .value
        .unwrap();
    let second = host
        .send(&channel, &reply("chat-1", "Anything else?"))
        .await
        .unwrap()
        .value
        .unwrap();
    assert_eq!(first.external_message_id.as_deref(), Some("p-1"));
    assert_eq!(second.external_message_id.as_deref(), Some("p-2"));
    let bodies = provider.bodies.lock().unwrap().clone();
    assert_eq!(
        bodies[0],
        r#"{"chat":"chat-1","dedup":"ob-1","text":"Hi Ada"}"#
    );

    // The plugin counts its sends in kv, scoped to this plugin and channel.
    let other = echo_channel("web-2", "t0k", &provider.base_url);
    host.send(&other, &reply("chat-9", "x"))
        .await
        .unwrap()
        .value
        .unwrap();
    let sent = |channel: &str| {
        let scope = KvScope {
            plugin: "echo".to_string(),
            channel: channel.to_string(),
        };
        let kv = kv.clone();
        async move {
            kv.get(&scope, "sent")
                .await
                .unwrap()
                .map(|v| String::from_utf8(v).unwrap())
        }
    };
    assert_eq!(sent("web-1").await.as_deref(), Some("2"));
    assert_eq!(sent("web-2").await.as_deref(), Some("1"));
}

#[tokio::test]
async fn secrets_are_per_channel() {
    let (_dir, host) = guests::host();
    host.install(&guests::echo()).unwrap();
    let a = echo_channel("a", "token-a", "http://127.0.0.1:9");
    let b = echo_channel("b", "token-b", "http://127.0.0.1:9");
    let body = one_message("m-1", "hi");
    assert!(
        host.handle_inbound(&a, &echo_request("token-a", &body))
            .await
            .unwrap()
            .value
            .is_ok()
    );
    let refused = host
        .handle_inbound(&b, &echo_request("token-a", &body))
        .await
        .unwrap()
        .value;
    assert!(
        matches!(&refused, Err(ConnectorError::Unauthorized(why)) if why == "x-echo-token does not match"),
        "{refused:?}"
    );
}

#[tokio::test]
async fn channel_config_is_checked_against_the_schema_naming_each_field() {
    let (_dir, host) = guests::host();
    host.install(&guests::echo()).unwrap();
    // Served once with a good config, so a cached validation exists that a
    // changed config must not reuse.
    let mut channel = echo_channel("bad", "t", "http://127.0.0.1:9");
    let request = echo_request("t", &one_message("m", "x"));
    assert!(
        host.handle_inbound(&channel, &request)
            .await
            .unwrap()
            .value
            .is_ok()
    );
    channel.config = json!({"api_base_url": "not a url", "max_text_len": 0, "colour": "blue"});

    let expected = vec![
        FieldError {
            field: "api_base_url".to_string(),
            problem: "is not a URL (relative URL without a base)".to_string(),
        },
        FieldError {
            field: "max_text_len".to_string(),
            problem: "must be at least 1".to_string(),
        },
        FieldError {
            field: "token".to_string(),
            problem: "is required".to_string(),
        },
        FieldError {
            field: "colour".to_string(),
            problem: "is not a config field of this plugin".to_string(),
        },
    ];
    let Err(CallError::Config(ConfigError::Fields { errors, .. })) =
        host.validate_channel(&channel)
    else {
        panic!("expected field errors")
    };
    assert_eq!(errors, expected);
    // A call with that config never reaches the plugin.
    let error = host
        .handle_inbound(&channel, &echo_request("t", &one_message("m", "x")))
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("config field \"token\": is required"),
        "{error}"
    );
}

/// A relay that records what it was given.
#[derive(Default)]
struct RecordingMailer {
    sent: std::sync::Mutex<Vec<(String, Vec<String>, String)>>,
}

#[async_trait::async_trait]
impl crate::Mailer for RecordingMailer {
    async fn send(
        &self,
        mail_from: &str,
        rcpt_to: &[String],
        message: &[u8],
    ) -> Result<(), crate::MailError> {
        let message = String::from_utf8_lossy(message).into_owned();
        self.sent
            .lock()
            .unwrap()
            .push((mail_from.to_string(), rcpt_to.to_vec(), message));
        Ok(())
    }
}

#[tokio::test]
async fn smtp_needs_both_the_grant_and_a_relay() {
    let mailer = guests::package("fixtures/mailer", "fixture_mailer");
    let ungranted = crate::Package::from_parts(
        &mailer
            .manifest_text
            .replace("name = \"mailer\"", "name = \"mailer-nogrant\"")
            .replace("smtp = true", "smtp = false"),
        mailer.wasm.clone(),
    )
    .unwrap();
    let channel = |plugin: &str| crate::types::Channel {
        id: "mail".to_string(),
        plugin: plugin.to_string(),
        config: json!({"from": "support@acme.test"}),
    };

    let relay = Arc::new(RecordingMailer::default());
    let dir = tempfile::tempdir().unwrap();
    let mut config = HostConfig::new(dir.path());
    config.limits = guests::test_limits();
    config.mailer = Some(relay.clone());
    let host = PluginHost::open(config).unwrap();
    host.install(&mailer).unwrap();
    host.install(&ungranted).unwrap();

    let to_mailer = channel("mailer");
    let shipped = reply("ada@example.com", "Your order shipped.");
    let receipt = host
        .send(&to_mailer, &shipped)
        .await
        .unwrap()
        .value
        .unwrap();
    assert_eq!(
        receipt.external_message_id.as_deref(),
        Some("<ob-1@frontdesk.invalid>")
    );
    let sent = relay.sent.lock().unwrap().clone();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].0, "support@acme.test");
    assert_eq!(sent[0].1, ["ada@example.com"]);
    assert!(
        sent[0]
            .2
            .contains("Message-ID: <ob-1@frontdesk.invalid>\r\n")
    );
    assert!(sent[0].2.ends_with("\r\n\r\nYour order shipped.\r\n"));

    let (to_ungranted, x) = (channel("mailer-nogrant"), reply("ada@example.com", "x"));
    let refused = host.send(&to_ungranted, &x).await.unwrap().value;
    assert!(
        matches!(&refused, Err(ConnectorError::Permanent(why)) if why == "smtp forbidden: the manifest does not grant smtp"),
        "{refused:?}"
    );
    assert_eq!(
        relay.sent.lock().unwrap().len(),
        1,
        "nothing reached the relay"
    );

    // A server without a relay refuses even a granted plugin.
    let (_dir, bare) = guests::host();
    bare.install(&mailer).unwrap();
    let refused = bare.send(&to_mailer, &x).await.unwrap().value;
    assert!(
        matches!(&refused, Err(ConnectorError::Permanent(why)) if why.ends_with("this server has no mail relay configured")),
        "{refused:?}"
    );
}
