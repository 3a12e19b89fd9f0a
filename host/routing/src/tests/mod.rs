//! Scenario tests: one or more per SPEC ID, named after it, driven by a
//! virtual clock (see `harness`).

mod harness;
mod lifecycle;
mod limits;
mod modes;
mod properties;
mod requeue;
mod restore;
mod rules;
