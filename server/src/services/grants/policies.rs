//! Eligibility policies: listing them (each marked with the policy shadowing it),
//! creating, replacing and deleting them (admins), and which just-in-time entitlements
//! of an identity a person may request under them.

use chrono::Utc;
use serde_json::json;
use steward_domain::audit::{AuditAction, NewAuditEvent};
use steward_domain::auth::{authorize, Action, Principal};
use steward_domain::grants::{may_request, precedence, EligibleEntitlement, Policy, PolicyDraft};
use steward_domain::identity::GrantType;
use steward_domain::inventory::IdentityStatus;
use steward_domain::DomainError;
use uuid::Uuid;

use crate::services::write_error;
use crate::store::grants::writes::{deactivate_policy, insert_policy, update_policy};
use crate::store::grants::GrantFilter;

use super::{policy_target, GrantService};

impl GrantService {
    /// The active policies, each marked with the policy shadowing it, if any.
    async fn marked_policies(&self) -> Result<Vec<Policy>, DomainError> {
        let policies = self.store.list_policies().await?;
        Ok(policies
            .iter()
            .map(|policy| Policy {
                shadowed_by: precedence::shadowing(policy, &policies).map(|p| p.draft.name.clone()),
                ..policy.clone()
            })
            .collect())
    }

    /// A policy as just saved, marked with the policy shadowing it, if any.
    async fn saved_policy(&self, id: Uuid) -> Result<Policy, DomainError> {
        self.marked_policies()
            .await?
            .into_iter()
            .find(|p| p.id == id)
            .ok_or(DomainError::Internal)
    }

    pub(super) async fn policies(
        &self,
        principal: Option<&Principal>,
    ) -> Result<Vec<Policy>, DomainError> {
        authorize(principal, Action::ReadGrants)?;
        self.marked_policies().await
    }

    pub(super) async fn create_policy(
        &self,
        principal: Option<&Principal>,
        draft: &PolicyDraft,
    ) -> Result<Policy, DomainError> {
        authorize(principal, Action::ManageGrantPolicies)?;
        let principal = principal.ok_or(DomainError::Unauthenticated)?;
        let (draft, _) = draft.validated()?;
        let id = Uuid::now_v7();
        let now = Utc::now();
        let statement = insert_policy(id, &draft, &principal.audit_actor(), now)?;
        let event = NewAuditEvent::new(
            principal.audit_actor(),
            AuditAction::GrantPolicyCreate,
            policy_target(id),
            json!({ "policy": draft }),
        );
        self.store
            .write(&[statement], |_| vec![event])
            .await
            .map_err(|e| write_error(e, ""))?;
        self.saved_policy(id).await
    }

    pub(super) async fn update_policy(
        &self,
        principal: Option<&Principal>,
        id: Uuid,
        draft: &PolicyDraft,
    ) -> Result<Policy, DomainError> {
        authorize(principal, Action::ManageGrantPolicies)?;
        let principal = principal.ok_or(DomainError::Unauthenticated)?;
        let (before, active) = self
            .store
            .find_policy(id)
            .await?
            .ok_or_else(|| DomainError::not_found(format!("grant policy {id}")))?;
        if !active {
            return Err(DomainError::Conflict {
                message: "this policy was deleted; create a new one".into(),
            });
        }
        let (draft, _) = draft.validated()?;
        let statement = update_policy(id, &draft, Utc::now())?;
        let event = NewAuditEvent::new(
            principal.audit_actor(),
            AuditAction::GrantPolicyUpdate,
            policy_target(id),
            json!({ "before": before.draft, "after": draft }),
        );
        self.store
            .write(&[statement], |_| vec![event])
            .await
            .map_err(|e| write_error(e, ""))?;
        self.saved_policy(id).await
    }

    pub(super) async fn delete_policy(
        &self,
        principal: Option<&Principal>,
        id: Uuid,
    ) -> Result<(), DomainError> {
        authorize(principal, Action::ManageGrantPolicies)?;
        let principal = principal.ok_or(DomainError::Unauthenticated)?;
        let (policy, _) = self
            .store
            .find_policy(id)
            .await?
            .ok_or_else(|| DomainError::not_found(format!("grant policy {id}")))?;
        // Kept for the grants made under it; no new requests.
        let statement = deactivate_policy(id, Utc::now());
        let event = NewAuditEvent::new(
            principal.audit_actor(),
            AuditAction::GrantPolicyDelete,
            policy_target(id),
            json!({ "name": policy.draft.name }),
        );
        self.store
            .write(&[statement], |_| vec![event])
            .await
            .map_err(|e| write_error(e, ""))?;
        Ok(())
    }

    pub(super) async fn eligible(
        &self,
        principal: Option<&Principal>,
        identity_id: Uuid,
    ) -> Result<Vec<EligibleEntitlement>, DomainError> {
        authorize(principal, Action::ReadGrants)?;
        let principal = principal.ok_or(DomainError::Unauthenticated)?;
        let (identity, extra) = self.identity(identity_id).await?;
        let actor = self.actor(principal, &identity, &extra, true).await?;
        let policies = self.store.list_policies().await?;
        let open = self
            .store
            .list_grants(&GrantFilter {
                identity: Some(identity_id),
                limit: 1000,
                ..GrantFilter::default()
            })
            .await?;
        let now = Utc::now();
        let mut out = Vec::new();
        for entitlement in self.store.entitlements_of(identity_id).await? {
            if entitlement.grant_type != GrantType::JustInTime || entitlement.removed_at.is_some() {
                continue;
            }
            let Some(policy) = precedence::governing(
                &policies,
                &identity,
                &entitlement.resource,
                &entitlement.action,
                now,
            ) else {
                continue;
            };
            let current = open
                .iter()
                .find(|g| g.entitlement_id == entitlement.id && !g.state.is_final())
                .cloned();
            out.push(EligibleEntitlement {
                may_request: may_request(policy.draft.requesters, &actor).is_ok()
                    && identity.status == IdentityStatus::Active,
                open_now: policy.draft.allows_at(now),
                entitlement,
                policy: policy.clone(),
                current,
            });
        }
        Ok(out)
    }
}
