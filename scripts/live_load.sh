#!/usr/bin/env bash
# Issue 7's load run: 1,000 widget WebSockets and 100 agent consoles on one
# release server (SQLite, a fresh temporary data dir); prints a table of
# acks, delivered agent events, the message -> agent event latency and the
# server's memory. Extra arguments go to frontdesk-load (e.g. --live-secs 60).
# BINS=dir runs the frontdesk and frontdesk-load already built in dir instead
# of building: to compare two builds in one sitting (docs/benchmarks.md).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${BINS:-}" ]; then
    cargo build --release --bin frontdesk --bin frontdesk-load
    BINS=target/release
fi
CARGO_TARGET_DIR=target/wasm-plugins cargo build --release --target wasm32-wasip2 \
    --manifest-path plugins/Cargo.toml -p webchat
BIN=$BINS/frontdesk
W=$(mktemp -d)
mkdir -p "$W/pkg"
cp plugins/webchat/manifest.toml "$W/pkg/manifest.toml"
cp target/wasm-plugins/wasm32-wasip2/release/webchat.wasm "$W/pkg/plugin.wasm"
DB="sqlite://$W/frontdesk.db"
$BIN plugin --data-dir "$W/data" install --allow-unsigned "$W/pkg" >/dev/null
TOKEN=$(FRONTDESK_DATABASE=$DB $BIN user add admin --role admin | tail -1)
PORT=${PORT:-18080}
# 1,000 visitors from one address is this test's point, not an attack: the
# rate limits (docs/security.md) are off for it.
FRONTDESK_DATABASE=$DB FRONTDESK_DATA_DIR=$W/data FRONTDESK_LOG=warn FRONTDESK_RATE_LIMITS=off \
    $BIN serve --listen "127.0.0.1:$PORT" >"$W/server.log" 2>&1 &
PID=$!
trap 'kill $PID; rm -rf "$W"' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done
CHANNEL=$(curl -s -X POST "http://127.0.0.1:$PORT/api/v1/channels" \
    -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' \
    -d '{"name":"Load","kind":"webchat","config":{}}' |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["channel"]["id"])')
$BINS/frontdesk-load --live-url "http://127.0.0.1:$PORT" --admin-token "$TOKEN" \
    --channel "$CHANNEL" --server-pid "$PID" --widgets 1000 --agents 100 "$@"
