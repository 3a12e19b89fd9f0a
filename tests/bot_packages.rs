//! B2 on the real binary: `frontdesk plugin install` refuses a package whose
//! manifest is invalid, whose API version does not fit, or that does not say
//! it works with open channels, each with a message saying what to fix; the
//! same archive with a good manifest installs and shows its permissions.

use crate::support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::{plugin_cli, plugin_command, plugin_package};

/// Writes a `.tar.gz` of `files` with the system's tar, as a publisher would.
fn tarball(dir: &Path, name: &str, files: &[(&str, &[u8])]) -> PathBuf {
    let folder = dir.join(name);
    std::fs::create_dir_all(&folder).unwrap();
    for (file, bytes) in files {
        std::fs::write(folder.join(file), bytes).unwrap();
    }
    let out = dir.join(format!("{name}.tar.gz"));
    let status = Command::new("tar")
        .arg("-czf")
        .arg(&out)
        .arg("-C")
        .arg(&folder)
        .args(files.iter().map(|(f, _)| *f))
        .status()
        .unwrap();
    assert!(status.success());
    out
}

#[test]
fn b2_install_refuses_bad_packages_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let good = plugin_package("../bots/faq", "faq_bot", dir.path());
    let manifest = std::fs::read_to_string(good.join("manifest.toml")).unwrap();
    let wasm = std::fs::read(good.join("plugin.wasm")).unwrap();
    let refused = |name: &str, manifest: &str| {
        let archive = tarball(
            dir.path(),
            name,
            &[
                ("manifest.toml", manifest.as_bytes()),
                ("plugin.wasm", &wasm),
            ],
        );
        let out = plugin_command(&data, &["install", archive.to_str().unwrap()]);
        assert!(!out.status.success(), "{name} was installed");
        String::from_utf8(out.stderr).unwrap()
    };

    let bad = refused(
        "bad-manifest",
        &manifest.replace("kind = \"bot\"", "kind = \"robot\""),
    );
    assert!(bad.contains("manifest.toml is invalid"), "{bad}");
    assert!(bad.contains("robot"), "{bad}");

    let api = refused(
        "wrong-api",
        &manifest.replace("api = \"0.1.0\"", "api = \"9.0.0\""),
    );
    assert!(
        api.contains("needs plugin API 9.0.0, but this host (frontdesk ")
            && api.contains(
                "a newer frontdesk release that implements plugin API 9.0.0 would run it"
            )
            && api.contains("rebuild it against frontdesk-plugin-api 0.1.0"),
        "{api}"
    );

    let flag = refused("no-flag", &manifest.replace("open_channels = true", ""));
    assert!(
        flag.contains("does not declare that it works with open channels")
            && flag.contains("open_channels = true"),
        "{flag}"
    );

    let nothing = plugin_command(&data, &["list"]);
    assert!(
        nothing.status.success(),
        "{}",
        String::from_utf8_lossy(&nothing.stderr)
    );
    // Only the plugins the binary carries are listed.
    let listed = String::from_utf8_lossy(&nothing.stdout);
    assert!(
        listed
            .lines()
            .filter(|line| !line.starts_with(' '))
            .all(|line| line.ends_with("[built-in]")),
        "nothing was installed: {listed}"
    );
    // The good one installs from the same kind of archive.
    let archive = tarball(
        dir.path(),
        "good",
        &[
            ("manifest.toml", manifest.as_bytes()),
            ("plugin.wasm", &wasm),
        ],
    );
    let shown = plugin_cli(&data, &["install", archive.to_str().unwrap()]);
    assert!(shown.contains("permissions: none"), "{shown}");
    assert!(shown.contains("installed faq 0.1.0"), "{shown}");
}
