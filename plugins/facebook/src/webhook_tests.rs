//! The webhook parser against recorded Messenger deliveries (`fixtures/`).

use frontdesk_plugin_api::AttachmentKind;

use super::parse;

const BATCHED: &[u8] = include_bytes!("../fixtures/batched.json");

#[test]
fn a_batched_delivery_gives_every_customer_message_and_nothing_else() {
    let messages = parse(BATCHED).unwrap();
    let ids: Vec<&str> = messages
        .iter()
        .map(|m| m.external_message_id.as_str())
        .collect();
    // The echo, the delivery, the read and the reaction give nothing.
    assert_eq!(
        ids,
        [
            "m_AWp1c2VyLW1lc3NhZ2UtMQ",
            "m_AWp1c2VyLWltYWdlLTE",
            "m_AWp1c2VyLWZpbGVzLTI",
            "m_AWp1c2VyLXF1aWNrLTI",
            "m_AWp1c2VyLXBvc3RiYWNr",
            "postback:7391009876543210:1764500000009",
            "m_AWp1c2VyLW1lc3NhZ2UtMQ:edit:1",
        ]
    );
    let first = &messages[0];
    assert_eq!(first.external_chat_id, "6245001234567890");
    assert_eq!(first.sender.external_id, "6245001234567890");
    assert_eq!(
        first.text.as_deref(),
        Some("Hi, my order never arrived 😢 äöü")
    );
    assert_eq!(first.sent_at_ms, Some(1_764_500_000_001));
}

#[test]
fn media_and_stickers_keep_their_cdn_url_for_a_later_fetch() {
    let messages = parse(BATCHED).unwrap();
    let image = &messages[1];
    assert_eq!(image.text, None);
    assert_eq!(image.in_reply_to.as_deref(), Some("m_AWp1c2VyLWVjaG8tMQ"));
    let kinds: Vec<_> = image.attachments.iter().map(|a| a.kind).collect();
    assert_eq!(kinds, [AttachmentKind::Image, AttachmentKind::Sticker]);
    assert_eq!(
        image.attachments[0].url.as_deref(),
        Some("https://scontent.xx.fbcdn.net/v/t1.15752-9/photo.jpg?_nc_cat=1&oh=00_AY&oe=6790")
    );
    assert!(image.attachments.iter().all(|a| a.data.is_none()));

    let files = &messages[2];
    assert_eq!(files.external_chat_id, "7391009876543210");
    let kinds: Vec<_> = files.attachments.iter().map(|a| a.kind).collect();
    assert_eq!(
        kinds,
        [
            AttachmentKind::File,
            AttachmentKind::Audio,
            AttachmentKind::Video,
            AttachmentKind::Location,
            AttachmentKind::Other,
        ]
    );
    assert_eq!(
        files.attachments[0].url.as_deref(),
        Some("https://cdn.fbsbx.com/v/t59.2708-21/invoice.pdf?_nc_cat=1")
    );
    // A location has no file, and a shared link points off Meta's hosts:
    // neither is fetched; both are shown in the text.
    assert_eq!(files.attachments[3].url, None);
    assert_eq!(files.attachments[4].url, None);
    assert_eq!(
        files.text.as_deref(),
        Some(
            "Here is the invoice and where I live\nLocation: 52.520008, 13.404954\nTracking page https://example.com/track/42"
        )
    );
}

#[test]
fn quick_replies_postbacks_and_edits_read_as_what_the_customer_saw() {
    let messages = parse(BATCHED).unwrap();
    assert_eq!(messages[3].text.as_deref(), Some("Refund"));
    assert_eq!(messages[4].text.as_deref(), Some("Talk to a human"));
    assert_eq!(messages[5].text.as_deref(), Some("Get Started"));
    let edit = &messages[6];
    assert_eq!(edit.edit_of.as_deref(), Some("m_AWp1c2VyLW1lc3NhZ2UtMQ"));
    assert_eq!(edit.text.as_deref(), Some("Hi, my order #42 never arrived"));
    assert_eq!(edit.external_chat_id, "6245001234567890");
}

#[test]
fn a_quick_reply_without_text_shows_its_payload() {
    let body = br#"{"object":"page","entry":[{"id":"1","time":1,"messaging":[{"sender":{"id":"9"},"recipient":{"id":"1"},"timestamp":5,"message":{"mid":"m_q","quick_reply":{"payload":"SIZE_M"}}}]}]}"#;
    let messages = parse(body).unwrap();
    assert_eq!(messages[0].text.as_deref(), Some("SIZE_M"));
}

#[test]
fn only_receipts_and_echoes_give_no_message_and_no_error() {
    let body = br#"{"object":"page","entry":[{"id":"1","time":1,"messaging":[
        {"sender":{"id":"9"},"recipient":{"id":"1"},"delivery":{"mids":["m_1"],"watermark":4}},
        {"sender":{"id":"9"},"recipient":{"id":"1"},"timestamp":5,"read":{"watermark":4}},
        {"sender":{"id":"1"},"recipient":{"id":"9"},"timestamp":6,"message":{"mid":"m_2","is_echo":true,"text":"hi"}}
    ]},{"id":"1","time":2,"standby":[{"sender":{"id":"9"},"message":{"mid":"m_3","text":"x"}}]}]}"#;
    assert_eq!(parse(body).unwrap().len(), 0);
}

#[test]
fn authentic_but_unreadable_deliveries_say_what_and_where() {
    for (body, needle) in [
        (&b"not json"[..], "not JSON"),
        (br#"{"object":"instagram","entry":[]}"#, "\"instagram\""),
        (br#"{"entry":[]}"#, "no \"object\""),
        (br#"{"object":"page"}"#, "no \"entry\""),
        (
            br#"{"object":"page","entry":[{"id":"1","messaging":{}}]}"#,
            "entry[0].messaging is not an array",
        ),
        (
            br#"{"object":"page","entry":[{"id":"1","messaging":[]},{"id":"1","messaging":[{"sender":{"id":"9"},"message":{"text":"no mid"}}]}]}"#,
            "entry[1].messaging[0]: missing field `mid`",
        ),
        (
            br#"{"object":"page","entry":[{"id":"1","messaging":[{"message":{"mid":"m","text":"who?"}}]}]}"#,
            "entry[0].messaging[0]: sender.id missing",
        ),
    ] {
        let err = parse(body).unwrap_err();
        assert!(err.contains(needle), "{err:?} should contain {needle:?}");
    }
}
