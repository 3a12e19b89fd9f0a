//! Scenario tests against real guest plugins from `plugins/`, built once per
//! test run.

mod bot;
mod builtin;
mod capabilities;
mod guests;
mod hostile;
mod registry;
