//! `update::parse` on Bot API updates shaped as Telegram sends them.

use frontdesk_plugin_api::{AttachmentKind, InboundMessage};

use super::{Unparseable, parse};

fn one(json: &str) -> InboundMessage {
    let mut messages = parse(json.as_bytes()).expect("parses");
    assert_eq!(messages.len(), 1, "one message from {json}");
    messages.remove(0)
}

const TEXT: &str = r#"{"update_id":912345678,
 "message":{"message_id":17,
  "from":{"id":123456789,"is_bot":false,"first_name":"Ada","last_name":"Lovelace","username":"ada_l","language_code":"en"},
  "chat":{"id":123456789,"first_name":"Ada","last_name":"Lovelace","username":"ada_l","type":"private"},
  "date":1764500000,"text":"Hello, my order did not arrive",
  "entities":[]}}"#;

#[test]
fn a_text_message_keys_on_the_update_and_names_its_sender() {
    let m = one(TEXT);
    assert_eq!(m.external_message_id, "912345678");
    assert_eq!(m.external_chat_id, "123456789");
    assert_eq!(m.sender.external_id, "123456789");
    assert_eq!(m.sender.name.as_deref(), Some("Ada Lovelace"));
    assert_eq!(m.sender.handle.as_deref(), Some("ada_l"));
    assert_eq!(m.text.as_deref(), Some("Hello, my order did not arrive"));
    assert_eq!(m.sent_at_ms, Some(1_764_500_000_000));
    assert_eq!(m.edit_of, None);
    assert!(m.attachments.is_empty());
}

#[test]
fn update_ids_are_keys_not_a_sequence() {
    // After a week without updates Telegram picks the next id at random, so
    // a smaller id after a larger one is a new message, not an old one.
    let later = TEXT.replace("912345678", "5");
    assert_eq!(one(&later).external_message_id, "5");
}

#[test]
fn an_edit_points_at_the_original_message() {
    let json = r#"{"update_id":912345679,
     "edited_message":{"message_id":17,
      "from":{"id":123456789,"is_bot":false,"first_name":"Ada"},
      "chat":{"id":123456789,"first_name":"Ada","type":"private"},
      "date":1764500000,"edit_date":1764500060,"text":"Hello, my order #881 did not arrive"}}"#;
    let m = one(json);
    assert_eq!(m.external_message_id, "912345679");
    assert_eq!(m.edit_of.as_deref(), Some("17"));
    assert_eq!(m.sent_at_ms, Some(1_764_500_060_000));
    assert_eq!(
        m.text.as_deref(),
        Some("Hello, my order #881 did not arrive")
    );
}

#[test]
fn a_photo_is_its_largest_size_with_the_caption_as_text() {
    let json = r#"{"update_id":10,"message":{"message_id":18,
      "from":{"id":1,"is_bot":false,"first_name":"Bo"},"chat":{"id":-100200300,"title":"Shop group","type":"supergroup"},
      "date":1764500100,"caption":"broken on arrival",
      "reply_to_message":{"message_id":12,"chat":{"id":-100200300,"type":"supergroup"},"date":1764400000,"text":"earlier"},
      "photo":[
        {"file_id":"AgAD-small","file_unique_id":"s","file_size":1500,"width":90,"height":67},
        {"file_id":"AgAD-large","file_unique_id":"l","file_size":98000,"width":1280,"height":960},
        {"file_id":"AgAD-medium","file_unique_id":"m","file_size":21000,"width":320,"height":240}]}}"#;
    let m = one(json);
    assert_eq!(m.external_chat_id, "-100200300");
    assert_eq!(m.sender.external_id, "1");
    assert_eq!(m.text.as_deref(), Some("broken on arrival"));
    assert_eq!(m.in_reply_to.as_deref(), Some("12"));
    assert_eq!(m.attachments.len(), 1);
    let a = &m.attachments[0];
    assert!(matches!(a.kind, AttachmentKind::Image));
    assert_eq!(a.provider_file_id.as_deref(), Some("AgAD-large"));
    assert_eq!(a.size_bytes, Some(98000));
    assert_eq!(a.mime_type.as_deref(), Some("image/jpeg"));
    assert_eq!(a.url, None);
}

#[test]
fn documents_voice_audio_and_video_become_attachments() {
    let json = r#"{"update_id":11,"message":{"message_id":19,
      "from":{"id":1,"is_bot":false,"first_name":"Bo"},"chat":{"id":1,"type":"private"},"date":1764500200,
      "document":{"file_name":"invoice.pdf","mime_type":"application/pdf","file_id":"BQAC-doc","file_unique_id":"d","file_size":52011}}}"#;
    let m = one(json);
    assert_eq!(m.text, None);
    let a = &m.attachments[0];
    assert!(matches!(a.kind, AttachmentKind::File));
    assert_eq!(a.file_name.as_deref(), Some("invoice.pdf"));
    assert_eq!(a.mime_type.as_deref(), Some("application/pdf"));
    assert_eq!(a.size_bytes, Some(52011));

    let voice = r#"{"update_id":12,"message":{"message_id":20,"from":{"id":1,"is_bot":false,"first_name":"Bo"},
      "chat":{"id":1,"type":"private"},"date":1764500300,
      "voice":{"duration":3,"mime_type":"audio/ogg","file_id":"AwAC-voice","file_unique_id":"v","file_size":9000}}}"#;
    let a = &one(voice).attachments[0];
    assert!(matches!(a.kind, AttachmentKind::Audio));
    assert_eq!(a.provider_file_id.as_deref(), Some("AwAC-voice"));

    let audio = r#"{"update_id":13,"message":{"message_id":21,"from":{"id":1,"is_bot":false,"first_name":"Bo"},
      "chat":{"id":1,"type":"private"},"date":1764500400,
      "audio":{"duration":200,"performer":"X","title":"Y","file_name":"song.mp3","mime_type":"audio/mpeg","file_id":"CQAC-audio","file_unique_id":"a","file_size":3000000}}}"#;
    let a = &one(audio).attachments[0];
    assert!(matches!(a.kind, AttachmentKind::Audio));
    assert_eq!(a.file_name.as_deref(), Some("song.mp3"));

    let video = r#"{"update_id":14,"message":{"message_id":22,"from":{"id":1,"is_bot":false,"first_name":"Bo"},
      "chat":{"id":1,"type":"private"},"date":1764500500,"caption":"see",
      "video":{"duration":5,"width":640,"height":480,"mime_type":"video/mp4","file_id":"BAAC-video","file_unique_id":"vv","file_size":400000}}}"#;
    let m = one(video);
    assert!(matches!(m.attachments[0].kind, AttachmentKind::Video));
    assert_eq!(m.text.as_deref(), Some("see"));
}

#[test]
fn a_sticker_is_an_attachment_and_says_its_emoji() {
    let json = r#"{"update_id":15,"message":{"message_id":23,"from":{"id":1,"is_bot":false,"first_name":"Bo"},
      "chat":{"id":1,"type":"private"},"date":1764500600,
      "sticker":{"width":512,"height":512,"emoji":"👍","set_name":"HotCherry","is_animated":true,"is_video":false,"type":"regular",
        "file_id":"CAAC-sticker","file_unique_id":"st","file_size":24000}}}"#;
    let m = one(json);
    let a = &m.attachments[0];
    assert!(matches!(a.kind, AttachmentKind::Sticker));
    assert_eq!(a.mime_type.as_deref(), Some("application/x-tgsticker"));
    assert_eq!(m.text.as_deref(), Some("[sticker 👍]"));
}

#[test]
fn a_location_is_a_geo_attachment_with_its_coordinates_in_the_text() {
    let json = r#"{"update_id":16,"message":{"message_id":24,"from":{"id":1,"is_bot":false,"first_name":"Bo"},
      "chat":{"id":1,"type":"private"},"date":1764500700,
      "location":{"latitude":52.520008,"longitude":13.404954}}}"#;
    let m = one(json);
    let a = &m.attachments[0];
    assert!(matches!(a.kind, AttachmentKind::Location));
    assert_eq!(a.url.as_deref(), Some("geo:52.520008,13.404954"));
    assert_eq!(a.provider_file_id, None);
    assert_eq!(m.text.as_deref(), Some("[location: 52.520008, 13.404954]"));
}

#[test]
fn a_shared_own_contact_gives_the_customers_phone() {
    let json = r#"{"update_id":17,"message":{"message_id":25,"from":{"id":7,"is_bot":false,"first_name":"Bo"},
      "chat":{"id":7,"type":"private"},"date":1764500800,
      "contact":{"phone_number":"+4915112345678","first_name":"Bo","user_id":7}}}"#;
    let m = one(json);
    assert_eq!(m.sender.phone.as_deref(), Some("+4915112345678"));
    assert_eq!(m.text.as_deref(), Some("[contact: Bo, +4915112345678]"));
}

#[test]
fn unsupported_content_is_stored_with_a_placeholder() {
    let json = r#"{"update_id":18,"message":{"message_id":26,"from":{"id":1,"is_bot":false,"first_name":"Bo"},
      "chat":{"id":1,"type":"private"},"date":1764500900,"dice":{"emoji":"🎲","value":4}}}"#;
    assert_eq!(
        one(json).text.as_deref(),
        Some("[unsupported Telegram content: dice]")
    );
}

#[test]
fn other_update_kinds_and_service_messages_are_no_messages() {
    let member = r#"{"update_id":19,"my_chat_member":{"chat":{"id":1,"type":"private"},
      "from":{"id":1,"is_bot":false,"first_name":"Bo"},"date":1764501000,
      "old_chat_member":{"status":"member","user":{"id":2,"is_bot":true,"first_name":"Bot"}},
      "new_chat_member":{"status":"kicked","user":{"id":2,"is_bot":true,"first_name":"Bot"},"until_date":0}}}"#;
    assert_eq!(parse(member.as_bytes()).unwrap().len(), 0);
    let callback = r#"{"update_id":20,"callback_query":{"id":"4382","from":{"id":1,"is_bot":false,"first_name":"Bo"},"chat_instance":"-1","data":"x"}}"#;
    assert_eq!(parse(callback.as_bytes()).unwrap().len(), 0);
    let joined = r#"{"update_id":21,"message":{"message_id":27,"from":{"id":1,"is_bot":false,"first_name":"Bo"},
      "chat":{"id":-5,"title":"G","type":"group"},"date":1764501100,
      "new_chat_members":[{"id":3,"is_bot":false,"first_name":"Cy"}]}}"#;
    assert_eq!(parse(joined.as_bytes()).unwrap().len(), 0);
}

#[test]
fn anonymous_admins_are_the_chat() {
    let json = r#"{"update_id":22,"message":{"message_id":28,"sender_chat":{"id":-100900,"title":"Shop","type":"supergroup"},
      "chat":{"id":-100900,"title":"Shop","type":"supergroup"},"date":1764501200,"text":"hi"}}"#;
    let m = one(json);
    assert_eq!(m.sender.external_id, "-100900");
    assert_eq!(m.sender.name.as_deref(), Some("Shop"));
}

#[test]
fn an_update_that_cannot_be_read_says_why() {
    let no_chat = r#"{"update_id":23,"message":{"message_id":29,"date":1764501300,"text":"x"}}"#;
    let Unparseable(why) = parse(no_chat.as_bytes()).unwrap_err();
    assert!(why.contains("chat"), "{why}");
    assert!(parse(b"not json").is_err());
    assert!(parse(br#"{"message":{}}"#).is_err());
}

#[test]
fn the_emulators_webhook_update_parses() {
    // What npm telegram-test-api 4.2 posts to the webhook: the client's
    // message plus its own `botToken` field and a `message_id`.
    let json = r#"{"update_id":1,"message":{"from":{"id":1,"first_name":"TestName","username":"testUserName","is_bot":false},
      "chat":{"id":1,"title":"Test Name","first_name":"TestName","username":"testUserName","type":"private"},
      "botToken":"123:abc","date":1764501400,"text":"hello","message_id":1}}"#;
    let m = one(json);
    assert_eq!(m.external_message_id, "1");
    assert_eq!(m.sender.handle.as_deref(), Some("testUserName"));
}
