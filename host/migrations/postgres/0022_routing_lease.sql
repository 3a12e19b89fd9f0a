-- The routing lease (issue 18): exactly one node of those sharing this
-- database routes at a time. The node that holds an unexpired lease leads;
-- taking it over adds one to `token`, the fencing token, which every routing
-- write checks in its own transaction (`SELECT token ... FOR SHARE`), so a
-- paused or cut-off former leader can never write after another node took
-- over. Expiry is judged by the database's clock only (`now()`), never a
-- node's. SQLite has no twin: one node per file, held by a file lock.
-- See docs/cluster.md and host/src/routing_lock/.
CREATE TABLE routing_lease (
    id SMALLINT PRIMARY KEY CHECK (id = 1),
    -- Who holds or last held it: the node id and its process token.
    holder TEXT,
    token BIGINT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
-- Seeded expired, so the first node to start takes it at once (token 1).
INSERT INTO routing_lease (id, holder, token, expires_at) VALUES (1, NULL, 0, '-infinity');
