//! Steward's domain: the vocabulary of non-human identity governance, the pure rules
//! over it, and the ports (use-case interfaces) that the server implements and the UI
//! calls. This crate does no IO and compiles for `wasm32-unknown-unknown`.

pub mod audit;
pub mod audit_checkpoint;
pub mod auth;
pub mod authz;
pub mod campaigns;
pub mod csv;
pub mod delegation;
pub mod error;
pub mod federation;
pub mod grants;
pub mod identity;
pub mod imports;
pub mod inventory;
pub mod ownership;
pub mod ports;
pub mod posture;
pub mod query;
pub mod second_factor;
pub mod sensitivity;
mod string_enum;
pub mod tokens;

pub use error::DomainError;
