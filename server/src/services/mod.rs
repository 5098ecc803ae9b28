//! The service layer: implementations of the domain's ports over the store. Every
//! rule (and, from the login issue on, every authorization and audit entry) lives here,
//! so the web UI and the REST API cannot disagree.

pub mod auth;
pub mod inventory;
pub mod tokens;

use std::sync::Arc;

use steward_domain::ports::Ports;

use crate::store::Store;

/// Builds every port over one store.
pub fn ports(store: Store) -> Ports {
    Ports {
        inventory: Arc::new(inventory::InventoryService::new(store)),
    }
}
