//! Backup and restore of the embedded SQLite default (issue 19).
//!
//! A backup is one `.tar.gz`: `manifest.json` first (frontdesk version,
//! schema version = the newest migration applied, the time, the SHA-256 and
//! size of every file), then `database/frontdesk.db` (a `VACUUM INTO` copy:
//! one read transaction, so it is consistent while the server keeps
//! writing) and the plugin data dir under `data/`. PostgreSQL is backed up
//! with `pg_dump` instead (docs/backup.md).

mod archive;
mod restore;
pub mod schedule;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sqlx::Connection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};

pub use restore::{Restored, restore};

/// The manifest's name in the archive; it comes first.
pub const MANIFEST: &str = "manifest.json";
/// The database copy's name in the archive.
pub const DATABASE: &str = "database/frontdesk.db";
/// Where the plugin data dir's files go in the archive.
pub const DATA: &str = "data";
/// This archive layout's version; a restore refuses any other.
pub const FORMAT: u32 = 1;
/// Files of the data dir a backup leaves out: the node's id belongs to the
/// machine that runs it, not to the data (a restored server takes its own).
const NOT_BACKED_UP: [&str; 1] = [crate::node::NODE_ID_FILE];

/// What went wrong, said so that the operator knows what to do.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(
        "frontdesk backup and restore copy the embedded SQLite database; for PostgreSQL use pg_dump and pg_restore \
         (pg_dump --format=custom --file=frontdesk.dump DATABASE_URL), and back up the data dir with tar: see docs/backup.md"
    )]
    Postgres,
    #[error("{0}")]
    Invalid(String),
    // The cause is part of the message (not a `source`), so that a log
    // line shows it and an error chain does not say it twice.
    #[error("{what}: {cause}")]
    Io { what: String, cause: std::io::Error },
    #[error("{what}: {cause}")]
    Database { what: String, cause: sqlx::Error },
}

impl BackupError {
    fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> BackupError {
        let what = what.into();
        move |cause| BackupError::Io { what, cause }
    }

    fn db(what: impl Into<String>) -> impl FnOnce(sqlx::Error) -> BackupError {
        let what = what.into();
        move |cause| BackupError::Database { what, cause }
    }
}

/// One file in the archive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    pub size: u64,
    /// Hex SHA-256 of the file's bytes.
    pub sha256: String,
}

/// How much the database held, to say what a backup or restore holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub contacts: i64,
    pub sessions: i64,
    pub messages: i64,
    pub attachments: i64,
}

/// `manifest.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    /// The frontdesk that wrote the backup.
    pub frontdesk_version: String,
    /// The newest migration applied to the database when it was copied.
    pub schema_version: i64,
    /// When the copy was taken, RFC 3339 UTC.
    pub created_at: String,
    pub counts: Counts,
    /// Every other file in the archive, by its path there.
    pub files: BTreeMap<String, FileEntry>,
}

/// A backup written.
#[derive(Debug, Clone)]
pub struct Written {
    pub path: PathBuf,
    pub bytes: u64,
    pub manifest: Manifest,
}

/// The SQLite file a database URL names; PostgreSQL and in-memory
/// databases have no file to copy.
pub fn sqlite_path(database_url: &str) -> Result<PathBuf, BackupError> {
    if database_url.starts_with("postgres://") || database_url.starts_with("postgresql://") {
        return Err(BackupError::Postgres);
    }
    let path = database_url
        .strip_prefix("sqlite://")
        .or_else(|| database_url.strip_prefix("sqlite:"))
        .unwrap_or(database_url);
    let path = path.split('?').next().unwrap_or(path);
    if path.is_empty() || path.contains(":memory:") || path.contains("://") {
        return Err(BackupError::Invalid(format!(
            "--database {database_url:?} names no database file; backups need sqlite://PATH"
        )));
    }
    Ok(PathBuf::from(path))
}

/// Opens an existing SQLite file without applying migrations.
async fn open(path: &Path) -> Result<SqliteConnection, BackupError> {
    let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))
        .map_err(BackupError::db(format!("cannot open {}", path.display())))?
        .create_if_missing(false)
        .busy_timeout(Duration::from_secs(30));
    SqliteConnection::connect_with(&options)
        .await
        .map_err(BackupError::db(format!(
            "cannot open the database {}",
            path.display()
        )))
}

/// The newest migration applied, and what the database holds.
async fn describe(conn: &mut SqliteConnection) -> Result<(i64, Counts), BackupError> {
    let (schema,): (i64,) =
        sqlx::query_as("SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations WHERE success")
            .fetch_one(&mut *conn)
            .await
            .map_err(BackupError::db(
                "the file is not a frontdesk database (it has no migrations table)",
            ))?;
    let (contacts, sessions, messages, attachments): (i64, i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM contacts), (SELECT COUNT(*) FROM sessions), \
         (SELECT COUNT(*) FROM messages), (SELECT COUNT(*) FROM attachments)",
    )
    .fetch_one(&mut *conn)
    .await
    .map_err(BackupError::db("cannot count the database's rows"))?;
    Ok((
        schema,
        Counts {
            contacts,
            sessions,
            messages,
            attachments,
        },
    ))
}

/// The newest migration this binary knows.
pub fn newest_schema() -> i64 {
    sqlx::migrate!("migrations/sqlite")
        .iter()
        .map(|m| m.version)
        .max()
        .unwrap_or(0)
}

/// Writes a backup of the database `database_url` and the data dir
/// `data_dir` (if it exists) to `out`. The server may keep running: the
/// database is copied in one read transaction (`VACUUM INTO`). `out`
/// appears only when complete (written beside it, then renamed).
pub async fn create(
    database_url: &str,
    data_dir: &Path,
    out: &Path,
) -> Result<Written, BackupError> {
    let db = sqlite_path(database_url)?;
    if !db.is_file() {
        return Err(BackupError::Invalid(format!(
            "there is no database at {}; check --database (FRONTDESK_DATABASE)",
            db.display()
        )));
    }
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(BackupError::io(format!(
        "cannot create the backup's folder {}",
        parent.display()
    )))?;
    let staging = tempfile::Builder::new()
        .prefix(".frontdesk-backup-")
        .tempdir_in(&parent)
        .map_err(BackupError::io(format!(
            "cannot write in {}; check its permissions and free space",
            parent.display()
        )))?;
    let copy = staging.path().join(DATABASE);
    std::fs::create_dir_all(copy.parent().expect("has a parent"))
        .map_err(BackupError::io("cannot create the staging folder"))?;
    let created_at = jiff::Timestamp::now();
    let mut conn = open(&db).await?;
    sqlx::query("VACUUM INTO $1")
        .bind(copy.to_string_lossy().into_owned())
        .execute(&mut conn)
        .await
        .map_err(BackupError::db(format!(
            "cannot copy the database {} (VACUUM INTO); check free space in {}",
            db.display(),
            parent.display()
        )))?;
    conn.close().await.ok();
    let mut copied = open(&copy).await?;
    let (schema_version, counts) = describe(&mut copied).await?;
    copied.close().await.ok();
    let (data_dir, out) = (data_dir.to_path_buf(), out.to_path_buf());
    tokio::task::spawn_blocking(move || {
        archive::copy_tree(&data_dir, &staging.path().join(DATA), &NOT_BACKED_UP)?;
        let manifest = Manifest {
            format: FORMAT,
            frontdesk_version: env!("CARGO_PKG_VERSION").to_string(),
            schema_version,
            created_at: created_at.to_string(),
            counts,
            files: archive::checksums(staging.path())?,
        };
        let bytes = archive::write(staging.path(), &manifest, &out)?;
        Ok(Written {
            path: out,
            bytes,
            manifest,
        })
    })
    .await
    .map_err(|e| BackupError::Invalid(format!("the backup task failed: {e}")))?
}

#[cfg(test)]
mod tests;
