//! This process as one node: who it is across restarts, and its background
//! workers' stop signal.
//!
//! The outbox records who claimed an item: the node's id, which survives a
//! restart, and a token new in every process. A node that starts again after
//! a crash finds claims under its id and a token not its own: nobody is
//! sending those any more, so it makes them due at once instead of waiting
//! for their lease to run out (issue 22).

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::Path;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// The file in the data directory that holds the node id.
pub const NODE_ID_FILE: &str = "node-id";

/// Who claims outbox items: the node and this process of it.
#[derive(Debug, Clone)]
pub struct Claimant {
    /// Stable across restarts of this node (`--node-id` or `{data_dir}/node-id`).
    pub node: Arc<str>,
    /// New in every process, so a restart can tell its claims from its
    /// predecessor's.
    pub token: Arc<str>,
    /// Keeps `{data_dir}/node-id` locked while this process runs, so a second
    /// process on the same data directory does not take the same id.
    _lock: Option<Arc<File>>,
}

impl Claimant {
    /// A node with an id of its own that no other process shares (tests, and
    /// a second process on a data directory already in use).
    pub fn ephemeral() -> Claimant {
        Claimant {
            node: random_id().into(),
            token: random_id().into(),
            _lock: None,
        }
    }

    /// The node id given on the command line.
    pub fn named(node: &str) -> Claimant {
        Claimant {
            node: node.into(),
            token: random_id().into(),
            _lock: None,
        }
    }

    /// The node id kept in `{data_dir}/node-id`, made on first start. When
    /// another running process holds that file, this one takes an id of its
    /// own for this run, and says so: its claims then come back after the
    /// lease if it crashes, not at once.
    pub fn from_data_dir(data_dir: &Path) -> std::io::Result<Claimant> {
        std::fs::create_dir_all(data_dir)?;
        let path = data_dir.join(NODE_ID_FILE);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let claimant = Claimant::ephemeral();
                tracing::warn!(
                    file = %path.display(),
                    node = %claimant.node,
                    "another running frontdesk uses this data directory; this one runs as a node of its own \
                     (give each process its own --data-dir or --node-id)"
                );
                return Ok(claimant);
            }
            Err(std::fs::TryLockError::Error(err)) => return Err(err),
        }
        let mut stored = String::new();
        file.read_to_string(&mut stored)?;
        let node = match stored.trim() {
            "" => {
                let node = random_id();
                file.write_all(node.as_bytes())?;
                file.sync_all()?;
                node
            }
            node => node.to_string(),
        };
        Ok(Claimant {
            node: node.into(),
            token: random_id().into(),
            _lock: Some(Arc::new(file)),
        })
    }
}

/// 16 random bytes in hex.
fn random_id() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}

/// The background workers' stop signal and the tasks to wait for: on
/// shutdown no worker starts new work, and the server waits (up to the drain
/// time) for what is in flight to finish and be recorded. Every task the
/// node starts runs under it (the engine task and its bot worker, the live
/// publisher and access poll, the group-commit writer, the delivery
/// workers, the mail listeners, backups, retention, the plugin watcher, the
/// routing lock watch, the rate limiters' sweeper), none detached.
#[derive(Debug, Clone, Default)]
pub struct Workers {
    /// Cancelled when the server stops.
    pub stop: CancellationToken,
    /// Every worker task and every delivery in flight.
    pub tracker: TaskTracker,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_node_id_survives_a_restart_and_a_second_process_gets_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let first = Claimant::from_data_dir(dir.path()).unwrap();
        let second = Claimant::from_data_dir(dir.path()).unwrap();
        assert_ne!(
            first.node, second.node,
            "a process that finds the id in use takes its own"
        );
        let node = first.node.clone();
        let token = first.token.clone();
        drop((first, second));
        let again = Claimant::from_data_dir(dir.path()).unwrap();
        assert_eq!(again.node, node, "the id is kept across restarts");
        assert_ne!(again.token, token, "every process has a token of its own");
    }
}
