//! Runtime authorization of agents: the Cedar schema Steward decides with, the per-agent
//! limits people set in the UI and the Cedar policies they compile to, and the shapes of
//! a decision request and its answer.
//!
//! The policy engine itself (`cedar-policy`) is [`cedar`], behind the feature
//! `cedar` (the server and the fuzz targets turn it on); this module is plain data and
//! text so the browser build can show and check the same things.

#[cfg(feature = "cedar")]
pub mod cedar;
mod compile;
mod records;
mod request;
mod schema;
#[cfg(test)]
mod tests;

pub use compile::*;
pub use records::*;
pub use request::*;
pub use schema::*;
