//! Steward's integration tests: one binary (each test binary links the whole server,
//! which costs minutes on two cores), one module per capability. Storage and HTTP tests
//! run on SQLite and on PostgreSQL (`STEWARD_TEST_PG_URL`) through
//! [`common::for_each_store`]; a failure says which database it happened on.
//!
//! Run one capability with `cargo test --release -p steward-server --test integration
//! grants::`.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

mod accounts;
mod api;
mod authz;
mod campaigns;
mod cli;
mod federation;
mod grants;
mod imports;
mod inventory;
mod migrations;
mod posture;
mod store;
