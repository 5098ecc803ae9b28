//! Just-in-time grants: the eligibility policies that say who may request which
//! just-in-time entitlement for which identities (for how long, approved how, when),
//! and the pure rules of a grant's life — requesting, approving (the clock starts at
//! approval), denying, extending within the maximum, revoking and expiring.

pub mod precedence;

mod policies;
mod records;
mod rules;
#[cfg(test)]
mod tests;
mod windows;

pub use policies::*;
pub use records::*;
pub use rules::*;
pub use windows::*;
