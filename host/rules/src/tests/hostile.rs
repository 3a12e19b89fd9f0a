//! Hostile scripts: each stops with an error naming the hook, and the
//! default behaviour goes on.

use std::time::Instant;

use super::harness::{Sim, at, channel};
use crate::{Action, Hook, RunError, ScriptScope};

const MONDAY_10: &str = "2026-01-05T10:00:00+01:00";

/// Saves `source` for A1, runs it for a first message and returns the error.
fn first_message_with(source: &str) -> (RunError, Sim) {
    let mut sim = Sim::new(channel());
    sim.rules
        .save(ScriptScope::AllChannels, Hook::FirstMessage, source)
        .unwrap();
    let started = Instant::now();
    sim.customer_writes(at(MONDAY_10), "Hi");
    // The caps end a runaway script quickly even in a debug build; this
    // bound only catches a cap that stopped working.
    assert!(
        started.elapsed().as_secs() < 5,
        "stopped by a cap, not by luck"
    );
    assert_eq!(sim.errors.len(), 1, "{:?}", sim.errors);
    // The default greeting still went out.
    assert_eq!(sim.sent.len(), 1);
    assert!(sim.texts()[0].starts_with("Hello! Thanks for writing to Support."));
    (sim.errors[0].clone(), sim)
}

#[test]
fn hostile_endless_loop_stops_at_the_operation_cap() {
    let (err, _) = first_message_with("let n = 0; loop { n += 1; }");
    assert!(matches!(
        err,
        RunError::TooManyOperations {
            hook: Hook::FirstMessage,
            limit: 50_000
        }
    ));
    assert_eq!(
        err.to_string(),
        "first_message (A1) script stopped after 50000 operations; look for a loop that never ends"
    );
}

#[test]
fn hostile_huge_string_stops_at_the_size_cap() {
    let (err, _) = first_message_with("let s = \"spam\";\nwhile true { s += s; }");
    assert!(
        matches!(
            err,
            RunError::DataTooLarge {
                hook: Hook::FirstMessage,
                line: 2,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with("first_message (A1) script stopped at line 2"),
        "{err}"
    );
}

#[test]
fn hostile_deep_recursion_stops_at_the_call_depth_cap() {
    let (err, _) = first_message_with("fn down(n) { down(n + 1) }\ndown(0)");
    assert!(
        matches!(
            err,
            RunError::TooDeep {
                hook: Hook::FirstMessage,
                limit: 32,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("calls itself without end"),
        "{err}"
    );
}

#[test]
fn hostile_huge_array_stops_at_the_size_cap() {
    let (err, _) = first_message_with("let a = []; loop { a.push(1); }");
    assert!(matches!(err, RunError::DataTooLarge { .. }), "{err:?}");
}

#[test]
fn hostile_eval_and_imports_do_not_compile() {
    let sim = Sim::new(channel());
    let err = sim.rules.compile("eval(\"reply(1)\")").unwrap_err();
    assert_eq!((err.line, err.column), (1, 1), "{err}");
    assert!(sim.rules.compile("import \"secrets\" as s;").is_err());
    // The real clock is not there; `now` is.
    assert!(
        sim.rules.compile("timestamp()").is_ok(),
        "unknown functions fail at run time"
    );
    let mut sim = Sim::new(channel());
    sim.rules
        .save(
            ScriptScope::AllChannels,
            Hook::FirstMessage,
            "let t = timestamp(); reply(`${t}`)",
        )
        .unwrap();
    sim.customer_writes(at(MONDAY_10), "Hi");
    assert!(matches!(
        &sim.errors[..],
        [RunError::Script {
            hook: Hook::FirstMessage,
            line: 1,
            ..
        }]
    ));
}

#[test]
fn hostile_now_is_read_only() {
    let mut sim = Sim::new(channel());
    sim.rules
        .save(
            ScriptScope::AllChannels,
            Hook::FirstMessage,
            "now = 0;\nreply(`${now}`)",
        )
        .unwrap();
    let out = sim.fire(Hook::FirstMessage, at(MONDAY_10));
    let err = out.error.expect("assigning to now fails");
    assert!(
        matches!(&err, RunError::Script { line: 1, message, .. } if message.contains("now")),
        "{err:?}"
    );
}

#[test]
fn script_errors_carry_their_position_and_fall_back() {
    let mut sim = Sim::new(channel());
    sim.rules
        .save(
            ScriptScope::AllChannels,
            Hook::FirstMessage,
            "let x = 1;\nreply(session.no_such_field)",
        )
        .unwrap();
    let out = sim.fire(Hook::FirstMessage, at(MONDAY_10));
    let err = out.error.unwrap();
    assert!(matches!(err, RunError::Script { line: 2, .. }), "{err:?}");
    assert!(matches!(&out.actions[..], [Action::Reply { .. }]));
}

#[test]
fn wrong_return_values_and_actions_are_refused() {
    let mut sim = Sim::new(channel());
    sim.rules
        .save(ScriptScope::AllChannels, Hook::FirstMessage, "\"hello\"")
        .unwrap();
    let err = sim.fire(Hook::FirstMessage, at(MONDAY_10)).error.unwrap();
    assert!(
        matches!(&err, RunError::BadReturn { got, .. } if got == "string"),
        "{err:?}"
    );
    assert!(err.to_string().contains("reply(\"...\")"));

    sim.rules
        .save(
            ScriptScope::AllChannels,
            Hook::FirstMessage,
            "[reply(\"a\"), 5]",
        )
        .unwrap();
    assert!(matches!(
        sim.fire(Hook::FirstMessage, at(MONDAY_10)).error,
        Some(RunError::BadReturn { .. })
    ));

    sim.rules
        .save(
            ScriptScope::AllChannels,
            Hook::FirstMessage,
            "close_after(0)",
        )
        .unwrap();
    assert_eq!(
        sim.fire(Hook::FirstMessage, at(MONDAY_10)).error,
        Some(RunError::ActionNotAllowed {
            hook: Hook::FirstMessage,
            action: "close_after"
        })
    );

    sim.rules
        .save(
            ScriptScope::AllChannels,
            Hook::FirstMessage,
            "reply(\"  \")",
        )
        .unwrap();
    assert!(matches!(
        sim.fire(Hook::FirstMessage, at(MONDAY_10)).error,
        Some(RunError::EmptyText { .. })
    ));
}

#[test]
fn a_compile_error_keeps_the_running_version() {
    let sim = Sim::new(channel());
    sim.rules
        .save(ScriptScope::AllChannels, Hook::Closed, "reply(\"Bye!\")")
        .unwrap();
    let err = sim
        .rules
        .save(
            ScriptScope::AllChannels,
            Hook::Closed,
            "reply(\"Bye!\"\n  +",
        )
        .unwrap_err();
    assert_eq!(err.line, 2, "{err}");
    assert!(err.to_string().starts_with("line 2, column"), "{err}");
    assert_eq!(
        sim.rules.source(ScriptScope::AllChannels, Hook::Closed),
        "reply(\"Bye!\")"
    );
    // A typo in a variable name is caught at save time, with its place.
    let err = sim.rules.compile("reply(sesion.id)").unwrap_err();
    assert_eq!((err.line, err.column), (1, 7), "{err}");
    sim.rules.reset(ScriptScope::AllChannels, Hook::Closed);
    assert!(!sim.rules.is_custom(ScriptScope::AllChannels, Hook::Closed));
    assert_eq!(
        sim.rules.source(ScriptScope::AllChannels, Hook::Closed),
        Hook::Closed.default_source()
    );
}

#[test]
fn stored_versions_load_at_start_and_broken_ones_stay_on_the_default() {
    let sim = Sim::new(channel());
    let failed = sim.rules.load([
        (ScriptScope::AllChannels, Hook::Closed, "reply(\"Bye!\")"),
        (ScriptScope::AllChannels, Hook::FirstMessage, "reply(\"Hi\""),
    ]);
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].hook, Hook::FirstMessage);
    assert!(sim.rules.is_custom(ScriptScope::AllChannels, Hook::Closed));
    assert!(
        !sim.rules
            .is_custom(ScriptScope::AllChannels, Hook::FirstMessage)
    );
}

#[test]
fn hostile_one_shot_allocations_are_refused_before_they_happen() {
    // Each of these would ask for gigabytes in one call; the caps must refuse
    // them up front rather than after the allocation.
    for source in [
        "let s = \"\"; s.pad(2_000_000_000, 'x'); reply(s)",
        "let a = []; a.pad(2_000_000_000, 0); reply(`${a.len()}`)",
        "let b = blob(2_000_000_000); reply(`${b.len()}`)",
    ] {
        let mut sim = Sim::new(channel());
        sim.rules
            .save(ScriptScope::AllChannels, Hook::FirstMessage, source)
            .unwrap();
        let out = sim.fire(Hook::FirstMessage, at(MONDAY_10));
        assert!(
            matches!(out.error, Some(RunError::DataTooLarge { .. })),
            "{source}: {:?}",
            out.error
        );
        assert!(matches!(&out.actions[..], [Action::Reply { .. }]));
    }
}
