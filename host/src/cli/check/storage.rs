//! The storage part of `frontdesk check`: the database and the data dir.

use std::io::Write as _;
use std::path::Path;
use std::time::Duration;

use super::{Report, redact};
use crate::store::StoreError;
use crate::store::schema::{self, Location, SchemaState};

/// The database: reachable, its migrations next to this binary's, and for
/// SQLite the directory the file lives in.
pub(super) async fn database(url: &str, timeout: Duration, min_free_mib: u64, report: &mut Report) {
    let location = match Location::parse(url) {
        Ok(location) => location,
        Err(err) => {
            report.fail(
                "database",
                err.to_string(),
                "set --database (FRONTDESK_DATABASE)",
            );
            return;
        }
    };
    if let Some(file) = location.sqlite_file() {
        let dir = match file.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        if !writable_dir("database", dir, "--database (FRONTDESK_DATABASE)", report) {
            return;
        }
        free_space("database", dir, min_free_mib, report);
    }
    let state = match tokio::time::timeout(timeout, schema::inspect(url)).await {
        Ok(Ok(state)) => state,
        Ok(Err(err)) => {
            report.fail(
                "database",
                format!("cannot read {}: {err}", redact(url)),
                unreachable_fix(&location),
            );
            return;
        }
        Err(_) => {
            report.fail(
                "database",
                format!("{} did not answer within {timeout:?}", redact(url)),
                unreachable_fix(&location),
            );
            return;
        }
    };
    migrations(&state, report);
}

fn unreachable_fix(location: &Location) -> &'static str {
    match location {
        Location::Postgres(_) => {
            "is PostgreSQL running and reachable from here, and do the user, password and database in the URL exist (postgres://USER:PASS@HOST:PORT/DB)?"
        }
        Location::Sqlite(_) => {
            "can this user read the file, and is it a frontdesk SQLite database (not another program's)?"
        }
    }
}

/// Where the database's schema stands next to this binary's migrations.
fn migrations(state: &SchemaState, report: &mut Report) {
    if let Err(err) = state.refuse_unknown() {
        let fix = match err {
            StoreError::SchemaTooNew { .. } => {
                "install the frontdesk version that upgraded the database (or a later one), or restore a backup taken before the upgrade"
            }
            _ => "use the frontdesk build that applied it, or restore a backup it never touched",
        };
        report.fail("database", err.to_string(), fix);
        return;
    }
    if let Some(failed) = state.failed() {
        report.fail(
            "database",
            format!("migration {failed} failed half-way on an earlier run"),
            "repair the database by hand or restore a backup, then delete that row from _sqlx_migrations",
        );
        return;
    }
    if let Some(edited) = state.modified().first() {
        report.fail(
            "database",
            format!("migration {edited} in the database differs from this binary's copy"),
            "use an official build of this frontdesk version or a newer one",
        );
        return;
    }
    let pending = state.pending();
    let binary = format!("{:04}", state.binary_latest());
    let listed = pending
        .iter()
        .map(|m| m.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    match state.database_latest() {
        _ if !state.exists => report.ok(
            "database",
            format!("sqlite file does not exist yet: serve creates it and applies {} migration(s), up to {binary}", pending.len()),
        ),
        None => report.ok(
            "database",
            format!("{} database is empty: serve applies {} migration(s), up to {binary}", state.backend, pending.len()),
        ),
        Some(latest) if pending.is_empty() => report.ok(
            "database",
            format!("{}, at migration {latest}: up to date with this binary", state.backend),
        ),
        Some(latest) => report.ok(
            "database",
            format!(
                "{}, at migration {latest}: serve applies {} at start ({listed}); back up before upgrading (docs/deployment.md)",
                state.backend,
                pending.len()
            ),
        ),
    }
}

/// The data dir: there (or creatable), a directory, writable, with room.
pub(super) fn data_dir(dir: &Path, min_free_mib: u64, report: &mut Report) {
    if !dir.exists() {
        let parent = dir
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        if parent.is_dir() && probe_write(parent).is_ok() {
            report.warn(
                "data dir",
                format!("{} does not exist yet; serve creates it", shown(dir)),
                "nothing, if this is a first start; otherwise check --data-dir (FRONTDESK_DATA_DIR): plugins and the node id live there",
            );
            free_space("data dir", parent, min_free_mib, report);
        } else {
            report.fail(
                "data dir",
                format!("{} does not exist and cannot be created in {}", shown(dir), shown(parent)),
                "create it, owned by the user frontdesk runs as, or point --data-dir (FRONTDESK_DATA_DIR) elsewhere",
            );
        }
        return;
    }
    if writable_dir("data dir", dir, "--data-dir (FRONTDESK_DATA_DIR)", report) {
        free_space("data dir", dir, min_free_mib, report);
    }
}

/// `true` when `dir` is a directory this user can create files in;
/// `setting` names what chose it, for the fix.
fn writable_dir(topic: &'static str, dir: &Path, setting: &str, report: &mut Report) -> bool {
    if !dir.is_dir() {
        report.fail(
            topic,
            format!("{} is not a directory", shown(dir)),
            format!("create the directory, or point {setting} at one"),
        );
        return false;
    }
    match probe_write(dir) {
        Ok(()) => true,
        Err(err) => {
            report.fail(
                topic,
                format!("cannot write in {}: {err}", shown(dir)),
                format!("give the user frontdesk runs as write access (with systemd, StateDirectory= does), or point {setting} elsewhere"),
            );
            false
        }
    }
}

/// Writes, syncs and removes a small file, as the server's first write would.
fn probe_write(dir: &Path) -> std::io::Result<()> {
    let mut file = tempfile::Builder::new()
        .prefix(".frontdesk-check-")
        .tempfile_in(dir)?;
    file.write_all(b"frontdesk check\n")?;
    file.as_file().sync_all()
}

/// Free space where `dir` lives, against `min_free_mib`.
fn free_space(topic: &'static str, dir: &Path, min_free_mib: u64, report: &mut Report) {
    let free_mib = match rustix::fs::statvfs(dir) {
        Ok(stat) => stat.f_bavail.saturating_mul(stat.f_frsize) >> 20,
        Err(err) => {
            report.warn(
                topic,
                format!("cannot tell the free space of {}: {err}", shown(dir)),
                "check it with df",
            );
            return;
        }
    };
    if free_mib < min_free_mib {
        report.warn(
            topic,
            format!("{}: only {free_mib} MiB free (less than {min_free_mib} MiB)", shown(dir)),
            "free space or grow the disk: writes that fail turn /healthz degraded and refuse new messages",
        );
    } else {
        report.ok(
            topic,
            format!("{}: writable, {free_mib} MiB free", shown(dir)),
        );
    }
}

/// The path as the operator should read it: absolute, even when relative to
/// the working directory.
fn shown(path: &Path) -> String {
    std::path::absolute(path)
        .unwrap_or_else(|_| path.to_path_buf())
        .display()
        .to_string()
}
