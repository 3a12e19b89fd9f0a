#!/usr/bin/env bash
# Runs every test on a fresh machine: installs or starts what the tests need
# (the wasm target, PostgreSQL, the test peers), then `cargo test --workspace`.
# It is the README's test command, and `.ci/run` calls exactly it. Safe to run
# again: each step is skipped when what it provides is already there.
# Arguments go to `cargo test` (e.g. `scripts/test.sh -p frontdesk --test e2e -- live::`).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '==> %s\n' "$*"; }

# Debian packages: `apt-get update` once, only if something is missing.
apt_updated=
apt_install() {
    if [ -z "$apt_updated" ]; then
        apt-get update -q
        apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@"
}
need_root() {
    if [ "$(id -u)" != 0 ]; then
        echo "error: $1 is missing and installing it needs root; install it (see README, Tests) or run as root" >&2
        exit 1
    fi
}

# The toolchain comes from rust-toolchain.toml; the wasm target it names is
# not added to a toolchain that was installed before, so add it explicitly.
rustup show active-toolchain
if ! rustup target list --installed | grep -qx wasm32-wasip2; then
    say "adding the wasm32-wasip2 target (plugins and bots build for it)"
    rustup target add wasm32-wasip2
fi

# PostgreSQL: the story tests create and drop their own databases on it.
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    say "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
    for _ in $(seq 1 30); do
        pg_isready -q -h 127.0.0.1 -p 5432 && break
        sleep 1
    done
fi

# npm peers: telegram-test-api (Telegram), playwright-core (browser tests), and
# componentize-js with jco (JavaScript plugins: tests/js_plugins.rs, the bot_call bench).
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    need_root "Node.js"
    say "installing Node.js"
    apt_install nodejs npm
fi
# Always run: it is quick when nothing changed, and follows package.json when it did.
say "installing the npm test peers (tests/peers)"
npm install --prefix tests/peers --no-audit --no-fund

# Email: a real SMTP relay (PyPI aiosmtpd) and IMAP server (Debian dovecot).
if ! python3 -c 'import aiosmtpd' 2>/dev/null; then
    say "installing aiosmtpd"
    pip install -q aiosmtpd
fi
# The OpenAPI document against the server (tests/openapi.rs): PyPI schemathesis.
if ! python3 -c 'import schemathesis' 2>/dev/null || ! command -v st >/dev/null; then
    say "installing schemathesis"
    pip install -q schemathesis
fi
if ! command -v dovecot >/dev/null || ! command -v doveadm >/dev/null; then
    need_root "dovecot"
    say "installing dovecot"
    apt_install dovecot-imapd
fi

# Browser tests drive Debian's Chromium (never `npx playwright install`).
if ! command -v chromium >/dev/null; then
    need_root "chromium"
    say "installing chromium"
    apt_install chromium
fi

# Deployment: Debian's nginx runs deploy/nginx.conf (tests/reverse_proxy.rs);
# systemd-analyze checks deploy/frontdesk.service offline (tests/deployment).
if ! command -v nginx >/dev/null; then
    need_root "nginx"
    say "installing nginx"
    apt_install nginx
fi
if ! command -v systemd-analyze >/dev/null; then
    need_root "systemd-analyze"
    say "installing systemd (for systemd-analyze)"
    apt_install systemd
fi

# Bot packages are packed with the system tar (tests/bot_packages.rs).
command -v tar >/dev/null || { need_root tar; apt_install tar; }

say "cargo test --workspace $*"
exec cargo test --workspace "$@"
