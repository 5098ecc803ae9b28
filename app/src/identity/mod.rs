//! One identity's page — attributes, owner and sponsor, credentials with their
//! rotation state, entitlements, the delegation diagram and the lifecycle timeline —
//! with the actions the caller may take; and the create / edit form (admins).

mod form;
mod page;
mod sections;
mod server_fns;

pub use form::*;
pub use page::*;
pub use sections::*;
pub use server_fns::*;
