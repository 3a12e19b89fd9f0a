//! The fencing token: the lease row's `token bigint`.

use std::fmt;

/// A fencing token. Every acquisition that starts a new term makes it larger,
/// so "the writer's token equals the row's token" means "no other node has
/// taken over since this writer became leader".
///
/// An `i64` because that is what PostgreSQL's `bigint` holds; the row starts
/// at 0, so the first real token is 1.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Token(pub i64);

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "token {}", self.0)
    }
}
