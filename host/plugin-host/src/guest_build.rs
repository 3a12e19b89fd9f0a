//! Building the repository's guest plugins (`plugins/`) for `wasm32-wasip2`,
//! for tests and benchmarks here and in the server's end-to-end tests.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Builds `plugins/` (or only `package`) under `repo_root` in release mode and
/// returns the folder holding the `.wasm` files.
///
/// Uses its own target dir, `target/wasm-plugins`: a `cargo test` that calls
/// this holds the lock on the workspace's, and waiting for it would deadlock.
pub fn build_guests(repo_root: &Path, package: Option<&str>) -> Result<PathBuf, String> {
    let target = repo_root.join("target/wasm-plugins");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let mut command = Command::new(cargo);
    command.args(["build", "--release", "--target", "wasm32-wasip2"]);
    if let Some(package) = package {
        command.args(["-p", package]);
    }
    let output = command
        .arg("--manifest-path")
        .arg(repo_root.join("plugins/Cargo.toml"))
        .env("CARGO_TARGET_DIR", &target)
        // Flags meant for the host build (coverage, sanitizers) would break or bloat the guests.
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .output()
        .map_err(|e| format!("cannot run cargo to build the guest plugins: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "building plugins/ failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(target.join("wasm32-wasip2/release"))
}
