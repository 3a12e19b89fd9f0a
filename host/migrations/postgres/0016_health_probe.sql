-- `/healthz` writes this one row to learn whether the database takes writes
-- again after a storage fault (a lost connection, a full disk).
CREATE TABLE health_probe (
    id BIGINT PRIMARY KEY,
    at BIGINT NOT NULL,
    pad TEXT NOT NULL
);
