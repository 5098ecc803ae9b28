//! Use-case interfaces the UI and the REST API call, implemented by the server over
//! the store. Authorization and audit happen behind these traits, never in front.

use std::sync::Arc;

use async_trait::async_trait;

use crate::error::DomainError;
use crate::inventory::{IdentityQuery, IdentitySummary, Page};

/// Reading and maintaining the register of identities.
#[async_trait]
pub trait Inventory: Send + Sync {
    /// One keyset-paginated page of identities matching the query, ordered by name.
    async fn list_identities(
        &self,
        query: &IdentityQuery,
    ) -> Result<Page<IdentitySummary>, DomainError>;
}

/// Every port, handed to the UI through context and to the API through state.
#[derive(Clone)]
pub struct Ports {
    pub inventory: Arc<dyn Inventory>,
}
