//! Scenario tests under a virtual clock, named after SPEC IDs.

mod harness;

mod auto_actions;
mod consent_ratings;
mod hostile;
mod working_hours;
mod x1_cli;
