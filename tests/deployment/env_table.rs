//! docs/configuration.md's table of `FRONTDESK_*` variables against the
//! binary's own definitions: every variable a command's `--help` shows
//! (clap's `env`), with its flag, the commands that read it and its
//! default, and every variable the source reads outside clap. A flag added,
//! renamed or given a new default without the table fails here.

use std::collections::{BTreeMap, BTreeSet};

use super::{frontdesk, repo, run};

/// One option of one command, as its `-h` shows it.
#[derive(Debug, Clone)]
pub struct Opt {
    pub flag: String,
    pub env: Option<String>,
    pub default: Option<String>,
}

/// `frontdesk PATH... -h`'s text.
fn help(path: &[String]) -> String {
    let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
    args.push("-h");
    let (code, out, err) = run(&mut frontdesk(&args));
    assert_eq!(code, 0, "frontdesk {args:?}: {err}");
    out
}

/// The lines of one section (`Commands:`, `Options:`) of a help text.
fn section<'a>(help: &'a str, title: &str) -> Vec<&'a str> {
    help.lines()
        .skip_while(|l| *l != title)
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .collect()
}

/// Every command path: `["serve"]`, `["user", "link"]`, ...
pub fn commands() -> Vec<Vec<String>> {
    fn walk(path: Vec<String>, into: &mut Vec<Vec<String>>) {
        for line in section(&help(&path), "Commands:") {
            let name = line.split_whitespace().next().unwrap().to_string();
            if name == "help" {
                continue;
            }
            let mut sub = path.clone();
            sub.push(name);
            into.push(sub.clone());
            walk(sub, into);
        }
    }
    let mut all = Vec::new();
    walk(Vec::new(), &mut all);
    all
}

/// The options `frontdesk PATH -h` lists, with their variable and default.
pub fn options(path: &[String]) -> Vec<Opt> {
    let text = help(path);
    let mut blocks: Vec<String> = Vec::new();
    for line in section(&text, "Options:") {
        if line.trim_start().starts_with('-') {
            blocks.push(line.to_string());
        } else if let Some(last) = blocks.last_mut() {
            last.push(' ');
            last.push_str(line.trim());
        }
    }
    let between = |text: &str, start: &str, end: char| {
        let from = text.find(start)? + start.len();
        Some(text[from..][..text[from..].find(end)?].to_string())
    };
    blocks
        .iter()
        .map(|block| Opt {
            flag: block
                .split_whitespace()
                .find(|w| w.starts_with("--"))
                .unwrap()
                .trim_end_matches(',')
                .to_string(),
            env: between(block, "[env: ", '='),
            default: between(block, "[default: ", ']'),
        })
        .collect()
}

/// A row of the table: its cells, in the docs' column order.
struct Row {
    flag: String,
    read_by: String,
    default: String,
}

/// The table's rows by variable, from docs/configuration.md.
fn table() -> BTreeMap<String, Row> {
    let doc = std::fs::read_to_string(repo().join("docs/configuration.md")).unwrap();
    let mut rows = BTreeMap::new();
    for line in doc.lines().filter(|l| l.starts_with("| `FRONTDESK_")) {
        let cells: Vec<&str> = line.trim_matches('|').split(" | ").map(str::trim).collect();
        assert_eq!(
            cells.len(),
            5,
            "variable | flag | read by | default | meaning: {line}"
        );
        let name = cells[0].trim_matches('`').to_string();
        let row = Row {
            flag: cells[1].to_string(),
            read_by: cells[2].to_string(),
            default: cells[3].to_string(),
        };
        assert!(rows.insert(name.clone(), row).is_none(), "{name} twice");
    }
    rows
}

/// `"FRONTDESK_..."` literals in the binary's own sources (not its tests
/// or the load tool): variables read outside clap, such as the log filter.
fn variables_in_source() -> BTreeSet<String> {
    fn walk(dir: &std::path::Path, into: &mut BTreeSet<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                if !["bin", "tests"].contains(&name.as_str()) {
                    walk(&path, into);
                }
            } else if name.ends_with(".rs") && !name.contains("test") {
                let text = std::fs::read_to_string(&path).unwrap();
                for piece in text.split("\"FRONTDESK_").skip(1) {
                    let rest: String = piece
                        .chars()
                        .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
                        .collect();
                    if !rest.is_empty() && piece[rest.len()..].starts_with('"') {
                        into.insert(format!("FRONTDESK_{rest}"));
                    }
                }
            }
        }
    }
    let mut found = BTreeSet::new();
    walk(&repo().join("host/src"), &mut found);
    walk(&repo().join("host/plugin-host/src"), &mut found);
    found
}

#[test]
fn the_configuration_table_lists_every_variable_with_its_flag_commands_and_default() {
    let table = table();
    // Variable -> (flag, commands that read it, defaults they show).
    let mut seen: BTreeMap<String, (String, BTreeSet<String>, BTreeSet<String>)> = BTreeMap::new();
    let global: BTreeSet<String> = options(&[]).into_iter().filter_map(|o| o.env).collect();
    for path in commands() {
        for opt in options(&path) {
            let Some(env) = opt.env else { continue };
            let entry = seen
                .entry(env.clone())
                .or_insert_with(|| (opt.flag.clone(), BTreeSet::new(), BTreeSet::new()));
            assert_eq!(entry.0, opt.flag, "{env} sets two different flags");
            if !global.contains(&env) {
                entry.1.insert(format!("`{}`", path.join(" ")));
            }
            entry.2.extend(opt.default);
        }
    }
    assert!(
        seen.len() >= 15,
        "too few variables found in --help: {seen:?}"
    );
    for (env, (flag, read_by, defaults)) in &seen {
        let row = table
            .get(env)
            .unwrap_or_else(|| panic!("{env} ({flag}) is missing from docs/configuration.md"));
        assert_eq!(row.flag, format!("`{flag}`"), "{env}'s flag");
        let expected = if global.contains(env) {
            "every command".to_string()
        } else {
            read_by.iter().cloned().collect::<Vec<_>>().join(", ")
        };
        assert_eq!(row.read_by, expected, "commands that read {env}");
        for default in defaults {
            assert!(
                row.default.contains(&format!("`{default}`")),
                "{env}'s default {default} is not in its row: {}",
                row.default
            );
        }
    }
    // Beside clap's: variables the source reads itself, each in the table too.
    let outside: BTreeSet<String> = variables_in_source()
        .into_iter()
        .filter(|v| !seen.contains_key(v))
        .collect();
    assert!(outside.contains("FRONTDESK_LOG"), "{outside:?}");
    for env in &outside {
        let row = table.get(env).unwrap_or_else(|| {
            panic!("{env} is read by the binary but missing from docs/configuration.md")
        });
        assert_eq!(row.flag, "", "{env} has no flag");
    }
    for env in table.keys() {
        assert!(
            seen.contains_key(env) || outside.contains(env),
            "docs/configuration.md lists {env}, which the binary does not read"
        );
    }
}
