//! Access review campaigns: what a campaign is (scope, the controls it evidences, what
//! is reviewed, who reviews, when, and what happens to undecided items), the templates
//! that work out of the box, and the pure rules — who reviews an item, which decisions
//! are acceptable, when reminders and escalations are due, when the next recurrence
//! starts. Storage, the reviewers' inbox and the evidence pack build on these.

mod draft;
mod evidence;
mod records;
mod rules;
mod templates;
#[cfg(test)]
mod tests;

pub use draft::*;
pub use evidence::*;
pub use records::*;
pub use rules::*;
pub use templates::*;
