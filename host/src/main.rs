//! The `frontdesk` command line.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{CommandFactory, Parser, Subcommand};
use frontdesk::cli::plugin::PluginCommand;
use frontdesk::cli::rules::RulesCommand;
use frontdesk::cli::serve_limits::LimitArgs;
use frontdesk::cli::user::UserCommand;
use frontdesk::clock::{Clock, SystemClock};
use frontdesk::store;
use tracing_subscriber::EnvFilter;

/// frontdesk: live chat, Telegram, Messenger and email in one support queue.
#[derive(Parser)]
#[command(version, about, long_about = None)]
struct Cli {
    /// Database URL: sqlite://PATH (created when missing) or postgres://USER@HOST/DB.
    #[arg(
        long,
        global = true,
        env = "FRONTDESK_DATABASE",
        default_value = "sqlite://frontdesk.db"
    )]
    database: String,
    /// Log as JSON lines instead of text (FRONTDESK_LOG_JSON=1 or true).
    #[arg(long, global = true, env = "FRONTDESK_LOG_JSON", value_parser = clap::builder::BoolishValueParser::new())]
    log_json: bool,
    #[command(subcommand)]
    command: Command,
}

// Parsed once at start: the size of `Serve`'s flags costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Runs the server: applies migrations, binds, serves until SIGTERM or Ctrl-C, then drains.
    Serve {
        /// Address to listen on; port 0 picks a free port (the bound address is logged).
        #[arg(long, env = "FRONTDESK_LISTEN", default_value = "127.0.0.1:8080")]
        listen: String,
        /// Where plugins and their compiled artifacts live (created when missing).
        #[arg(long, env = "FRONTDESK_DATA_DIR", default_value = frontdesk::cli::plugin::DEFAULT_DATA_DIR)]
        data_dir: std::path::PathBuf,
        /// Largest attachment stored, in bytes; larger files are recorded as failed, not fetched.
        #[arg(long, env = "FRONTDESK_MAX_ATTACHMENT_BYTES", default_value_t = frontdesk::attachments::DEFAULT_MAX_BYTES)]
        max_attachment_bytes: usize,
        /// The URL providers reach this server at, e.g. https://support.example.com;
        /// connectors register webhooks as {public_url}/hooks/{channel}. Default: http://{bound address}.
        #[arg(long, env = "FRONTDESK_PUBLIC_URL")]
        public_url: Option<String>,
        /// Let `api` channels' callback_url reach loopback, private, link-local and
        /// other non-public addresses (a receiver on this machine or LAN). Off: such URLs are refused.
        #[arg(long, env = "FRONTDESK_ALLOW_PRIVATE_CALLBACKS", value_parser = clap::builder::BoolishValueParser::new())]
        allow_private_callbacks: bool,
        #[command(flatten)]
        mail: MailArgs,
        #[command(flatten)]
        limits: LimitArgs,
        #[command(flatten)]
        rate_limits: frontdesk::cli::rate_limits::RateLimitArgs,
        #[command(flatten)]
        market: frontdesk::cli::catalogue::MarketplaceArgs,
        /// Serve this catalogue directory (made by `frontdesk plugin publish`) at /catalogue/,
        /// so other servers can use http(s)://THIS-SERVER/catalogue as a catalogue.
        #[arg(long, env = "FRONTDESK_SERVE_CATALOGUE")]
        serve_catalogue: Option<std::path::PathBuf>,
        #[command(flatten)]
        data: frontdesk::cli::backup::DataArgs,
    },
    /// Writes a consistent backup of the SQLite database (the server may keep running) and the data dir to OUT (.tar.gz).
    Backup(frontdesk::cli::backup::BackupArgs),
    /// Restores a backup into a fresh database and data dir (refuses while a server runs on them).
    Restore(frontdesk::cli::backup::RestoreArgs),
    /// Applies the database migrations this binary carries and the database lacks, and exits (serve does this too).
    Migrate(frontdesk::cli::migrate::MigrateArgs),
    /// Checks a deployment: serve's configuration (flags after --, and FRONTDESK_* variables), the database, the data dir, the public URL and the SMTP relay; prints what to fix and exits 1 if anything failed.
    Check(frontdesk::cli::check::CheckArgs),
    /// Manages console and API users.
    #[command(subcommand)]
    User(UserCommand),
    /// Checks and tries auto-action scripts (X1) before an admin saves them.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Installs and manages connector and bot plugins (offline; use the admin API while serving).
    Plugin {
        /// Where plugins and their compiled artifacts live.
        #[arg(long, env = "FRONTDESK_DATA_DIR", default_value = frontdesk::cli::plugin::DEFAULT_DATA_DIR)]
        data_dir: std::path::PathBuf,
        #[command(subcommand)]
        command: PluginCommand,
    },
}

/// Email channels: where mail comes in and where replies go out.
#[derive(clap::Args)]
struct MailArgs {
    /// Accept mail for email channels over SMTP on this address (e.g. 127.0.0.1:2525; port 0 picks one). Off when unset.
    #[arg(long, env = "FRONTDESK_SMTP_LISTEN")]
    smtp_listen: Option<String>,
    /// Largest mail the SMTP listener accepts, in bytes (announced as SIZE).
    #[arg(long, env = "FRONTDESK_SMTP_MAX_BYTES", default_value_t = 10 << 20)]
    smtp_max_bytes: usize,
    /// The name the SMTP listener greets with.
    #[arg(long, env = "FRONTDESK_SMTP_HOSTNAME", default_value = "frontdesk")]
    smtp_hostname: String,
    /// Relay for replies: smtp://HOST:PORT, smtp://HOST:587?tls=required or smtps://USER:PASS@HOST:465. Without it email replies fail.
    #[arg(long, env = "FRONTDESK_SMTP_RELAY")]
    smtp_relay: Option<String>,
    /// The From address of mail the host writes itself (transcripts a customer asks for, O3); sent through --smtp-relay.
    #[arg(
        long,
        env = "FRONTDESK_MAIL_FROM",
        default_value = "frontdesk@localhost"
    )]
    mail_from: String,
}

fn init_tracing(json: bool) {
    let filter =
        EnvFilter::try_from_env("FRONTDESK_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// `FRONTDESK_TEST_CLOCK=<unix ms>`: for end-to-end tests only, never documented in `--help`.
fn test_clock_start() -> anyhow::Result<Option<i64>> {
    match std::env::var("FRONTDESK_TEST_CLOCK") {
        Ok(v) => Ok(Some(v.parse().with_context(|| {
            format!("FRONTDESK_TEST_CLOCK={v:?} must be unix milliseconds")
        })?)),
        Err(_) => Ok(None),
    }
}

/// Errors go to stderr as one readable line (with causes), never as a backtrace.
fn main() -> std::process::ExitCode {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(run(Cli::parse()));
    // Whatever the drain left running (a stalled client, a delivery past
    // the drain time) is cut here instead of holding the exit.
    runtime.shutdown_timeout(Duration::from_millis(200));
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        // The command printed its findings itself; only its status is left.
        Err(err) => match err.downcast_ref::<frontdesk::cli::Exit>() {
            Some(exit) => std::process::ExitCode::from(exit.code),
            None => {
                eprintln!("error: {err:#}");
                std::process::ExitCode::FAILURE
            }
        },
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    init_tracing(cli.log_json);
    // Needs no database, so it works on a laptop with just the binary.
    let command = match cli.command {
        Command::Rules(command) => return frontdesk::cli::rules::run(command),
        Command::Plugin { data_dir, command } => {
            return tokio::task::spawn_blocking(move || {
                frontdesk::cli::plugin::run(&data_dir, command)
            })
            .await?;
        }
        // Both read the database's state before anything would migrate it.
        Command::Migrate(args) => return frontdesk::cli::migrate::run(&cli.database, args).await,
        Command::Check(args) => {
            return frontdesk::cli::check::run(Cli::command(), &cli.database, args).await;
        }
        // Copies the file as it is: no migrations, no pool.
        Command::Backup(args) => {
            return frontdesk::cli::backup::run_backup(&cli.database, args).await;
        }
        Command::Restore(args) => {
            let database = cli.database.clone();
            return tokio::task::spawn_blocking(move || {
                frontdesk::cli::backup::run_restore(&database, args)
            })
            .await?;
        }
        other => other,
    };
    let store = store::connect(&cli.database)
        .await
        .with_context(|| format!("cannot open the database {}", cli.database))?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    match command {
        Command::Serve {
            listen,
            data_dir,
            max_attachment_bytes,
            public_url,
            allow_private_callbacks,
            mail,
            limits,
            rate_limits,
            market,
            serve_catalogue,
            data,
        } => {
            let marketplace = market.marketplace(&data_dir);
            let serve_limits = limits.serve_limits()?;
            let rate_limits = rate_limits.limits()?;
            let claimant = match &limits.node_id {
                Some(node) if node.trim().is_empty() => {
                    bail!("--node-id must not be empty; leave it out to use {{data-dir}}/node-id")
                }
                Some(node) => frontdesk::node::Claimant::named(node.trim()),
                None => frontdesk::node::Claimant::from_data_dir(&data_dir).with_context(|| {
                    format!(
                        "cannot keep this node's id in {}; check the directory's permissions or pass --node-id",
                        data_dir.join(frontdesk::node::NODE_ID_FILE).display()
                    )
                })?,
            };
            if let Some(url) = &public_url
                && !(url.starts_with("https://") || url.starts_with("http://"))
            {
                bail!(
                    "--public-url {url:?} must be an http:// or https:// URL, e.g. https://support.example.com"
                );
            }
            let backups = data.schedule(&cli.database, &data_dir)?;
            if let Some(dir) = &serve_catalogue
                && !dir.join(frontdesk::catalogue::INDEX_FILE).is_file()
            {
                bail!(
                    "--serve-catalogue {}: it has no {}; make one with `frontdesk plugin publish PACKAGE --catalogue {}`",
                    dir.display(),
                    frontdesk::catalogue::INDEX_FILE,
                    dir.display()
                );
            }
            frontdesk::serve::run(frontdesk::serve::Serve {
                database: cli.database.clone(),
                store,
                clock,
                test_clock_start: test_clock_start()?,
                listen,
                data_dir,
                max_attachment_bytes,
                public_url,
                allow_private_callbacks,
                mail: frontdesk::serve::MailSettings {
                    smtp_listen: mail.smtp_listen,
                    smtp_max_bytes: mail.smtp_max_bytes,
                    smtp_hostname: mail.smtp_hostname,
                    smtp_relay: mail.smtp_relay,
                    mail_from: mail.mail_from,
                },
                serve_limits,
                rate_limits,
                marketplace,
                serve_catalogue,
                claimant,
                data,
                backups,
            })
            .await?;
        }
        Command::Rules(_)
        | Command::Plugin { .. }
        | Command::Migrate(_)
        | Command::Check(_)
        | Command::Backup(_)
        | Command::Restore(_) => {
            unreachable!("handled before the database is opened")
        }
        Command::User(command) => {
            frontdesk::cli::user::run(store, clock.now(), command).await?;
        }
    }
    Ok(())
}
