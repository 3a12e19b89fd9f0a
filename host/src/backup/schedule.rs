//! Scheduled backups for the embedded default (`serve --backup-every`): a
//! worker under the node's stop signal writes `frontdesk-{UTC time}.tar.gz`
//! into the backup dir and keeps the newest `keep` of them.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{BackupError, create, sqlite_path};
use crate::node::Workers;

/// The name every scheduled backup has: `frontdesk-20261207T031500Z.tar.gz`.
const PREFIX: &str = "frontdesk-";
const SUFFIX: &str = ".tar.gz";

/// When and where to back up.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub every: Duration,
    /// How many backups to keep; older ones are deleted after a new one is written.
    pub keep: usize,
    pub dir: PathBuf,
    pub database: String,
    pub data_dir: PathBuf,
}

impl Schedule {
    /// Checks the settings before `serve` starts: a clear refusal instead
    /// of a worker that fails every time.
    pub fn check(&self) -> Result<(), BackupError> {
        sqlite_path(&self.database).map_err(|e| match e {
            BackupError::Postgres => BackupError::Invalid(
                "--backup-every works for the embedded SQLite database; back up PostgreSQL with pg_dump (see docs/backup.md)"
                    .into(),
            ),
            other => other,
        })?;
        if self.keep == 0 {
            return Err(BackupError::Invalid(
                "--backup-keep must be at least 1".into(),
            ));
        }
        std::fs::create_dir_all(&self.dir).map_err(BackupError::io(format!(
            "cannot create --backup-dir {}",
            self.dir.display()
        )))
    }
}

/// Parses `--backup-every`: `30m`, `6h`, `1d`, `1h 30m` or ISO 8601 (`PT6H`).
pub fn parse_every(text: &str) -> Result<Duration, String> {
    let span: jiff::Span = text
        .trim()
        .parse()
        .map_err(|e| format!("{text:?} is not a duration ({e}); write e.g. 30m, 6h or 1d"))?;
    let every = span
        .to_duration(jiff::SpanRelativeTo::days_are_24_hours())
        .ok()
        .and_then(|d| Duration::try_from(d).ok())
        .ok_or_else(|| format!("{text:?} must be a positive duration, e.g. 6h"))?;
    if every < Duration::from_secs(1) {
        return Err(format!(
            "{text:?} is shorter than a second; write e.g. 30m, 6h or 1d"
        ));
    }
    Ok(every)
}

/// Starts the worker: the first backup one period after start.
pub fn start(schedule: Schedule, workers: &Workers) {
    let stop = workers.stop.clone();
    workers.tracker.spawn(async move {
        let mut tick =
            tokio::time::interval_at(tokio::time::Instant::now() + schedule.every, schedule.every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                _ = tick.tick() => {}
            }
            run_once(&schedule).await;
        }
    });
}

/// One scheduled backup and the pruning after it; failures are logged and
/// counted, and the next period tries again.
async fn run_once(schedule: &Schedule) {
    let name = format!(
        "{PREFIX}{}{SUFFIX}",
        jiff::Timestamp::now().strftime("%Y%m%dT%H%M%SZ")
    );
    let out = schedule.dir.join(name);
    match create(&schedule.database, &schedule.data_dir, &out).await {
        Ok(written) => {
            metrics::counter!("frontdesk_backups_total", "outcome" => "ok").increment(1);
            tracing::info!(
                path = %written.path.display(),
                bytes = written.bytes,
                messages = written.manifest.counts.messages,
                schema_version = written.manifest.schema_version,
                "scheduled backup written"
            );
            let dir = schedule.dir.clone();
            let keep = schedule.keep;
            match tokio::task::spawn_blocking(move || prune(&dir, keep)).await {
                Ok(Ok(removed)) if removed > 0 => {
                    tracing::info!(removed, keep, "older scheduled backups deleted");
                }
                Ok(Ok(_)) => {}
                Ok(Err(err)) => tracing::error!(error = %err, "cannot delete older backups"),
                Err(err) => tracing::error!(error = %err, "the pruning task failed"),
            }
        }
        Err(err) => {
            metrics::counter!("frontdesk_backups_total", "outcome" => "failed").increment(1);
            tracing::error!(error = %err, dir = %schedule.dir.display(), "scheduled backup failed");
        }
    }
}

/// Deletes all but the newest `keep` scheduled backups in `dir` (by name,
/// which sorts by time); files of other names are left alone.
pub fn prune(dir: &Path, keep: usize) -> std::io::Result<usize> {
    let mut names: Vec<String> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.starts_with(PREFIX) && n.ends_with(SUFFIX))
        .collect();
    names.sort();
    let excess = names.len().saturating_sub(keep);
    for name in &names[..excess] {
        std::fs::remove_file(dir.join(name))?;
    }
    Ok(excess)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_an_operator_writes_them() {
        assert_eq!(parse_every("6h"), Ok(Duration::from_secs(6 * 3600)));
        assert_eq!(parse_every("1d"), Ok(Duration::from_secs(86_400)));
        assert_eq!(parse_every("1h 30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_every("PT15M"), Ok(Duration::from_secs(900)));
        let err = parse_every("soon").unwrap_err();
        assert!(err.contains("e.g. 30m"), "{err}");
        assert!(parse_every("0s").is_err());
    }

    #[test]
    fn postgres_and_keeping_nothing_are_refused_before_serve_starts() {
        let dir = tempfile::tempdir().unwrap();
        let schedule = |database: &str, keep| Schedule {
            every: Duration::from_secs(3600),
            keep,
            dir: dir.path().join("backups"),
            database: database.into(),
            data_dir: dir.path().join("data"),
        };
        let err = schedule("postgres://u@h/db", 7).check().unwrap_err();
        assert!(err.to_string().contains("pg_dump"), "{err}");
        let err = schedule("sqlite://fd.db", 0).check().unwrap_err();
        assert!(err.to_string().contains("--backup-keep"), "{err}");
        schedule("sqlite://fd.db", 7).check().unwrap();
        assert!(dir.path().join("backups").is_dir(), "made when missing");
    }

    #[test]
    fn pruning_keeps_the_newest_and_leaves_other_files() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "frontdesk-20261201T000000Z.tar.gz",
            "frontdesk-20261202T000000Z.tar.gz",
            "frontdesk-20261203T000000Z.tar.gz",
            "notes.txt",
        ] {
            std::fs::write(dir.path().join(name), b"x").unwrap();
        }
        assert_eq!(prune(dir.path(), 2).unwrap(), 1);
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [
                "frontdesk-20261202T000000Z.tar.gz",
                "frontdesk-20261203T000000Z.tar.gz",
                "notes.txt"
            ]
        );
    }
}
