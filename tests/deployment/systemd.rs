//! `deploy/frontdesk.service` and `deploy/frontdesk.env`: systemd accepts
//! the unit (`systemd-analyze verify`, offline, in a scratch root holding
//! the real binary), its hardening scores as systemd's "OK" level, it stops
//! later than the drain ends, and every flag and variable it and its env
//! file use is one `frontdesk serve` has.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use super::env_table::options;
use super::{frontdesk, repo, run};

/// Where the unit expects the binary.
const BINARY: &str = "/usr/local/bin/frontdesk";

fn unit() -> String {
    std::fs::read_to_string(repo().join("deploy/frontdesk.service")).unwrap()
}

/// The unit's `Key=value` lines, in order (a key may repeat).
fn directives(unit: &str) -> Vec<(String, String)> {
    unit.lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#') && !l.starts_with('['))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn values<'a>(all: &'a [(String, String)], key: &str) -> Vec<&'a str> {
    all.iter()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .collect()
}

/// `FRONTDESK_*=value` settings in the env file, commented-out examples included.
fn env_file() -> Vec<(String, String, bool)> {
    let text = std::fs::read_to_string(repo().join("deploy/frontdesk.env")).unwrap();
    text.lines()
        .filter_map(|line| {
            let (active, rest) = match line.strip_prefix("# ") {
                Some(rest) => (false, rest),
                None => (true, line),
            };
            let (k, v) = rest.split_once('=')?;
            k.starts_with("FRONTDESK_")
                .then(|| (k.to_string(), v.to_string(), active))
        })
        .collect()
}

#[test]
fn the_unit_is_hardened_and_stops_after_the_drain() {
    let all = directives(&unit());
    for (key, want) in [
        ("DynamicUser", "yes"),
        ("StateDirectory", "frontdesk"),
        ("ProtectSystem", "strict"),
        ("ProtectHome", "yes"),
        ("NoNewPrivileges", "yes"),
        ("PrivateTmp", "yes"),
        ("RestrictAddressFamilies", "AF_INET AF_INET6 AF_UNIX"),
        ("SystemCallFilter", "@system-service"),
        ("CapabilityBoundingSet", ""),
        ("Restart", "on-failure"),
        ("EnvironmentFile", "-/etc/frontdesk/frontdesk.env"),
    ] {
        assert!(values(&all, key).contains(&want), "{key}={want} missing");
    }
    let nofile: u64 = values(&all, "LimitNOFILE")[0].parse().unwrap();
    assert!(nofile >= 65536, "LimitNOFILE={nofile}");
    // The drain the service gets: the env file's, else the unit's, else serve's default.
    let drain_from = |pairs: Vec<(String, String)>| {
        pairs
            .into_iter()
            .filter(|(k, _)| k == "FRONTDESK_DRAIN_SECS")
            .map(|(_, v)| v.parse::<u64>().unwrap())
            .next_back()
    };
    let unit_env = values(&all, "Environment")
        .iter()
        .filter_map(|e| {
            e.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
        })
        .collect();
    let file_env = env_file()
        .into_iter()
        .filter(|e| e.2)
        .map(|(k, v, _)| (k, v))
        .collect();
    let drain = drain_from(file_env).or(drain_from(unit_env)).unwrap_or(5);
    let stop: u64 = values(&all, "TimeoutStopSec")[0]
        .trim_end_matches('s')
        .parse()
        .unwrap();
    assert!(
        stop > drain,
        "TimeoutStopSec={stop} must exceed the {drain} s drain"
    );
}

#[test]
fn every_flag_and_variable_the_unit_and_env_file_use_exists() {
    let serve = options(&["serve".to_string()]);
    let flags: BTreeSet<&str> = serve.iter().map(|o| o.flag.as_str()).collect();
    let vars: BTreeSet<&str> = serve.iter().filter_map(|o| o.env.as_deref()).collect();
    let all = directives(&unit());
    let exec = values(&all, "ExecStart")[0];
    let mut words = exec.split_whitespace();
    assert_eq!(words.next(), Some(BINARY));
    assert_eq!(words.next(), Some("serve"));
    for word in words.filter(|w| w.starts_with("--")) {
        let flag = word.split('=').next().unwrap();
        assert!(
            flags.contains(flag),
            "ExecStart uses {flag}, which serve does not have"
        );
    }
    let mut used: Vec<String> = values(&all, "Environment")
        .iter()
        .map(|e| e.split('=').next().unwrap().to_string())
        .collect();
    used.extend(env_file().into_iter().map(|(k, _, _)| k));
    assert!(used.len() >= 8, "{used:?}");
    for var in &used {
        assert!(
            vars.contains(var.as_str()),
            "{var} is not a variable serve reads"
        );
    }

    // The env file's active settings pass `frontdesk check`'s configuration
    // part, with the service's paths moved into a scratch directory.
    let dir = tempfile::tempdir().unwrap();
    let mut check = frontdesk(&["check", "--min-free-mib", "1"]);
    for (key, value, active) in env_file() {
        if active {
            let local = value.replace("/var/lib/frontdesk", dir.path().to_str().unwrap());
            check.env(key, local);
        }
    }
    let (_, out, err) = run(check.env("FRONTDESK_LISTEN", "127.0.0.1:0"));
    assert!(
        out.starts_with("ok    configuration  serve's flags parse"),
        "{out}{err}"
    );
    assert!(!out.contains("FAIL"), "{out}");
}

/// Lays out a root systemd can load the unit from: the unit, systemd's own
/// units (for the targets it names) and the binary where ExecStart says.
fn scratch_root(root: &Path) {
    let units = root.join("etc/systemd/system");
    std::fs::create_dir_all(&units).unwrap();
    std::fs::write(units.join("frontdesk.service"), unit()).unwrap();
    let system = root.join("usr/lib/systemd/system");
    std::fs::create_dir_all(&system).unwrap();
    for dir in ["/lib/systemd/system", "/usr/lib/systemd/system"] {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_file() {
                let _ = std::fs::copy(&path, system.join(entry.file_name()));
            }
        }
    }
    let bin = root.join(BINARY.trim_start_matches('/'));
    std::fs::create_dir_all(bin.parent().unwrap()).unwrap();
    let built = super::support::binary();
    if std::fs::hard_link(&built, &bin).is_err() {
        std::fs::copy(&built, &bin).unwrap();
    }
}

#[test]
fn systemd_accepts_the_unit_and_rates_its_exposure_ok() {
    if Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_err()
    {
        // scripts/test.sh installs it; a machine without it cannot run this part.
        println!(
            "SKIPPED: systemd-analyze is not installed (Debian package systemd; scripts/test.sh installs it)"
        );
        return;
    }
    // Beside the binary, so the hard link works.
    let root = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    scratch_root(root.path());
    let root_flag = format!("--root={}", root.path().display());
    let verify = Command::new("systemd-analyze")
        .args(["verify", &root_flag, "frontdesk.service"])
        .output()
        .unwrap();
    let complaints = String::from_utf8_lossy(&verify.stderr);
    // Unknown keys and bad values are only warnings: any output fails too.
    assert!(
        verify.status.success() && complaints.trim().is_empty(),
        "systemd-analyze verify: {complaints}"
    );
    let security = Command::new("systemd-analyze")
        .args(["security", "--offline=yes", &root_flag, "--threshold=20"])
        .args(["--no-pager", "frontdesk.service"])
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&security.stdout);
    let overall = report
        .lines()
        .find(|l| l.contains("Overall exposure level"))
        .unwrap_or_else(|| panic!("no overall level: {report}"));
    // --threshold=20: exposure 2.0 or lower out of 10 (systemd calls up to 3.9 "OK").
    assert!(security.status.success(), "{overall}\n{report}");
    println!("{overall}");
}
