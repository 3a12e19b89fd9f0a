//! The guest plugins' own unit tests (parsing, threading, error classes, bot
//! logic). The plugins are a workspace of their own, built for
//! `wasm32-wasip2`, so `cargo test --workspace` would not see them; this
//! test runs them natively, so the one test command covers them too.

use std::path::Path;
use std::process::Command;

/// The plugin crates whose logic is kept apart from the Wasm glue so that
/// it tests natively.
const CRATES: &[&str] = &[
    "frontdesk-telegram",
    "facebook",
    "email",
    "webchat",
    "faq-bot",
    "lead-form-bot",
];

#[test]
fn guest_plugins_pass_their_own_unit_tests() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let mut command = Command::new(cargo);
    command
        .arg("test")
        .arg("--manifest-path")
        .arg(root.join("plugins/Cargo.toml"))
        // Its own target folder: the wasm build of the same crates (in
        // target/wasm-plugins) may run at the same time in another test.
        .env("CARGO_TARGET_DIR", root.join("target/guest-native"))
        .env_remove("RUSTFLAGS");
    for name in CRATES {
        command.args(["-p", name]);
    }
    let output = command.output().expect("run cargo for the guest tests");
    assert!(
        output.status.success(),
        "guest unit tests failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
