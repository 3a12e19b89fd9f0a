//! X1: `rules check` and `rules test`, and the shipped example events.

use crate::{Action, Hook, HookEvent, Rules, ScriptScope, TestError, check, test};

const EXAMPLES: [(&str, &str); 5] = [
    (
        "first_message",
        include_str!("../../examples/first_message.json"),
    ),
    ("off_hours", include_str!("../../examples/off_hours.json")),
    ("no_answer", include_str!("../../examples/no_answer.json")),
    (
        "rating_received",
        include_str!("../../examples/rating_received.json"),
    ),
    ("timeout", include_str!("../../examples/timeout.json")),
];

#[test]
fn x1_every_default_script_checks() {
    for hook in Hook::ALL {
        check(hook.default_source()).unwrap_or_else(|e| panic!("{hook}: {e}"));
    }
    let err = check("if true {").unwrap_err();
    assert_eq!(err.line, 1);
}

#[test]
fn x1_example_events_run_against_the_defaults() {
    let rules = Rules::new();
    for (name, json) in EXAMPLES {
        let event: HookEvent = serde_json::from_str(json).unwrap_or_else(|e| panic!("{name}: {e}"));
        let hook = event.hook.expect("examples name their hook");
        assert_eq!(hook.name(), name);
        let actions = test(hook.default_source(), None, json).unwrap();
        assert!(
            !actions.is_empty(),
            "{name} example should make the default act"
        );
        assert_eq!(
            rules.run(ScriptScope::AllChannels, hook, &event).unwrap(),
            actions
        );
    }
}

#[test]
fn x1_test_prints_the_actions_a_script_would_take() {
    let json = EXAMPLES[0].1;
    let script = r#"
        if message.contains("refund") {
            [reply("Our refund policy: 30 days."), reply("An agent will follow up.")]
        }
    "#;
    let actions = test(script, None, json).unwrap();
    assert_eq!(
        serde_json::to_string(&actions).unwrap(),
        r#"[{"action":"reply","text":"Our refund policy: 30 days."},{"action":"reply","text":"An agent will follow up."}]"#
    );
    // The hook on the command line wins over the event's.
    let err = test("close_after(0)", Some(Hook::FirstMessage), json).unwrap_err();
    assert!(matches!(err, TestError::Run(_)));
    assert_eq!(
        test("close_after(1000)", Some(Hook::CloseDelay), json).unwrap(),
        vec![Action::CloseAfter { delay_ms: 1000 }]
    );
}

#[test]
fn x1_bad_events_and_missing_hooks_say_what_to_fix() {
    let err = test("()", None, "{\"now\": 1}").unwrap_err();
    assert!(matches!(err, TestError::Event(_)));
    assert!(err.to_string().contains("examples"), "{err}");
    let json = EXAMPLES[0].1.replace("\"hook\": \"first_message\",", "");
    assert_eq!(test("()", None, &json), Err(TestError::NoHook));
    let err = test("reply(", Some(Hook::Closed), EXAMPLES[0].1).unwrap_err();
    assert!(matches!(err, TestError::Compile(_)));
}
