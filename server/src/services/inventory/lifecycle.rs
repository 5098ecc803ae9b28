//! The lifecycle of an identity: suspending (with its kill switch), reactivating,
//! moving the expiry and retiring (with the offboarding checklist) — authorized,
//! checked and audited here; the statements are the store's
//! ([`writes`](crate::store::inventory::writes)).

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use steward_domain::audit::{AuditAction, NewAuditEvent};
use steward_domain::auth::{authorize, Action, Principal};
use steward_domain::identity::{
    may_suspend, required_text, IdentityDetail, LifecycleRequest, RetireRequest, RetirementReport,
};
use steward_domain::inventory::{IdentityStatus, IdentitySummary};
use steward_domain::DomainError;
use uuid::Uuid;

use super::{identity_target, InventoryService};
use crate::services::grants::revoke_open_grants;
use crate::services::write_error;
use crate::store::inventory::writes;
use crate::store::write::Statement;
use crate::store::Store;

/// What suspending the active identity `id` takes, for the caller's transaction: the
/// status change (which fails the write if the identity is no longer active) and the
/// kill switch (its open grants revoked), with an `identity.suspend` event carrying
/// `details` and a `grant.revoke` event per grant.
pub(crate) async fn suspension(
    store: &Store,
    id: Uuid,
    actor: &str,
    reason: &str,
    details: Value,
    now: DateTime<Utc>,
) -> Result<(Vec<Statement>, Vec<NewAuditEvent>), DomainError> {
    let status = writes::suspend_identity(id, reason, now);
    let (revoke, grant_events) =
        revoke_open_grants(store, id, actor, AuditAction::IdentitySuspend, reason, now).await?;
    let mut details = match details {
        Value::Object(map) => map,
        _ => serde_json::Map::new(),
    };
    details.insert("reason".into(), json!(reason));
    details.insert("grants_revoked".into(), json!(grant_events.len()));
    let event = NewAuditEvent::new(
        actor,
        AuditAction::IdentitySuspend,
        identity_target(id),
        Value::Object(details),
    );
    Ok((
        vec![status, revoke],
        std::iter::once(event).chain(grant_events).collect(),
    ))
}

/// Retired identities are kept as they were, for the audit: every change refuses them.
pub fn refuse_retired(identity: &IdentitySummary) -> Result<(), DomainError> {
    if identity.status == IdentityStatus::Retired {
        return Err(DomainError::Conflict {
            message: format!(
                "{} is retired; retired identities cannot be changed",
                identity.name
            ),
        });
    }
    Ok(())
}

impl InventoryService {
    pub(super) async fn suspend_identity(
        &self,
        principal: Option<&Principal>,
        id: Uuid,
        request: &LifecycleRequest,
    ) -> Result<IdentityDetail, DomainError> {
        authorize(principal, Action::SuspendIdentity)?;
        let reason = required_text("reason", &request.reason)?;
        let (summary, _) = self.existing(id).await?;
        may_suspend(principal, summary.owner.as_ref().map(|o| o.id))?;
        let principal = principal.ok_or(DomainError::Unauthenticated)?;
        let (statements, events) = suspension(
            &self.store,
            id,
            &principal.audit_actor(),
            &reason,
            json!({}),
            Utc::now(),
        )
        .await?;
        self.store
            .write(&statements, |_| events)
            .await
            .map_err(|e| write_error(e, ""))?;
        self.posture.after_change(&[id]).await;
        self.detail(id).await
    }

    pub(super) async fn reactivate_identity(
        &self,
        principal: Option<&Principal>,
        id: Uuid,
        request: &LifecycleRequest,
    ) -> Result<IdentityDetail, DomainError> {
        authorize(principal, Action::ManageIdentities)?;
        let principal = principal.ok_or(DomainError::Unauthenticated)?;
        let reason = required_text("reason", &request.reason)?;
        self.existing(id).await?;
        let statement = writes::reactivate_identity(id, &reason, Utc::now());
        let event = Self::event(
            principal,
            AuditAction::IdentityReactivate,
            id,
            json!({ "reason": reason }),
        );
        self.store
            .write(&[statement], |_| vec![event])
            .await
            .map_err(|e| write_error(e, ""))?;
        self.posture.after_change(&[id]).await;
        self.detail(id).await
    }

    pub(super) async fn set_identity_expiry(
        &self,
        principal: Option<&Principal>,
        id: Uuid,
        expires_at: DateTime<Utc>,
        reason: &str,
    ) -> Result<IdentityDetail, DomainError> {
        authorize(principal, Action::ManageIdentities)?;
        let principal = principal.ok_or(DomainError::Unauthenticated)?;
        let reason = required_text("reason", reason)?;
        let (before, _) = self.changeable(id).await?;
        let now = Utc::now();
        if expires_at <= now {
            return Err(DomainError::invalid(
                "expires_at",
                "the expiry must be in the future",
            ));
        }
        let max_days = self.policy.max_days(before.kind);
        if expires_at > now + chrono::Duration::days(i64::from(max_days)) {
            return Err(DomainError::invalid(
                "expires_at",
                format!(
                    "at most {max_days} days ahead for {} identities",
                    before.actor_class
                ),
            ));
        }
        let statement = writes::set_identity_expiry(id, expires_at, now);
        let event = Self::event(
            principal,
            AuditAction::IdentityExpiry,
            id,
            json!({ "reason": reason, "changes": { "expires_at": { "before": before.expires_at, "after": expires_at } } }),
        );
        self.store
            .write(&[statement], |_| vec![event])
            .await
            .map_err(|e| write_error(e, ""))?;
        self.posture.after_change(&[id]).await;
        self.detail(id).await
    }

    pub(super) async fn retire_identity(
        &self,
        principal: Option<&Principal>,
        id: Uuid,
        request: &RetireRequest,
    ) -> Result<RetirementReport, DomainError> {
        authorize(principal, Action::ManageIdentities)?;
        let principal = principal.ok_or(DomainError::Unauthenticated)?;
        let evidence = required_text("evidence", &request.evidence)?;
        self.changeable(id).await?;
        let now = Utc::now();
        // The offboarding checklist, in one transaction with the status change.
        // Its delegation edges go with it: the identities on their other ends are
        // re-evaluated too (their checks looked at this one).
        let neighbours = self.store.delegation_neighbours(&[id]).await?;
        let (revoke_grants, grant_events) = revoke_open_grants(
            &self.store,
            id,
            &principal.audit_actor(),
            AuditAction::IdentityRetire,
            &evidence,
            now,
        )
        .await?;
        // The checklist's statements, in the order the counts below are read.
        let mut statements = writes::retirement(id, &evidence, now);
        statements.push(revoke_grants);
        let actor_event = |counts: &[u64]| {
            std::iter::once(Self::event(
                principal,
                AuditAction::IdentityRetire,
                id,
                json!({ "evidence": evidence, "checklist": {
                    "credentials_revoked": counts[0] + counts[3],
                    "entitlements_removed": counts[1],
                    "delegations_removed": counts[2],
                    "grants_revoked": counts[7],
                } }),
            ))
            .chain(grant_events)
            .collect()
        };
        let counts = self
            .store
            .write(&statements, actor_event)
            .await
            .map_err(|e| write_error(e, ""))?;
        let touched: Vec<Uuid> = std::iter::once(id).chain(neighbours).collect();
        self.posture.after_change(&touched).await;
        Ok(RetirementReport {
            identity_id: id,
            credentials_revoked: counts[0] + counts[3],
            entitlements_removed: counts[1],
            delegations_removed: counts[2],
            evidence: request.evidence.trim().to_owned(),
        })
    }
}
