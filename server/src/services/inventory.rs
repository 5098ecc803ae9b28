//! The inventory port over the store.

use async_trait::async_trait;
use steward_domain::auth::{authorize, Action, Principal};
use steward_domain::inventory::{IdentityQuery, IdentitySummary, Page};
use steward_domain::ports::Inventory;
use steward_domain::DomainError;

use crate::store::Store;

pub struct InventoryService {
    store: Store,
}

impl InventoryService {
    pub fn new(store: Store) -> Self {
        InventoryService { store }
    }
}

#[async_trait]
impl Inventory for InventoryService {
    #[tracing::instrument(skip(self, principal), fields(class = ?query.actor_class, limit = query.limit))]
    async fn list_identities(
        &self,
        principal: Option<&Principal>,
        query: &IdentityQuery,
    ) -> Result<Page<IdentitySummary>, DomainError> {
        authorize(principal, Action::ReadInventory)?;
        Ok(self.store.list_identities(query).await?)
    }
}
