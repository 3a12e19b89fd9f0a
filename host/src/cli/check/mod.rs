//! `frontdesk check`: looks at a deployment the way `serve` would use it
//! and prints, for each part, whether it is fine and what to fix.
//!
//! It reads `serve`'s configuration exactly as `serve` does (the same clap
//! definitions, so flags after `--` and `FRONTDESK_*` variables both count),
//! then the database (reachable, migrations, not newer than this binary),
//! the data dir (exists, writable, free space), the listen addresses, the
//! public URL (well-formed, https, reachable on request) and the SMTP relay
//! (connects and greets). Nothing is migrated, created or sent.

mod config;
mod network;
mod storage;

use std::time::Duration;

use super::Exit;

/// What `frontdesk check` looks at beside `serve`'s own flags.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Also fetches {public-url}/healthz, as a provider or a browser would reach the running server (off: only the URL's form is checked).
    #[arg(long)]
    pub reach_public_url: bool,
    /// Free space the data dir and the SQLite database's directory should have, in MiB; less is a warning.
    #[arg(long, default_value_t = 1024)]
    pub min_free_mib: u64,
    /// Seconds each network check (database, SMTP relay, public URL) may take.
    #[arg(long, default_value_t = 10)]
    pub timeout_secs: u64,
    /// `serve`'s flags to check, after `--` (e.g. `frontdesk check -- --data-dir /var/lib/frontdesk`); FRONTDESK_* variables count as for serve.
    #[arg(last = true, value_name = "SERVE_FLAGS")]
    pub serve_args: Vec<String>,
}

/// How a finding counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    Ok,
    /// Works, but probably not as intended; the exit status stays 0.
    Warn,
    /// `serve` would fail or misbehave; the exit status becomes 1.
    Fail,
}

/// One line of the report, with the fix for anything not fine.
#[derive(Debug)]
struct Finding {
    level: Level,
    topic: &'static str,
    what: String,
    fix: Option<String>,
}

/// The report, in the order the checks ran.
#[derive(Debug, Default)]
struct Report(Vec<Finding>);

impl Report {
    fn ok(&mut self, topic: &'static str, what: impl Into<String>) {
        self.push(Level::Ok, topic, what.into(), None);
    }

    fn warn(&mut self, topic: &'static str, what: impl Into<String>, fix: impl Into<String>) {
        self.push(Level::Warn, topic, what.into(), Some(fix.into()));
    }

    fn fail(&mut self, topic: &'static str, what: impl Into<String>, fix: impl Into<String>) {
        self.push(Level::Fail, topic, what.into(), Some(fix.into()));
    }

    fn push(&mut self, level: Level, topic: &'static str, what: String, fix: Option<String>) {
        self.0.push(Finding {
            level,
            topic,
            what,
            fix,
        });
    }

    fn count(&self, level: Level) -> usize {
        self.0.iter().filter(|f| f.level == level).count()
    }

    /// The report as printed: one line per finding, its fix indented below.
    fn render(&self) -> String {
        let mut out = String::new();
        for finding in &self.0 {
            let level = match finding.level {
                Level::Ok => "ok",
                Level::Warn => "WARN",
                Level::Fail => "FAIL",
            };
            out.push_str(&format!(
                "{level:<5} {:<14} {}\n",
                finding.topic, finding.what
            ));
            if let Some(fix) = &finding.fix {
                out.push_str(&format!("{:<20} fix: {fix}\n", ""));
            }
        }
        let (failed, warned) = (self.count(Level::Fail), self.count(Level::Warn));
        out.push_str(&match (failed, warned) {
            (0, 0) => "all checks passed\n".to_string(),
            (0, w) => format!("all checks passed, {w} warning(s): see the WARN lines\n"),
            (f, w) => format!(
                "{f} check(s) failed, {w} warning(s): fix the FAIL lines, then run frontdesk check again\n"
            ),
        });
        out
    }
}

/// Runs every check, prints the report, and ends with status 1 if any failed.
/// `cli` is the whole command line's definition, `database` the global `--database`.
pub async fn run(cli: clap::Command, database: &str, args: CheckArgs) -> anyhow::Result<()> {
    let timeout = Duration::from_secs(args.timeout_secs.max(1));
    let mut report = Report::default();
    let serve = config::check(cli, database, &args.serve_args, &mut report);
    let database = serve.as_ref().map_or(database, |s| s.database.as_str());
    storage::database(database, timeout, args.min_free_mib, &mut report).await;
    match &serve {
        Some(serve) => {
            storage::data_dir(&serve.data_dir, args.min_free_mib, &mut report);
            network::listen("listen", "--listen", &serve.listen, &mut report);
            if let Some(smtp) = &serve.smtp_listen {
                network::listen("smtp listen", "--smtp-listen", smtp, &mut report);
            }
            let public = serve.public_url.as_deref();
            network::public_url(
                public,
                &serve.listen,
                args.reach_public_url,
                timeout,
                &mut report,
            )
            .await;
            let relay = serve.smtp_relay.as_deref();
            network::smtp_relay(relay, &serve.mail_from, timeout, &mut report).await;
        }
        None => report.warn(
            "the rest",
            "the data dir, listen addresses, public URL and SMTP relay were not checked",
            "fix the configuration first",
        ),
    }
    print!("{}", report.render());
    if report.count(Level::Fail) > 0 {
        return Err(Exit { code: 1 }.into());
    }
    Ok(())
}

/// A URL without its password, for the report.
fn redact(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("***"));
            url.to_string()
        }
        _ => raw.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_puts_each_fix_under_its_finding_and_counts_failures() {
        let mut report = Report::default();
        report.ok("database", "up to date");
        report.fail("smtp relay", "cannot connect", "check the port");
        let text = report.render();
        assert!(
            text.starts_with("ok    database       up to date\n"),
            "{text}"
        );
        assert!(
            text.contains("FAIL  smtp relay     cannot connect\n"),
            "{text}"
        );
        assert!(text.contains("fix: check the port\n"), "{text}");
        assert!(text.ends_with("1 check(s) failed, 0 warning(s): fix the FAIL lines, then run frontdesk check again\n"), "{text}");
    }

    #[test]
    fn passwords_never_reach_the_report() {
        assert_eq!(
            redact("smtps://me:secret@mail.example.com:465"),
            "smtps://me:***@mail.example.com:465"
        );
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
    }
}
