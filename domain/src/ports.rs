//! Use-case interfaces the UI and the REST API call, implemented by the server over
//! the store. Authorization and audit happen behind these traits, never in front:
//! every method takes the caller (`None` = anonymous) and decides itself.

use std::sync::Arc;

use async_trait::async_trait;

use crate::audit::{AuditPage, AuditQuery, ChainReport};
use crate::auth::Principal;
use crate::error::DomainError;
use crate::inventory::{IdentityQuery, IdentitySummary, Page};

/// Reading and maintaining the register of identities.
#[async_trait]
pub trait Inventory: Send + Sync {
    /// One keyset-paginated page of identities matching the query, ordered by name.
    async fn list_identities(
        &self,
        principal: Option<&Principal>,
        query: &IdentityQuery,
    ) -> Result<Page<IdentitySummary>, DomainError>;
}

/// The tamper-evident audit trail.
#[async_trait]
pub trait AuditTrail: Send + Sync {
    /// Events matching the query, newest first.
    async fn list(
        &self,
        principal: Option<&Principal>,
        query: &AuditQuery,
    ) -> Result<AuditPage, DomainError>;

    /// Re-checks the hash chain, naming the first broken event.
    async fn verify(&self, principal: Option<&Principal>) -> Result<ChainReport, DomainError>;
}

/// Every port, handed to the UI through context and to the API through state.
#[derive(Clone)]
pub struct Ports {
    pub inventory: Arc<dyn Inventory>,
    pub audit: Arc<dyn AuditTrail>,
}
