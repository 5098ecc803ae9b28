//! The Cedar policy engine lives in the domain ([`steward_domain::cedar`], feature
//! `cedar`), so the fuzz targets run the very code the server decides with; this is its
//! old place, kept for the code that still names it here.

pub use steward_domain::cedar::*;
