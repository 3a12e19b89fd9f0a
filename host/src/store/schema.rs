//! Which migrations a database has, next to the ones this binary carries.
//!
//! Migrations only go forward: `serve` and `migrate` apply the missing ones
//! at start. A database that has a migration this binary does not know was
//! upgraded by a newer frontdesk, and an older binary must not write to it
//! (its SQL may rely on columns the newer schema changed), so [`connect`]
//! refuses it before touching anything, naming both versions.
//! `frontdesk migrate --check` and `frontdesk check` read the same state
//! without applying or creating anything ([`inspect`]).
//!
//! [`connect`]: super::connect

use std::path::Path;
use std::str::FromStr;

use sqlx::migrate::Migrator;
use sqlx::postgres::PgConnectOptions;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection, Pool, Postgres, Sqlite};

use super::{Result, StoreError};

/// The SQLite schema's migrations, compiled into the binary.
pub(super) static SQLITE: Migrator = sqlx::migrate!("migrations/sqlite");
/// The PostgreSQL schema's migrations, compiled into the binary.
pub(super) static POSTGRES: Migrator = sqlx::migrate!("migrations/postgres");

/// Where sqlx records applied migrations (its default table name).
const TABLE: &str = "_sqlx_migrations";

/// The database a URL names, as [`super::connect`] reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location<'a> {
    /// A file path, possibly with `?mode=...`-style options after it.
    Sqlite(&'a str),
    /// A `postgres://` or `postgresql://` URL, whole.
    Postgres(&'a str),
}

impl<'a> Location<'a> {
    /// `sqlite://PATH`, `sqlite:PATH`, a bare path, or a PostgreSQL URL.
    pub fn parse(url: &'a str) -> Result<Self> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Location::Postgres(url))
        } else if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            Ok(Location::Sqlite(path))
        } else if !url.contains("://") {
            Ok(Location::Sqlite(url))
        } else {
            Err(StoreError::UnsupportedUrl(url.to_string()))
        }
    }

    /// The SQLite file's path without connection options; `None` for PostgreSQL.
    pub fn sqlite_file(&self) -> Option<&'a Path> {
        match self {
            Location::Sqlite(path) => Some(Path::new(path.split('?').next().unwrap_or(path))),
            Location::Postgres(_) => None,
        }
    }

    fn migrator(&self) -> &'static Migrator {
        match self {
            Location::Sqlite(_) => &SQLITE,
            Location::Postgres(_) => &POSTGRES,
        }
    }
}

/// One migration: its number and what it does (from its file name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationName {
    pub version: i64,
    pub description: String,
}

impl std::fmt::Display for MigrationName {
    /// `0018 tokens totp`, as the file is named.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04} {}", self.version, self.description)
    }
}

/// A row of the database's migration table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedMigration {
    pub name: MigrationName,
    /// `false`: it failed half-way (only possible for a migration run outside a transaction).
    pub success: bool,
    pub checksum: Vec<u8>,
}

/// A database's migrations beside the binary's.
#[derive(Debug, Clone)]
pub struct SchemaState {
    /// `sqlite` or `postgres`.
    pub backend: &'static str,
    /// `false` for a SQLite file that does not exist yet (`serve` creates it).
    pub exists: bool,
    /// What the database has, oldest first.
    pub applied: Vec<AppliedMigration>,
    /// What this binary carries, oldest first.
    pub known: Vec<MigrationName>,
    /// Checksums of the binary's migrations, by version, to spot edited ones.
    known_checksums: Vec<(i64, Vec<u8>)>,
}

impl SchemaState {
    fn new(
        backend: &'static str,
        exists: bool,
        applied: Vec<AppliedMigration>,
        m: &Migrator,
    ) -> Self {
        let up = m.iter().filter(|m| !m.migration_type.is_down_migration());
        let (known, known_checksums) = up
            .map(|m| {
                let name = MigrationName {
                    version: m.version,
                    description: m.description.to_string(),
                };
                (name, (m.version, m.checksum.to_vec()))
            })
            .unzip();
        SchemaState {
            backend,
            exists,
            applied,
            known,
            known_checksums,
        }
    }

    /// The newest migration this binary carries (0 when it carries none).
    pub fn binary_latest(&self) -> i64 {
        self.known.last().map_or(0, |m| m.version)
    }

    /// The newest migration the database has (`None` for a new database).
    pub fn database_latest(&self) -> Option<&MigrationName> {
        self.applied.last().map(|m| &m.name)
    }

    /// The binary's migrations the database lacks: what `migrate` would apply.
    pub fn pending(&self) -> Vec<&MigrationName> {
        self.known
            .iter()
            .filter(|k| !self.applied.iter().any(|a| a.name.version == k.version))
            .collect()
    }

    /// Applied migrations this binary does not carry: a newer frontdesk's.
    pub fn unknown(&self) -> Vec<&MigrationName> {
        self.applied
            .iter()
            .map(|a| &a.name)
            .filter(|a| !self.known.iter().any(|k| k.version == a.version))
            .collect()
    }

    /// Applied migrations whose SQL differs from the binary's file of that number.
    pub fn modified(&self) -> Vec<&MigrationName> {
        self.applied
            .iter()
            .filter(|a| {
                self.known_checksums
                    .iter()
                    .any(|(v, sum)| *v == a.name.version && *sum != a.checksum)
            })
            .map(|a| &a.name)
            .collect()
    }

    /// A migration that failed half-way, which sqlx will not run past.
    pub fn failed(&self) -> Option<&MigrationName> {
        self.applied.iter().find(|a| !a.success).map(|a| &a.name)
    }

    /// `Err` when the database has a migration this binary does not carry:
    /// [`StoreError::SchemaTooNew`] when a newer frontdesk upgraded it,
    /// [`StoreError::SchemaForeign`] for an older one from another build.
    pub fn refuse_unknown(&self) -> Result<()> {
        let binary = self.binary_latest();
        let unknown = self.unknown();
        if let Some(newest) = unknown.iter().rfind(|m| m.version > binary) {
            return Err(StoreError::SchemaTooNew {
                database: (*newest).clone(),
                binary,
            });
        }
        match unknown.first() {
            Some(foreign) => Err(StoreError::SchemaForeign((*foreign).clone())),
            None => Ok(()),
        }
    }
}

/// Refuses a database a newer frontdesk has migrated, then applies this
/// binary's missing migrations. The check reads before anything is written.
pub(super) async fn migrate_sqlite(pool: &Pool<Sqlite>) -> Result<()> {
    let mut conn = pool.acquire().await?;
    let applied = applied_sqlite(&mut conn).await?;
    drop(conn);
    SchemaState::new("sqlite", true, applied, &SQLITE).refuse_unknown()?;
    SQLITE.run(pool).await?;
    Ok(())
}

/// [`migrate_sqlite`] for PostgreSQL.
pub(super) async fn migrate_postgres(pool: &Pool<Postgres>) -> Result<()> {
    let mut conn = pool.acquire().await?;
    let applied = applied_postgres(&mut conn).await?;
    drop(conn);
    SchemaState::new("postgres", true, applied, &POSTGRES).refuse_unknown()?;
    POSTGRES.run(pool).await?;
    Ok(())
}

/// The database's migration state, read without writing, migrating or
/// creating anything (a SQLite file that is missing stays missing).
pub async fn inspect(url: &str) -> Result<SchemaState> {
    let location = Location::parse(url)?;
    let migrator = location.migrator();
    match location {
        Location::Sqlite(path) => {
            let file = location.sqlite_file().unwrap_or(Path::new(path));
            if !file.exists() {
                return Ok(SchemaState::new("sqlite", false, Vec::new(), migrator));
            }
            let mut conn = SqliteConnectOptions::from_str(&format!("sqlite://{path}"))?
                .read_only(true)
                .connect()
                .await?;
            let applied = applied_sqlite(&mut conn).await;
            conn.close().await?;
            Ok(SchemaState::new("sqlite", true, applied?, migrator))
        }
        Location::Postgres(url) => {
            let mut conn = PgConnectOptions::from_str(url)?.connect().await?;
            let applied = applied_postgres(&mut conn).await;
            conn.close().await?;
            Ok(SchemaState::new("postgres", true, applied?, migrator))
        }
    }
}

type Row = (i64, String, bool, Vec<u8>);

fn rows_to_applied(rows: Vec<Row>) -> Vec<AppliedMigration> {
    rows.into_iter()
        .map(
            |(version, description, success, checksum)| AppliedMigration {
                name: MigrationName {
                    version,
                    description,
                },
                success,
                checksum,
            },
        )
        .collect()
}

const SELECT_APPLIED: &str =
    "SELECT version, description, success, checksum FROM _sqlx_migrations ORDER BY version";

async fn applied_sqlite(conn: &mut sqlx::SqliteConnection) -> Result<Vec<AppliedMigration>> {
    let (exists,): (bool,) = sqlx::query_as(
        "SELECT EXISTS(SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?)",
    )
    .bind(TABLE)
    .fetch_one(&mut *conn)
    .await?;
    if !exists {
        return Ok(Vec::new());
    }
    let rows: Vec<Row> = sqlx::query_as(SELECT_APPLIED).fetch_all(&mut *conn).await?;
    Ok(rows_to_applied(rows))
}

async fn applied_postgres(conn: &mut sqlx::PgConnection) -> Result<Vec<AppliedMigration>> {
    // `to_regclass` follows the search path, as sqlx's unqualified table name does.
    let (exists,): (bool,) = sqlx::query_as("SELECT to_regclass($1) IS NOT NULL")
        .bind(TABLE)
        .fetch_one(&mut *conn)
        .await?;
    if !exists {
        return Ok(Vec::new());
    }
    let rows: Vec<Row> = sqlx::query_as(SELECT_APPLIED).fetch_all(&mut *conn).await?;
    Ok(rows_to_applied(rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn applied(versions: &[i64]) -> Vec<AppliedMigration> {
        versions
            .iter()
            .map(|&version| {
                let checksum = SQLITE
                    .iter()
                    .find(|m| m.version == version)
                    .map_or_else(|| vec![1, 2, 3], |m| m.checksum.to_vec());
                AppliedMigration {
                    name: MigrationName {
                        version,
                        description: format!("m{version}"),
                    },
                    success: true,
                    checksum,
                }
            })
            .collect()
    }

    #[test]
    fn a_new_database_lacks_every_migration_and_is_not_refused() {
        let state = SchemaState::new("sqlite", false, Vec::new(), &SQLITE);
        assert_eq!(state.pending().len(), state.known.len());
        assert!(state.database_latest().is_none());
        state.refuse_unknown().unwrap();
    }

    #[test]
    fn an_older_database_lists_exactly_the_missing_migrations() {
        let all: Vec<i64> = SQLITE.iter().map(|m| m.version).collect();
        let state = SchemaState::new("sqlite", true, applied(&all[..all.len() - 2]), &SQLITE);
        let pending: Vec<i64> = state.pending().iter().map(|m| m.version).collect();
        assert_eq!(pending, all[all.len() - 2..]);
        assert!(state.unknown().is_empty() && state.modified().is_empty());
        state.refuse_unknown().unwrap();
    }

    #[test]
    fn a_newer_database_is_refused_naming_both_versions() {
        let mut versions: Vec<i64> = SQLITE.iter().map(|m| m.version).collect();
        versions.push(9001);
        let state = SchemaState::new("sqlite", true, applied(&versions), &SQLITE);
        let err = state.refuse_unknown().unwrap_err().to_string();
        let latest = format!("{:04}", state.binary_latest());
        assert!(err.contains("9001 m9001") && err.contains(&latest), "{err}");
        assert!(err.contains("newer frontdesk"), "{err}");
    }

    #[test]
    fn an_unknown_older_migration_is_refused_as_another_builds() {
        let mut versions: Vec<i64> = SQLITE.iter().map(|m| m.version).collect();
        versions.push(9);
        versions.sort();
        let state = SchemaState::new("sqlite", true, applied(&versions), &SQLITE);
        let err = state.refuse_unknown().unwrap_err().to_string();
        assert!(
            err.contains("migration 0009 m9, which this binary does not carry"),
            "{err}"
        );
    }

    #[test]
    fn an_edited_migration_is_reported() {
        let mut rows = applied(&[1]);
        rows[0].checksum = vec![0];
        let state = SchemaState::new("sqlite", true, rows, &SQLITE);
        assert_eq!(state.modified()[0].version, 1);
    }

    #[test]
    fn urls_name_the_same_database_as_connect() {
        assert_eq!(
            Location::parse("sqlite:///var/lib/fd.db?mode=rwc")
                .unwrap()
                .sqlite_file(),
            Some(Path::new("/var/lib/fd.db"))
        );
        assert_eq!(Location::parse("fd.db").unwrap(), Location::Sqlite("fd.db"));
        assert!(matches!(
            Location::parse("postgresql://u@h/db").unwrap(),
            Location::Postgres(_)
        ));
        assert!(Location::parse("mysql://h/db").is_err());
    }
}
