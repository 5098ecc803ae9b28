//! The register of non-human identities: vocabulary, list queries and keyset cursors.

mod export;
mod facets;
mod paging;
mod query;
#[cfg(test)]
mod tests;
mod vocabulary;

pub use export::*;
pub use facets::*;
pub use paging::*;
pub use query::*;
pub use vocabulary::*;
