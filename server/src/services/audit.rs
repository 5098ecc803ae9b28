//! The audit-trail port over the store (admins and auditors only).

use async_trait::async_trait;
use steward_domain::audit::{AuditPage, AuditQuery, ChainReport};
use steward_domain::auth::{authorize, Action, Principal};
use steward_domain::ports::AuditTrail;
use steward_domain::DomainError;

use crate::store::audit::AuditFilter;
use crate::store::Store;

pub struct AuditService {
    store: Store,
}

impl AuditService {
    pub fn new(store: Store) -> Self {
        AuditService { store }
    }
}

pub fn filter_of(query: &AuditQuery) -> AuditFilter {
    AuditFilter {
        actor: query.actor.clone(),
        action: query.action.clone(),
        target: query.target.clone(),
        since: query.since,
        until: query.until,
        before_seq: query.before,
        limit: query.limit,
    }
}

#[async_trait]
impl AuditTrail for AuditService {
    async fn list(
        &self,
        principal: Option<&Principal>,
        query: &AuditQuery,
    ) -> Result<AuditPage, DomainError> {
        authorize(principal, Action::ReadAudit)?;
        let mut filter = filter_of(query);
        filter.limit = query.limit + 1;
        let mut events = self.store.list_audit(&filter).await?;
        let more = events.len() > query.limit as usize;
        events.truncate(query.limit as usize);
        let next_before = if more {
            events.last().map(|e| e.seq)
        } else {
            None
        };
        Ok(AuditPage {
            events,
            next_before,
        })
    }

    async fn verify(&self, principal: Option<&Principal>) -> Result<ChainReport, DomainError> {
        authorize(principal, Action::ReadAudit)?;
        Ok(self.store.verify_audit().await?)
    }
}
