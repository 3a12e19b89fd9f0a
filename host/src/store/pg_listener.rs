//! PostgreSQL's side of [`InboxListener`]: one `LISTEN` connection per node
//! for the routing inbox's two channels (issue 18).

use async_trait::async_trait;
use sqlx::postgres::PgListener;
use sqlx::{Pool, Postgres};

use super::{ANSWER_CHANNEL, Heard, InboxListener, ROUTING_CHANNEL, Result};

/// A `PgListener` on [`ROUTING_CHANNEL`] and [`ANSWER_CHANNEL`].
struct PgInboxListener(PgListener);

/// Takes a connection of `pool` for good and listens on both channels.
pub(super) async fn connect(pool: &Pool<Postgres>) -> Result<Box<dyn InboxListener>> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener
        .listen_all([ROUTING_CHANNEL, ANSWER_CHANNEL])
        .await?;
    Ok(Box::new(PgInboxListener(listener)))
}

#[async_trait]
impl InboxListener for PgInboxListener {
    async fn recv(&mut self) -> Result<Heard> {
        loop {
            // `None`: the connection was lost and made again (listening
            // again on both channels); whatever was sent meanwhile is lost.
            let Some(heard) = self.0.try_recv().await? else {
                return Ok(Heard::Reconnected);
            };
            match heard.channel() {
                ROUTING_CHANNEL => return Ok(Heard::Routing),
                ANSWER_CHANNEL => match heard.payload().parse() {
                    Ok(id) => return Ok(Heard::Answer(id)),
                    Err(_) => tracing::warn!(
                        payload = heard.payload(),
                        "an answer notification without an inbox id; ignored"
                    ),
                },
                _ => {}
            }
        }
    }
}
