//! Building the repository's guest plugins (`plugins/`) for `wasm32-wasip2`:
//! by `host/build.rs`, which embeds the first-party ones in the server, and by
//! tests and benchmarks here and in the server's end-to-end tests. All of them
//! share one target dir, so whichever builds first leaves nothing to the rest.
//!
//! Only `std` here: `host/build.rs` compiles this file into the build script.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The target plugins build for.
pub const WASM_TARGET: &str = "wasm32-wasip2";

/// Builds `plugins/` (or only `packages`) under `repo_root` in release mode
/// and returns the folder holding the `.wasm` files.
///
/// Uses its own target dir, `target/wasm-plugins`: a `cargo test` or a
/// `cargo build` that calls this holds the lock on the workspace's, and
/// waiting for it would deadlock.
pub fn build_guests(repo_root: &Path, package: Option<&str>) -> Result<PathBuf, String> {
    build_guest_packages(repo_root, package.as_slice())
}

/// [`build_guests`] for several packages (all when `packages` is empty).
pub fn build_guest_packages(repo_root: &Path, packages: &[&str]) -> Result<PathBuf, String> {
    let target = repo_root.join("target/wasm-plugins");
    let mut command = cargo_command();
    command.args(["build", "--release", "--target", WASM_TARGET]);
    for package in packages {
        command.args(["-p", package]);
    }
    let output = command
        .arg("--manifest-path")
        .arg(repo_root.join("plugins/Cargo.toml"))
        .env("CARGO_TARGET_DIR", &target)
        .output()
        .map_err(|e| format!("cannot run cargo to build the guest plugins: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "building plugins/ failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(target.join(WASM_TARGET).join("release"))
}

/// `cargo` (or `$CARGO`), with the environment a host build would leak into
/// a guest build removed.
pub fn cargo_command() -> Command {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let mut command = Command::new(cargo);
    // Flags meant for the host build (coverage, sanitizers) would break or
    // bloat the guests; clippy's wrapper (set while `cargo clippy` runs a
    // build script) would lint them with the host's settings.
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTC_WORKSPACE_WRAPPER",
        "CLIPPY_ARGS",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
    ] {
        command.env_remove(var);
    }
    command
}

/// What stops a `wasm32-wasip2` build, each with the command that fixes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolchainProblem {
    /// No `cargo` (or `$CARGO`) to run.
    CargoNotFound,
    /// No `rustc` (or `$RUSTC`) to ask for its sysroot.
    RustcNotFound(String),
    /// The toolchain lacks the target's standard library.
    TargetNotInstalled {
        /// Where the toolchain keeps its standard libraries.
        sysroot: PathBuf,
        /// Whether `rustup` is on PATH to add it.
        rustup: bool,
    },
}

const RUSTUP_HINT: &str = "install Rust with rustup (https://rustup.rs): \
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh";

impl std::fmt::Display for ToolchainProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ToolchainProblem::CargoNotFound => {
                write!(f, "cargo was not found on PATH; {RUSTUP_HINT}")
            }
            ToolchainProblem::RustcNotFound(rustc) => {
                write!(f, "{rustc} was not found on PATH; {RUSTUP_HINT}")
            }
            ToolchainProblem::TargetNotInstalled { sysroot, rustup } => {
                write!(
                    f,
                    "the Rust target {WASM_TARGET} is not installed (no standard library for it in {}); ",
                    sysroot.display()
                )?;
                if *rustup {
                    write!(f, "run `rustup target add {WASM_TARGET}`")
                } else {
                    write!(
                        f,
                        "this toolchain is not managed by rustup; {RUSTUP_HINT}, \
                         then run `rustup target add {WASM_TARGET}`"
                    )
                }
            }
        }
    }
}

/// Checks that cargo, rustc and the `wasm32-wasip2` standard library are
/// there for a build in `dir` (whose `rust-toolchain.toml`, if any, picks
/// the toolchain).
pub fn check_toolchain(dir: &Path) -> Result<(), ToolchainProblem> {
    let runs = |command: &mut Command| {
        command
            .current_dir(dir)
            .output()
            .ok()
            .filter(|out| out.status.success())
    };
    if runs(cargo_command().arg("--version")).is_none() {
        return Err(ToolchainProblem::CargoNotFound);
    }
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string());
    let Some(out) = runs(Command::new(&rustc).args(["--print", "sysroot"])) else {
        return Err(ToolchainProblem::RustcNotFound(rustc));
    };
    let sysroot = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    if sysroot.join("lib/rustlib").join(WASM_TARGET).is_dir() {
        return Ok(());
    }
    let rustup = runs(Command::new("rustup").arg("--version")).is_some();
    Err(ToolchainProblem::TargetNotInstalled { sysroot, rustup })
}

/// Adds the target with rustup when it is missing and rustup is there (the
/// build script's first build on a fresh machine); otherwise says what to do.
pub fn ensure_target(dir: &Path) -> Result<(), String> {
    match check_toolchain(dir) {
        Ok(()) => Ok(()),
        Err(ToolchainProblem::TargetNotInstalled { rustup: true, .. }) => {
            // Its own output goes to the build log; the check after says whether it worked.
            let _ = Command::new("rustup")
                .args(["target", "add", WASM_TARGET])
                .current_dir(dir)
                .status();
            check_toolchain(dir).map_err(|problem| {
                format!("`rustup target add {WASM_TARGET}` did not add it: {problem}")
            })
        }
        Err(problem) => Err(problem.to_string()),
    }
}
