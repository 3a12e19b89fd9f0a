//! A backup's checks: what `restore` refuses before it writes anything.

use std::path::Path;

use super::archive;
use super::*;

/// A database with the migrations applied and one data dir file, backed up.
async fn backed_up(dir: &Path) -> (PathBuf, Written) {
    let url = format!("sqlite://{}", dir.join("live.db").display());
    drop(crate::store::connect(&url).await.unwrap());
    let data = dir.join("data");
    std::fs::create_dir_all(data.join("plugins")).unwrap();
    std::fs::write(data.join("plugins/echo.toml"), b"name = \"echo\"").unwrap();
    std::fs::write(data.join(crate::node::NODE_ID_FILE), b"node-a").unwrap();
    let out = dir.join("b.tar.gz");
    let written = create(&url, &data, &out).await.unwrap();
    (out, written)
}

/// Rewrites the archive at `path` after `change` edits its unpacked files
/// and manifest (as someone who tampered with it would).
fn rewrite(path: &Path, change: impl FnOnce(&Path, &mut Manifest)) {
    let staging = tempfile::tempdir().unwrap();
    let mut manifest = archive::unpack(path, staging.path()).unwrap();
    std::fs::remove_file(staging.path().join(MANIFEST)).unwrap();
    change(staging.path(), &mut manifest);
    archive::write(staging.path(), &manifest, path).unwrap();
}

fn target(dir: &Path, name: &str) -> (String, PathBuf) {
    let url = format!("sqlite://{}", dir.join(name).join("fd.db").display());
    (url, dir.join(name).join("data"))
}

#[tokio::test]
async fn a_backup_restores_whole_and_leaves_the_node_id_behind() {
    let dir = tempfile::tempdir().unwrap();
    let (out, written) = backed_up(dir.path()).await;
    assert_eq!(written.manifest.schema_version, newest_schema());
    assert!(
        written
            .manifest
            .files
            .contains_key("data/plugins/echo.toml")
    );
    assert!(!written.manifest.files.contains_key("data/node-id"));
    let (url, data) = target(dir.path(), "fresh");
    let restored = restore(&out, &url, &data, false).unwrap();
    assert_eq!(restored.data_files, 1);
    assert_eq!(
        std::fs::read(data.join("plugins/echo.toml")).unwrap(),
        b"name = \"echo\""
    );
    // The restored file opens as a store (migrations applied already).
    drop(crate::store::connect(&url).await.unwrap());
}

#[tokio::test]
async fn a_damaged_or_newer_backup_is_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let (out, _) = backed_up(dir.path()).await;

    let damaged = dir.path().join("damaged.tar.gz");
    std::fs::copy(&out, &damaged).unwrap();
    rewrite(&damaged, |root, _| {
        std::fs::write(root.join("data/plugins/echo.toml"), b"name = \"evil\"").unwrap();
    });
    let (url, data) = target(dir.path(), "one");
    let err = restore(&damaged, &url, &data, false)
        .unwrap_err()
        .to_string();
    assert!(err.contains("is damaged: data/plugins/echo.toml"), "{err}");
    assert!(
        !dir.path().join("one/fd.db").exists(),
        "nothing was written"
    );

    let newer = dir.path().join("newer.tar.gz");
    std::fs::copy(&out, &newer).unwrap();
    rewrite(&newer, |_, manifest| {
        manifest.schema_version = newest_schema() + 1;
        manifest.frontdesk_version = "9.9.9".into();
    });
    let err = restore(&newer, &url, &data, false).unwrap_err().to_string();
    assert!(
        err.contains("restore it with frontdesk 9.9.9 or newer"),
        "{err}"
    );

    let not_a_backup = dir.path().join("notes.tar.gz");
    std::fs::write(&not_a_backup, b"plain text").unwrap();
    let err = restore(&not_a_backup, &url, &data, false)
        .unwrap_err()
        .to_string();
    assert!(err.contains("cannot read the backup"), "{err}");
    assert!(
        !dir.path().join("one/fd.db").exists(),
        "nothing was written"
    );
}

#[tokio::test]
async fn postgres_and_missing_databases_get_told_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let err = create("postgres://u@h/db", dir.path(), &dir.path().join("o"))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("pg_dump"), "{err}");
    let missing = format!("sqlite://{}", dir.path().join("none.db").display());
    let err = create(&missing, dir.path(), &dir.path().join("o"))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("there is no database at"), "{err}");
}
