//! JavaScript projects: an npm package whose `main` module componentize-js
//! (npm `@bytecodealliance/componentize-js`) builds into a component of the
//! manifest's world, against the WIT that `plugin new` copied in. The
//! component embeds a JS engine (StarlingMonkey), so it is ~12 MiB where a
//! Rust one is ~0.1 MiB; it runs under the same limits.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, bail};
use frontdesk_plugin_host::{Manifest, sha256_hex};

use super::{Fill, ProjectKind, api_version};

/// The componentize-js release new projects pin and errors name.
pub const COMPONENTIZE_JS: &str = "0.23.0";
/// componentize-js imports this without listing it; 0.26 opens no
/// directory by default, so the build could not read the WIT: pinned.
pub const PREVIEW2_SHIM: &str = "0.25.0";

/// The template's TypeScript declarations, generated from the WIT by
/// `jco guest-types` (see `host/templates/plugin/js/README.md.tmpl`).
#[derive(rust_embed::RustEmbed)]
#[folder = "templates/plugin/js/types/"]
struct Types;

const TEMPLATES: &[(&str, &str)] = &[
    (
        "package.json",
        include_str!("../../../templates/plugin/js/package.json.tmpl"),
    ),
    (
        ".gitignore",
        include_str!("../../../templates/plugin/js/gitignore.tmpl"),
    ),
    (
        "jsconfig.json",
        include_str!("../../../templates/plugin/js/jsconfig.json"),
    ),
    (
        "README.md",
        include_str!("../../../templates/plugin/js/README.md.tmpl"),
    ),
];

const BOT: &[(&str, &str)] = &[
    (
        "src/bot.js",
        include_str!("../../../templates/plugin/js/bot.js.tmpl"),
    ),
    (
        "test/bot.test.js",
        include_str!("../../../templates/plugin/js/bot.test.js.tmpl"),
    ),
];

const CONNECTOR: &[(&str, &str)] = &[
    (
        "src/connector.js",
        include_str!("../../../templates/plugin/js/connector.js.tmpl"),
    ),
    (
        "src/provider.js",
        include_str!("../../../templates/plugin/js/provider.js.tmpl"),
    ),
    (
        "test/provider.test.js",
        include_str!("../../../templates/plugin/js/provider.test.js.tmpl"),
    ),
];

/// The files of a new JavaScript project, beside its manifest.
pub(super) fn project_files(fill: &Fill) -> Vec<(PathBuf, Vec<u8>)> {
    let sources = match fill.kind {
        ProjectKind::Connector => CONNECTOR,
        ProjectKind::Bot => BOT,
    };
    let mut files: Vec<(PathBuf, Vec<u8>)> = TEMPLATES
        .iter()
        .chain(sources)
        .map(|(path, template)| {
            let text = fill
                .fill(template)
                .replace("{{componentize_js}}", COMPONENTIZE_JS)
                .replace("{{preview2_shim}}", PREVIEW2_SHIM);
            (PathBuf::from(path), text.into_bytes())
        })
        .collect();
    for (name, bytes) in super::rust::wit_files() {
        files.push((Path::new("wit").join(name), bytes));
    }
    for path in Types::iter() {
        let bytes = Types::get(&path).expect("listed by iter").data.into_owned();
        files.push((Path::new("types").join(path.as_ref()), bytes));
    }
    files
}

pub(super) fn print_created(kind: ProjectKind, name: &str, shown: &str) {
    let what = kind.as_str();
    println!("created the {what} {name} in {shown} (JavaScript)");
    println!("  {shown}/manifest.toml   name, version, permissions, channel settings");
    println!("  {shown}/src/{what}.js   the {what}; test/ has its unit test");
    println!("  {shown}/package.json    the build tool: componentize-js {COMPONENTIZE_JS}");
    println!(
        "  {shown}/wit/  {shown}/types/   the plugin API {} as WIT and as TypeScript declarations",
        api_version()
    );
    println!("next:");
    println!("  (cd {shown} && npm install && npm test)");
}

/// How to run componentize-js for a project.
enum Tool {
    /// The project's own `node_modules/.bin/componentize-js`.
    Local(PathBuf),
    /// `npx --no-install componentize-js`: found by npm elsewhere (a
    /// workspace root, a global install), never downloaded.
    Npx,
}

impl Tool {
    fn command(&self) -> Command {
        match self {
            Tool::Local(path) => Command::new(path),
            Tool::Npx => {
                let mut command = Command::new("npx");
                command.args(["--no-install", "componentize-js"]);
                command
            }
        }
    }
}

fn install_hint(dir: &Path) -> String {
    format!(
        "run `npm install` in {} (its package.json lists it), or \
         `npm install --save-dev @bytecodealliance/componentize-js@{COMPONENTIZE_JS} \
         @bytecodealliance/preview2-shim@{PREVIEW2_SHIM}`",
        dir.display()
    )
}

/// Finds Node.js and componentize-js, or says what to install.
fn find_tool(dir: &Path) -> anyhow::Result<Tool> {
    let works = |command: &mut Command| {
        command
            .current_dir(dir)
            .stdin(Stdio::null())
            .output()
            .is_ok_and(|out| out.status.success())
    };
    if !works(Command::new("node").arg("--version")) {
        bail!(
            "cannot build {}: Node.js was not found on PATH; install Node.js 20 or newer \
             (https://nodejs.org, or `apt install nodejs npm`), then {}",
            dir.display(),
            install_hint(dir)
        );
    }
    let local = dir.join("node_modules/.bin/componentize-js");
    if local.is_file() {
        // Absolute: the command runs with the project as its directory.
        let local = std::path::absolute(&local)
            .with_context(|| format!("cannot resolve {}", local.display()))?;
        return Ok(Tool::Local(local));
    }
    if works(Tool::Npx.command().arg("--version")) {
        return Ok(Tool::Npx);
    }
    bail!(
        "cannot build {}: componentize-js is not installed for it; {}",
        dir.display(),
        install_hint(dir)
    )
}

/// Builds the project's `main` module into `dist/NAME.wasm` and returns it.
/// A build whose inputs (sources, WIT, package.json, tool version) did not
/// change since the last is kept: componentize-js takes seconds to minutes.
pub(super) fn build(dir: &Path, manifest: &Manifest) -> anyhow::Result<PathBuf> {
    let package_path = dir.join("package.json");
    let package: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(&package_path)
            .with_context(|| format!("cannot read {}", package_path.display()))?,
    )
    .with_context(|| format!("{} is not valid JSON", package_path.display()))?;
    let world = manifest.kind.as_str();
    let default_main = format!("src/{world}.js");
    let main = package["main"].as_str().unwrap_or(&default_main);
    if !dir.join(main).is_file() {
        bail!(
            "{} has no {main}: package.json's \"main\" names the module that exports the \
             {world} world's functions",
            dir.display()
        );
    }
    if !dir.join("wit").join(format!("{world}.wit")).is_file() {
        bail!(
            "{} has no wit/{world}.wit: the build needs the plugin API's WIT in wit/; \
             `frontdesk plugin new {world} NAME --lang js` writes it (copy its wit/ folder)",
            dir.display()
        );
    }
    let tool = find_tool(dir)?;
    let version = tool
        .command()
        .arg("--version")
        .current_dir(dir)
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_string())
        .unwrap_or_default();
    let dist = dir.join("dist");
    let wasm = dist.join(format!("{}.wasm", manifest.name));
    let stamp = dist.join(format!("{}.inputs.sha256", manifest.name));
    let inputs = inputs_hash(dir, &[main, world, &version])?;
    if wasm.is_file() && std::fs::read_to_string(&stamp).ok().as_deref() == Some(&inputs) {
        println!(
            "{} is up to date (its sources did not change)",
            wasm.display()
        );
        return Ok(wasm);
    }
    std::fs::create_dir_all(&dist).with_context(|| format!("cannot create {}", dist.display()))?;
    let _ = std::fs::remove_file(&stamp);
    let out_name = Path::new("dist").join(format!("{}.wasm", manifest.name));
    // Relative paths from the project: componentize-js reads them through a
    // WASI sandbox. wasi:http and fetch are left out: the host has no
    // wasi:http, and requests go through the allow-listed `http` import.
    let status = tool
        .command()
        .current_dir(dir)
        .args([main, "--wit", "wit", "--world-name", world])
        .args(["--disable", "http", "fetch-event", "--out"])
        .arg(&out_name)
        .stdin(Stdio::null())
        .status()
        .context("cannot run componentize-js")?;
    if !status.success() {
        bail!("componentize-js failed ({status}); its messages are above");
    }
    std::fs::write(&stamp, &inputs).with_context(|| format!("cannot write {}", stamp.display()))?;
    println!("built {} with componentize-js {version}", wasm.display());
    Ok(wasm)
}

/// A hash of every project file the component comes from: all files but
/// `node_modules/`, `dist/`, hidden ones and packed archives (symlinks
/// followed, so a linked `wit/` counts), and `extra` (main, world, tool).
fn inputs_hash(dir: &Path, extra: &[&str]) -> anyhow::Result<String> {
    let mut files = Vec::new();
    collect(dir, dir, &mut files)?;
    files.sort();
    let mut all = Vec::new();
    for part in extra {
        all.extend_from_slice(part.as_bytes());
        all.push(0);
    }
    for (relative, path) in files {
        all.extend_from_slice(relative.as_bytes());
        all.push(0);
        let bytes =
            std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        all.extend_from_slice(sha256_hex(&bytes).as_bytes());
    }
    Ok(sha256_hex(&all))
}

fn collect(root: &Path, folder: &Path, files: &mut Vec<(String, PathBuf)>) -> anyhow::Result<()> {
    for entry in
        std::fs::read_dir(folder).with_context(|| format!("cannot list {}", folder.display()))?
    {
        let path = entry?.path();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        let skipped = name.starts_with('.') || name.ends_with(".tar.gz");
        let top = folder == root && (name == "node_modules" || name == "dist");
        if skipped || top {
            continue;
        }
        if path.is_dir() {
            collect(root, &path, files)?;
        } else {
            let relative = path.strip_prefix(root).unwrap_or(&path);
            files.push((relative.to_string_lossy().into_owned(), path));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fill(kind: ProjectKind) -> Fill<'static> {
        Fill {
            name: "orders",
            publisher: "Acme".into(),
            kind,
        }
    }

    #[test]
    fn a_js_project_carries_the_wit_its_types_and_a_pinned_toolchain() {
        for kind in [ProjectKind::Bot, ProjectKind::Connector] {
            let files = project_files(&fill(kind));
            let file = |path: &str| {
                let found = files.iter().find(|(p, _)| p == Path::new(path));
                String::from_utf8(found.unwrap_or_else(|| panic!("no {path}")).1.clone()).unwrap()
            };
            let package: serde_json::Value = serde_json::from_str(&file("package.json")).unwrap();
            assert_eq!(package["main"], format!("src/{}.js", kind.as_str()));
            assert_eq!(
                package["devDependencies"]["@bytecodealliance/componentize-js"],
                COMPONENTIZE_JS
            );
            assert!(file("wit/bot.wit").contains("world bot"));
            assert!(file("wit/types.wit").contains("package frontdesk:plugin@0.1.0"));
            let world = file(&format!("types/{}.d.ts", kind.as_str()));
            assert!(
                world.contains(&format!(
                    "declare module 'frontdesk:plugin/{}@0.1.0'",
                    kind.as_str()
                )),
                "{world}"
            );
            assert!(
                !files
                    .iter()
                    .any(|(_, bytes)| { String::from_utf8_lossy(bytes).contains("{{") })
            );
        }
    }

    #[test]
    fn the_inputs_hash_follows_sources_but_not_builds_or_dependencies() {
        let dir = tempfile::tempdir().unwrap();
        let write = |path: &str, text: &str| {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        write("src/bot.js", "export function onEvent() { return []; }");
        write("package.json", "{}");
        let first = inputs_hash(dir.path(), &["src/bot.js", "bot", "0.23.0"]).unwrap();
        write("dist/orders.wasm", "built");
        write("node_modules/x/index.js", "dependency");
        write("orders-0.1.0.tar.gz", "packed");
        let again = inputs_hash(dir.path(), &["src/bot.js", "bot", "0.23.0"]).unwrap();
        assert_eq!(first, again);
        let other_tool = inputs_hash(dir.path(), &["src/bot.js", "bot", "0.24.0"]).unwrap();
        assert_ne!(first, other_tool);
        write("src/bot.js", "export function onEvent() { return [1]; }");
        let changed = inputs_hash(dir.path(), &["src/bot.js", "bot", "0.23.0"]).unwrap();
        assert_ne!(first, changed);
    }
}
