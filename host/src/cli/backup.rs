//! `frontdesk backup`, `frontdesk restore`, and `serve`'s scheduled backup
//! and retention flags (issue 19; docs/backup.md, docs/data-protection.md).

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::app::App;
use crate::backup::schedule::{Schedule, parse_every};
use crate::backup::{self, Manifest};

/// `frontdesk backup OUT`.
#[derive(clap::Args)]
pub struct BackupArgs {
    /// The archive to write, e.g. frontdesk-2026-12-07.tar.gz (written beside it as OUT.partial, then renamed).
    pub out: PathBuf,
    /// The plugin data dir to include.
    #[arg(long, env = "FRONTDESK_DATA_DIR", default_value = super::plugin::DEFAULT_DATA_DIR)]
    pub data_dir: PathBuf,
}

/// `frontdesk restore IN`.
#[derive(clap::Args)]
pub struct RestoreArgs {
    /// The archive `frontdesk backup` wrote.
    pub archive: PathBuf,
    /// Where the plugin data dir goes (made when missing).
    #[arg(long, env = "FRONTDESK_DATA_DIR", default_value = super::plugin::DEFAULT_DATA_DIR)]
    pub data_dir: PathBuf,
    /// Replace a database and data dir that hold data (the server must be stopped).
    #[arg(long)]
    pub force: bool,
}

/// `serve`'s flags for scheduled backups and retention.
#[derive(clap::Args)]
pub struct DataArgs {
    /// Back up the SQLite database and data dir this often (e.g. 6h, 1d; off when unset); needs --backup-dir.
    #[arg(long, env = "FRONTDESK_BACKUP_EVERY", value_parser = parse_every)]
    pub backup_every: Option<Duration>,
    /// Scheduled backups to keep in --backup-dir; older ones are deleted.
    #[arg(long, env = "FRONTDESK_BACKUP_KEEP", default_value_t = 7)]
    pub backup_keep: usize,
    /// Where scheduled backups go (best on another disk than the database).
    #[arg(long, env = "FRONTDESK_BACKUP_DIR")]
    pub backup_dir: Option<PathBuf>,
    /// How often this node applies the channels' retention_days (e.g. 1h, 10m).
    #[arg(long, env = "FRONTDESK_RETENTION_EVERY", value_parser = parse_every,
        default_value = crate::retention::DEFAULT_EVERY)]
    pub retention_every: Duration,
}

impl DataArgs {
    /// The backup schedule, checked; `None` when scheduled backups are off.
    pub fn schedule(&self, database: &str, data_dir: &Path) -> anyhow::Result<Option<Schedule>> {
        let Some(every) = self.backup_every else {
            return Ok(None);
        };
        let Some(dir) = &self.backup_dir else {
            anyhow::bail!(
                "--backup-every needs --backup-dir DIR: where the backups go (best on another disk than the database)"
            );
        };
        let schedule = Schedule {
            every,
            keep: self.backup_keep,
            dir: dir.clone(),
            database: database.to_string(),
            data_dir: data_dir.to_path_buf(),
        };
        schedule.check()?;
        Ok(Some(schedule))
    }

    /// Starts retention and, if `schedule`, scheduled backups on this node.
    pub fn start(&self, app: &App, schedule: Option<Schedule>) {
        crate::retention::start(app, self.retention_every);
        if let Some(schedule) = schedule {
            tracing::info!(
                every = ?schedule.every,
                keep = schedule.keep,
                dir = %schedule.dir.display(),
                "scheduled backups on"
            );
            crate::backup::schedule::start(schedule, &app.workers);
        }
    }
}

/// What a backup holds, in one line.
fn holds(manifest: &Manifest) -> String {
    let c = &manifest.counts;
    format!(
        "schema version {}, {} contacts, {} sessions, {} messages, {} attachments, {} data dir files",
        manifest.schema_version,
        c.contacts,
        c.sessions,
        c.messages,
        c.attachments,
        manifest
            .files
            .keys()
            .filter(|f| f.starts_with(&format!("{}/", backup::DATA)))
            .count()
    )
}

/// Runs `frontdesk backup`.
pub async fn run_backup(database: &str, args: BackupArgs) -> anyhow::Result<()> {
    let written = backup::create(database, &args.data_dir, &args.out).await?;
    println!(
        "backup written to {} ({} bytes): {}, taken {}",
        written.path.display(),
        written.bytes,
        holds(&written.manifest),
        written.manifest.created_at
    );
    Ok(())
}

/// Runs `frontdesk restore` (blocking file work).
pub fn run_restore(database: &str, args: RestoreArgs) -> anyhow::Result<()> {
    let restored = backup::restore(&args.archive, database, &args.data_dir, args.force)?;
    let m = &restored.manifest;
    println!(
        "restored {} (frontdesk {}, taken {}): {} into {} and {} files into {}",
        args.archive.display(),
        m.frontdesk_version,
        m.created_at,
        holds(m),
        restored.database.display(),
        restored.data_files,
        restored.data_dir.display()
    );
    if m.schema_version < backup::newest_schema() {
        println!(
            "the backup's schema version {} is older than this frontdesk's {}: the next serve applies the newer migrations",
            m.schema_version,
            backup::newest_schema()
        );
    }
    Ok(())
}
