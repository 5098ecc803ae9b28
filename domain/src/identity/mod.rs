//! One identity in full: its attributes, credentials, entitlements and delegations, the
//! rules for creating and editing it, and its lifecycle (suspend, reactivate, retire).

mod additions;
mod detail;
mod draft;
mod lifecycle;
#[cfg(test)]
mod tests;

pub use additions::*;
pub use detail::*;
pub use draft::*;
pub use lifecycle::*;
