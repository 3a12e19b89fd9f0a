-- `/healthz` writes this one row to learn whether the database takes writes
-- again after a storage fault (a full disk, an I/O error).
CREATE TABLE health_probe (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    pad TEXT NOT NULL
);
