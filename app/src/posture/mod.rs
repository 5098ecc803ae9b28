//! Compliance posture in the browser: the managers' dashboard (charts drawn on the
//! server, each element a link to the inventory behind it, the numbers as tables and
//! CSV), the Controls page, the printable report of a day, and an identity's findings
//! with risk acceptance.

mod controls;
mod dashboard;
mod findings;
mod labels;
mod report;
mod server_fns;

pub use controls::*;
pub use dashboard::*;
pub use findings::*;
pub use labels::*;
pub use report::*;
pub use server_fns::*;
