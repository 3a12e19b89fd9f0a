//! The configuration part of `frontdesk check`: `serve`'s flags and the
//! environment, parsed by the very clap definitions `serve` uses.

use std::collections::BTreeSet;
use std::path::PathBuf;

use clap::FromArgMatches as _;
use clap::error::{ContextKind, ContextValue};

use super::Report;
use crate::cli::rate_limits::RateLimitArgs;
use crate::cli::serve_limits::LimitArgs;

/// Variables the binary reads outside clap: the log filter, and the test
/// clock (end-to-end tests only).
const OTHER_VARIABLES: [&str; 2] = ["FRONTDESK_LOG", TEST_CLOCK];
const TEST_CLOCK: &str = "FRONTDESK_TEST_CLOCK";

/// What the other checks need from `serve`'s configuration.
#[derive(Debug)]
pub(super) struct ServeConfig {
    pub database: String,
    pub listen: String,
    pub smtp_listen: Option<String>,
    pub data_dir: PathBuf,
    pub public_url: Option<String>,
    pub smtp_relay: Option<String>,
    pub mail_from: String,
}

/// Parses `frontdesk serve SERVE_ARGS` with this process's environment;
/// `None` (with the reason in the report) when `serve` would refuse it.
pub(super) fn check(
    cli: clap::Command,
    database: &str,
    serve_args: &[String],
    report: &mut Report,
) -> Option<ServeConfig> {
    variables(&cli, report);
    let serve_command = cli.find_subcommand("serve").cloned();
    let mut argv = vec!["frontdesk".to_string()];
    // The global --database given before `check` (or its variable), unless
    // the flags after `--` name one themselves.
    if !serve_args
        .iter()
        .any(|a| a == "--database" || a.starts_with("--database="))
    {
        argv.extend(["--database".to_string(), database.to_string()]);
    }
    argv.push("serve".into());
    argv.extend(serve_args.iter().cloned());
    let matches = match cli.try_get_matches_from(argv) {
        Ok(matches) => matches,
        Err(err) => {
            let (what, fix) = explain(&err, serve_command.as_ref());
            report.fail("configuration", what, fix);
            return None;
        }
    };
    let database = matches.get_one::<String>("database").cloned()?;
    let serve = matches.subcommand_matches("serve")?;
    let config = read(serve, database);
    let mut fine = config.is_some();
    match LimitArgs::from_arg_matches(serve).map_err(|e| e.to_string()) {
        Ok(limits) => {
            if let Err(err) = limits.serve_limits() {
                fine = false;
                report.fail(
                    "configuration",
                    format!("{err}"),
                    "pass a positive number, or leave the flag out for its default",
                );
            }
            if limits
                .node_id
                .as_deref()
                .is_some_and(|n| n.trim().is_empty())
            {
                fine = false;
                report.fail(
                    "configuration",
                    "--node-id (FRONTDESK_NODE_ID) is empty",
                    "leave it out to use {data-dir}/node-id, or name this node",
                );
            }
        }
        Err(err) => {
            fine = false;
            report.fail("configuration", err, "see frontdesk serve --help");
        }
    }
    match RateLimitArgs::from_arg_matches(serve).map(|args| args.limits()) {
        Ok(Ok(_)) => {}
        Ok(Err(err)) => {
            fine = false;
            report.fail(
                "configuration",
                format!("{err:#}"),
                "see docs/security.md#rate-limits-l1 for the rules and their form",
            );
        }
        Err(err) => {
            fine = false;
            report.fail(
                "configuration",
                err.to_string(),
                "see frontdesk serve --help",
            );
        }
    }
    if fine {
        let set = set_variables().len();
        report.ok(
            "configuration",
            format!("serve's flags parse, with {set} FRONTDESK_* variable(s) set"),
        );
    }
    config
}

/// The values the other checks use, by the names `serve`'s fields have.
fn read(serve: &clap::ArgMatches, database: String) -> Option<ServeConfig> {
    let text = |id: &str| serve.try_get_one::<String>(id).ok().flatten().cloned();
    Some(ServeConfig {
        database,
        listen: text("listen")?,
        smtp_listen: text("smtp_listen"),
        data_dir: serve
            .try_get_one::<PathBuf>("data_dir")
            .ok()
            .flatten()?
            .clone(),
        public_url: text("public_url"),
        smtp_relay: text("smtp_relay"),
        mail_from: text("mail_from")?,
    })
}

/// The `FRONTDESK_*` variables set in this process's environment.
fn set_variables() -> Vec<(String, String)> {
    std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.to_string_lossy().into_owned())))
        .filter(|(k, _)| k.starts_with("FRONTDESK_"))
        .collect()
}

/// Every variable some command of `cli` reads through clap.
fn clap_variables(cli: &clap::Command, into: &mut BTreeSet<String>) {
    for arg in cli.get_arguments() {
        if let Some(env) = arg.get_env() {
            into.insert(env.to_string_lossy().into_owned());
        }
    }
    for sub in cli.get_subcommands() {
        clap_variables(sub, into);
    }
}

/// Set variables frontdesk does not read (a typo keeps a setting from
/// applying, silently), and the test clock, which must never be set in use.
fn variables(cli: &clap::Command, report: &mut Report) {
    let mut known = BTreeSet::new();
    clap_variables(cli, &mut known);
    known.extend(OTHER_VARIABLES.map(String::from));
    for (name, _) in set_variables() {
        if name == TEST_CLOCK {
            report.fail(
                "configuration",
                format!(
                    "{TEST_CLOCK} is set: the server would run on a test clock that only tests move"
                ),
                format!("unset {TEST_CLOCK}; it exists for end-to-end tests only"),
            );
        } else if !known.contains(&name) {
            report.warn(
                "configuration",
                format!("{name} is set, but frontdesk reads no such variable"),
                "correct its name (docs/configuration.md lists every variable) or unset it",
            );
        }
    }
}

/// What clap refused, and where the bad value came from (a flag or a variable).
fn explain(err: &clap::Error, serve: Option<&clap::Command>) -> (String, String) {
    let what = err
        .to_string()
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("serve's flags do not parse")
        .trim_start_matches("error: ")
        .to_string();
    let flag = match err.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(arg)) => arg.split_whitespace().next().map(str::to_string),
        _ => None,
    };
    let env = flag.as_deref().and_then(|flag| {
        let long = flag.trim_start_matches("--");
        serve?
            .get_arguments()
            .find(|a| a.get_long() == Some(long))?
            .get_env()
            .map(|e| e.to_string_lossy().into_owned())
    });
    let fix = match (flag, env) {
        (Some(flag), Some(env)) if std::env::var_os(&env).is_some() => {
            format!("correct {env} in the environment (it sets {flag}), or the flag after --")
        }
        (Some(flag), _) => format!("correct {flag}; frontdesk serve --help explains it"),
        _ => "frontdesk serve --help lists the flags; pass them after --".to_string(),
    };
    (what, fix)
}
