//! The Telegram connector: a bot's webhook in, Bot API calls out.
//!
//! # Layout
//!
//! - `update.rs`: webhook `Update` JSON → normalized messages (pure).
//! - `outbound.rs`: a reply → `sendMessage` / `sendPhoto` / `sendDocument` calls (pure).
//! - `bot_api.rs`: Bot API URLs, `setWebhook`'s body, and reading Telegram's
//!   answers into retry / rate-limit / give-up outcomes (pure).
//! - `verify.rs`: the `X-Telegram-Bot-Api-Secret-Token` check (pure).
//! - this file: the glue to the host (`http`, `kv`), built only for Wasm.
//!
//! The pure parts build natively, so their tests run with
//! `cargo test --manifest-path plugins/Cargo.toml -p frontdesk-telegram --target x86_64-unknown-linux-gnu`.

pub mod bot_api;
pub mod outbound;
pub mod update;
pub mod verify;

#[cfg(target_arch = "wasm32")]
mod glue;
