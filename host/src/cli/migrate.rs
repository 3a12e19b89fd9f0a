//! `frontdesk migrate [--check]`: applies the migrations the database lacks,
//! or only lists them. Migrations only go forward; a database a newer
//! frontdesk migrated is refused (see `store::schema`).

use anyhow::{Context, bail};

use super::Exit;
use crate::store::{self, schema};

/// `migrate --check`'s exit status when migrations would run (scripts tell
/// it from 1, an error).
pub const PENDING_EXIT: u8 = 2;

#[derive(Debug, clap::Args)]
pub struct MigrateArgs {
    /// Only lists the migrations that would run, applying and creating nothing. Exit status: 0 when none would, 2 when some would, 1 on an error (a database newer than this binary included).
    #[arg(long)]
    pub check: bool,
}

pub async fn run(database: &str, args: MigrateArgs) -> anyhow::Result<()> {
    let before = schema::inspect(database)
        .await
        .with_context(|| format!("cannot read the database {database}"))?;
    before.refuse_unknown()?;
    if let Some(failed) = before.failed() {
        bail!(
            "migration {failed} failed half-way on an earlier run; repair the database by hand (or restore a backup), then delete its row from _sqlx_migrations"
        );
    }
    if let Some(edited) = before.modified().first() {
        bail!(
            "migration {edited} in the database differs from this binary's copy of it; was the binary built from edited sources? Use an official build of this or a newer version"
        );
    }
    let pending = before.pending();
    if args.check {
        if pending.is_empty() {
            println!("up to date: {}", describe(&before));
            return Ok(());
        }
        println!(
            "{} migration(s) would run on this {} database ({}):",
            pending.len(),
            before.backend,
            describe(&before)
        );
        for migration in &pending {
            println!("  {migration}");
        }
        return Err(Exit { code: PENDING_EXIT }.into());
    }
    store::connect(database)
        .await
        .with_context(|| format!("cannot migrate the database {database}"))?;
    if pending.is_empty() {
        println!("nothing to apply: {}", describe(&before));
    } else {
        println!(
            "applied {} migration(s) ({}):",
            pending.len(),
            before.backend
        );
        for migration in &pending {
            println!("  {migration}");
        }
    }
    Ok(())
}

/// Where the database stands next to the binary, in one phrase.
fn describe(state: &schema::SchemaState) -> String {
    let binary = format!("{:04}", state.binary_latest());
    match (state.exists, state.database_latest()) {
        (false, _) => {
            format!("the database does not exist yet; this binary's newest migration is {binary}")
        }
        (true, None) => {
            format!("the database has no migrations yet; this binary's newest is {binary}")
        }
        (true, Some(latest)) => {
            format!("the database is at {latest}; this binary's newest is {binary}")
        }
    }
}
