//! The end-to-end tests, linked as one binary (issue 15: one link instead of
//! 33 saves minutes of every clean build). Each module is one area and
//! starts the real `frontdesk` binary against real peers; `support` holds
//! what they share, `email_peers` and `telegram_peers` the peers two areas use.
//!
//! Run one area with `cargo test -p frontdesk --test e2e -- live::`, or one
//! test by its full name.

mod email_peers;
mod support;
mod telegram_peers;

mod attachments;
mod backup_restore;
mod bot_packages;
mod bots;
mod builtin_plugins;
mod cluster_proxy;
mod console_browser;
mod contact_data;
mod deployment;
mod email;
mod facebook;
mod full_story_browser;
mod guest_unit_tests;
mod ingest_crash;
mod js_plugins;
mod live;
mod live_nodes;
mod marketplace;
mod openapi;
mod outbox_crash;
mod plugin_author;
mod plugin_cli;
mod plugin_upgrade;
mod postgres_nodes;
mod retention;
mod reverse_proxy;
mod routing_failover;
mod routing_inbox;
mod routing_requeue;
mod routing_restart;
mod second_node;
mod security;
mod serve_lifecycle;
mod shutdown;
mod sockets_on_stop;
mod storage_faults;
mod telegram;
mod webchat;
mod widget_browser;
