//! `frontdesk restore`: checks a backup whole before it touches anything,
//! and never writes under a running server.

use std::fs::File;
use std::path::{Path, PathBuf};

use super::archive::{self, remove_file_if_any, sync_dir};
use super::{BackupError, DATA, DATABASE, FORMAT, MANIFEST, Manifest, newest_schema, sqlite_path};

/// A restore done.
#[derive(Debug, Clone)]
pub struct Restored {
    pub database: PathBuf,
    pub data_dir: PathBuf,
    /// Files put into the data dir.
    pub data_files: usize,
    pub manifest: Manifest,
}

/// Takes the lock file a running server holds on `path`, if nobody holds it:
/// `None` means a server is running there. Held until dropped, so no server
/// starts on the target while the restore writes.
fn lock_if_free(path: &Path) -> Result<Option<File>, BackupError> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(BackupError::io(format!("cannot open {}", path.display())))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(std::fs::TryLockError::WouldBlock) => Ok(None),
        Err(std::fs::TryLockError::Error(e)) => Err(BackupError::io(format!(
            "cannot lock {}",
            path.display()
        ))(e)),
    }
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// What already exists at the target, in words; empty when nothing does.
fn existing(db: &Path, data_dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    if std::fs::metadata(db).is_ok_and(|m| m.len() > 0) {
        found.push(format!("the database {}", db.display()));
    }
    let data_files = std::fs::read_dir(data_dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|e| e.file_name() != crate::node::NODE_ID_FILE)
                .count()
        })
        .unwrap_or(0);
    if data_files > 0 {
        found.push(format!(
            "{data_files} entries in the data dir {}",
            data_dir.display()
        ));
    }
    found
}

/// Checks every file against the manifest: same set, sizes and SHA-256.
fn verify(staging: &Path, manifest: &Manifest, from: &Path) -> Result<(), BackupError> {
    if manifest.format != FORMAT {
        return Err(BackupError::Invalid(format!(
            "{} is a backup of format {}, this frontdesk reads format {FORMAT}",
            from.display(),
            manifest.format
        )));
    }
    let mut found = archive::checksums(staging)?;
    found.remove(MANIFEST);
    for (name, expected) in &manifest.files {
        match found.remove(name) {
            None => {
                return Err(BackupError::Invalid(format!(
                    "{} is incomplete: {name} is in its manifest but not in the archive",
                    from.display()
                )));
            }
            Some(actual) if actual != *expected => {
                return Err(BackupError::Invalid(format!(
                    "{} is damaged: {name} has SHA-256 {} ({} bytes), its manifest says {} ({} bytes)",
                    from.display(),
                    actual.sha256,
                    actual.size,
                    expected.sha256,
                    expected.size
                )));
            }
            Some(_) => {}
        }
    }
    if let Some(extra) = found.keys().next() {
        return Err(BackupError::Invalid(format!(
            "{} holds {extra}, which its manifest does not list; it was changed after it was written",
            from.display()
        )));
    }
    if !manifest.files.contains_key(DATABASE) {
        return Err(BackupError::Invalid(format!(
            "{} holds no database ({DATABASE})",
            from.display()
        )));
    }
    let newest = newest_schema();
    if manifest.schema_version > newest {
        return Err(BackupError::Invalid(format!(
            "{} was written by frontdesk {} with schema version {}; this frontdesk ({}) knows schema versions up to {newest}: \
             restore it with frontdesk {} or newer",
            from.display(),
            manifest.frontdesk_version,
            manifest.schema_version,
            env!("CARGO_PKG_VERSION"),
            manifest.frontdesk_version
        )));
    }
    Ok(())
}

/// Restores the backup `from` to the SQLite database `database_url` and the
/// data dir `data_dir`. Refuses while a server runs on either (it holds
/// `{database}.routing.lock` and `{data_dir}/node-id`), and refuses a target
/// that holds data unless `force`. Checks every checksum and the schema
/// version before it writes anything. An older schema is fine: the next
/// `serve` applies the newer migrations.
pub fn restore(
    from: &Path,
    database_url: &str,
    data_dir: &Path,
    force: bool,
) -> Result<Restored, BackupError> {
    let db = sqlite_path(database_url)?;
    let db_dir = match db.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    for dir in [&db_dir, &data_dir.to_path_buf()] {
        std::fs::create_dir_all(dir)
            .map_err(BackupError::io(format!("cannot create {}", dir.display())))?;
    }
    let live = |what: &Path| {
        BackupError::Invalid(format!(
            "a frontdesk server is running on this target (it holds {}); stop it before restoring",
            what.display()
        ))
    };
    let routing_lock = with_suffix(&db, ".routing.lock");
    let _db_lock = lock_if_free(&routing_lock)?.ok_or_else(|| live(&routing_lock))?;
    let node_id = data_dir.join(crate::node::NODE_ID_FILE);
    let _node_lock = lock_if_free(&node_id)?.ok_or_else(|| live(&node_id))?;
    let found = existing(&db, data_dir);
    if !found.is_empty() && !force {
        return Err(BackupError::Invalid(format!(
            "the target is not empty ({}); restore into a fresh --database and --data-dir, \
             or pass --force to replace them (the server must be stopped)",
            found.join(", ")
        )));
    }
    let staging = tempfile::Builder::new()
        .prefix(".frontdesk-restore-")
        .tempdir_in(&db_dir)
        .map_err(BackupError::io(format!(
            "cannot write in {}; check its permissions and free space",
            db_dir.display()
        )))?;
    let manifest = archive::unpack(from, staging.path())?;
    verify(staging.path(), &manifest, from)?;

    // Everything checked: replace the target.
    for suffix in ["", "-wal", "-shm", "-journal"] {
        remove_file_if_any(&with_suffix(&db, suffix))?;
    }
    std::fs::rename(staging.path().join(DATABASE), &db).map_err(BackupError::io(format!(
        "cannot move the database into {}",
        db.display()
    )))?;
    sync_dir(&db_dir);
    if force {
        for (relative, path) in archive::files_under(data_dir)? {
            if relative.as_os_str() != crate::node::NODE_ID_FILE {
                remove_file_if_any(&path)?;
            }
        }
    }
    let data_files = archive::files_under(&staging.path().join(DATA))?.len();
    archive::copy_tree(&staging.path().join(DATA), data_dir, &[])?;
    Ok(Restored {
        database: db,
        data_dir: data_dir.to_path_buf(),
        data_files,
        manifest,
    })
}
