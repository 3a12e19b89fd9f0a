-- The plugins' `kv` import: small values per plugin (not version, so data
-- survives upgrades) and channel.
CREATE TABLE plugin_kv (
    plugin  TEXT NOT NULL,
    channel TEXT NOT NULL,
    key     TEXT NOT NULL,
    value   BYTEA NOT NULL,
    PRIMARY KEY (plugin, channel, key)
);
