//! Steward's server: configuration, the store over SQLite or PostgreSQL, the services
//! that implement the domain's ports, the REST API, the web app and the CLI.

pub mod adapters;
pub mod api;
pub mod cli;
pub mod config;
pub mod demo;
pub mod services;
pub mod store;
pub mod telemetry;
pub mod web;
pub mod workers;
