//! Access review pages: the campaigns (templates to launch, progress per control, the
//! overdue list), one campaign (progress by reviewer and team, its items, closing), the
//! printable evidence report, and the reviewer's **Reviews** inbox.

mod campaign;
mod evidence;
mod overview;
mod parts;
mod reviews;
mod server_fns;

pub use campaign::*;
pub use evidence::*;
pub use overview::*;
pub use parts::*;
pub use reviews::*;
pub use server_fns::*;
