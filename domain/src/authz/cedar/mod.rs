//! The Cedar policy engine behind runtime authorization: the schema, validation of
//! policies with readable errors, and evaluation of one request against an agent's
//! policy set with the entities built from the inventory.
//!
//! Cedar evaluates every policy of a set on each request (about a microsecond each),
//! so each agent is decided with its own set — the built-in policies, the policies its
//! settings, entitlements and delegations compile to, and the admin policies that apply
//! to it — never one set holding every agent's policies.
//!
//! Behind the feature `cedar` (the server and the fuzz targets; the browser build does
//! without). Entities are built from their parts ([`uid_of`]), never by parsing text
//! made from inventory values: a name with a quote or a control character names the
//! same entity as any other.

mod engine;
mod entities;
mod facts;
#[cfg(test)]
mod tests;

pub use engine::*;
pub use entities::*;
pub use facts::*;
