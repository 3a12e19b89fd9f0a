//! `frontdesk user`: people and their sign-in, straight on the database
//! (works with the server stopped or running).

use std::io::BufRead as _;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::Subcommand;

use crate::auth::{new_token, password, token_hash};
use crate::store::{LinkFor, Millis, Role, Store, UserStatusPatch};

/// How long a link printed by `frontdesk user link` stays usable.
const LINK_TTL_MS: Millis = 7 * 24 * 3_600_000;

#[derive(Subcommand)]
pub enum UserCommand {
    /// Creates a user and prints their API token as the last line (shown only once).
    Add {
        /// Unique user name.
        name: String,
        /// What the user may do: admin configures, supervisor watches and rates, agent answers.
        #[arg(long, value_enum)]
        role: Role,
        /// Reads their console password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Lists users with their role and status.
    List,
    /// Disables a user: their token and browser sessions stop working at once.
    Disable {
        /// The user's name.
        name: String,
    },
    /// Prints a one-time link where the user sets their console password (7 days).
    Link {
        /// The user's name.
        name: String,
        /// The URL people reach the server at (as `serve --public-url`).
        #[arg(
            long,
            env = "FRONTDESK_PUBLIC_URL",
            default_value = "http://127.0.0.1:8080"
        )]
        public_url: String,
    },
}

pub async fn run(store: Arc<dyn Store>, now: Millis, command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Add {
            name,
            role,
            password_stdin,
        } => {
            let password = if password_stdin {
                Some(read_password()?)
            } else {
                None
            };
            let token = new_token();
            let user = store
                .create_user(name.trim(), role, &token_hash(&token), now)
                .await?;
            if let Some(password) = password {
                let hash = tokio::task::spawn_blocking(move || password::hash(&password)).await?;
                store.set_password(user.id, &hash).await?;
            }
            println!(
                "created {} user {:?} (id {})",
                role.as_str(),
                user.name,
                user.id
            );
            println!("API token (shown only now):");
            println!("{token}");
        }
        UserCommand::List => {
            println!("{:>5}  {:<24} {:<11} status", "id", "name", "role");
            for u in store.list_users().await? {
                let flags = [
                    (u.disabled, "disabled"),
                    (u.dismissed, "dismissed"),
                    (u.vacation, "vacation"),
                ];
                let status: Vec<&str> = flags
                    .iter()
                    .filter(|(on, _)| *on)
                    .map(|(_, l)| *l)
                    .collect();
                let status = if status.is_empty() {
                    "active".to_string()
                } else {
                    status.join(",")
                };
                println!(
                    "{:>5}  {:<24} {:<11} {status}",
                    u.id,
                    u.name,
                    u.role.as_str()
                );
            }
        }
        UserCommand::Disable { name } => {
            let id = user_id(store.as_ref(), &name).await?;
            let patch = UserStatusPatch {
                disabled: Some(true),
                ..Default::default()
            };
            store.update_user_status(None, id, &patch, now).await?;
            store.end_web_sessions_of(id).await?;
            println!("disabled {name:?}");
        }
        UserCommand::Link { name, public_url } => {
            let id = user_id(store.as_ref(), &name).await?;
            let token = new_token();
            store
                .create_setup_link(
                    &token_hash(&token),
                    LinkFor::User(id),
                    now,
                    now + LINK_TTL_MS,
                )
                .await?;
            println!("a link for {name:?} to set their password (works once, for 7 days):");
            println!(
                "{}/console/#setup={token}",
                public_url.trim_end_matches('/')
            );
        }
    }
    Ok(())
}

async fn user_id(store: &dyn Store, name: &str) -> anyhow::Result<i64> {
    match store.user_by_name(name).await? {
        Some(user) => Ok(user.id),
        None => bail!("no user named {name:?}; `frontdesk user list` shows who exists"),
    }
}

/// The first line of standard input, checked against the password rules.
fn read_password() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    let password = line.trim_end_matches(['\r', '\n']).to_string();
    password::check_rules(&password).map_err(|why| anyhow::anyhow!("--password-stdin: {why}"))?;
    Ok(password)
}
