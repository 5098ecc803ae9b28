//! The inventory port over the store: listing, one identity in full, and every change
//! to the register — authorized, validated and audited here. Suspending, reactivating,
//! moving the expiry and retiring are in [`lifecycle`].

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use steward_domain::audit::{AuditAction, NewAuditEvent};
use steward_domain::auth::{authorize, Action, Principal};
use steward_domain::delegation::{DelegationKind, NewDelegation};
use steward_domain::identity::{
    CredentialInfo, Entitlement, IdentityDetail, IdentityDraft, LifecyclePolicy, LifecycleRequest,
    NewCredential, NewEntitlement, OwnershipState, RetireRequest, RetirementReport,
};
use steward_domain::inventory::{Facets, IdentityQuery, IdentitySummary, Page, Source};
use steward_domain::ports::Inventory;
use steward_domain::DomainError;
use uuid::Uuid;

use super::posture::PostureService;
use crate::services::write_error;
use crate::store::audit::AuditFilter;
use crate::store::inventory::{writes, NewIdentity};
use crate::store::ownership::IdentityExtra;
use crate::store::write::Statement;
use crate::store::Store;

/// Events on an identity page's timeline.
const TIMELINE_LENGTH: u32 = 100;

/// The audit target naming an identity.
pub fn identity_target(id: Uuid) -> String {
    format!("identity:{id}")
}

mod lifecycle;

pub use lifecycle::refuse_retired;
pub(crate) use lifecycle::suspension;

pub struct InventoryService {
    store: Store,
    policy: LifecyclePolicy,
    /// Re-evaluates the findings of what a change touched.
    posture: Arc<PostureService>,
}

impl InventoryService {
    pub fn new(store: Store, policy: LifecyclePolicy, posture: Arc<PostureService>) -> Self {
        InventoryService {
            store,
            policy,
            posture,
        }
    }

    /// The identity, or a 404 naming it.
    async fn existing(&self, id: Uuid) -> Result<(IdentitySummary, IdentityExtra), DomainError> {
        self.store
            .find_identity(id)
            .await?
            .ok_or_else(|| DomainError::not_found(format!("identity {id}")))
    }

    /// The identity, which must not be retired (retired identities are kept as they
    /// were, for the audit).
    async fn changeable(&self, id: Uuid) -> Result<(IdentitySummary, IdentityExtra), DomainError> {
        let found = self.existing(id).await?;
        refuse_retired(&found.0)?;
        Ok(found)
    }

    /// One credential of an identity (revoked ones included).
    async fn credential(
        &self,
        id: Uuid,
        credential_id: Uuid,
    ) -> Result<Option<CredentialInfo>, DomainError> {
        Ok(self
            .store
            .credentials_of(id)
            .await?
            .into_iter()
            .find(|c| c.id == credential_id))
    }

    /// One entitlement of an identity (removed ones included).
    async fn entitlement(
        &self,
        id: Uuid,
        entitlement_id: Uuid,
    ) -> Result<Option<Entitlement>, DomainError> {
        Ok(self
            .store
            .entitlements_of(id)
            .await?
            .into_iter()
            .find(|e| e.id == entitlement_id))
    }

    async fn detail(&self, id: Uuid) -> Result<IdentityDetail, DomainError> {
        let (summary, extra) = self.existing(id).await?;
        let credentials = self.store.credentials_of(id).await?;
        let entitlements = self.store.entitlements_of(id).await?;
        let delegation = self.store.delegation_graph(id).await?;
        let timeline = self
            .store
            .list_audit(&AuditFilter {
                target: Some(identity_target(id)),
                limit: TIMELINE_LENGTH,
                ..Default::default()
            })
            .await?;
        Ok(IdentityDetail {
            sponsor: extra.sponsor(),
            purpose: extra.purpose.clone(),
            autonomy: stored(id, &extra.autonomy)?,
            sensitivity_ceiling: stored(id, &extra.sensitivity_ceiling)?,
            revocation_path: extra.revocation_path.clone(),
            ownership_state: stored(id, &extra.ownership_state)?,
            status_reason: extra.status_reason.clone(),
            updated_at: extra.updated_at,
            summary,
            credentials,
            entitlements,
            delegation,
            timeline,
        })
    }

    fn event(
        principal: &Principal,
        action: AuditAction,
        id: Uuid,
        details: Value,
    ) -> NewAuditEvent {
        NewAuditEvent::new(
            principal.audit_actor(),
            action,
            identity_target(id),
            details,
        )
    }
}

/// A stored vocabulary value (`None` stays `None`); a value outside the vocabulary is
/// logged and reported as an internal error.
fn stored<T: std::str::FromStr<Err = DomainError>>(
    id: Uuid,
    value: &Option<String>,
) -> Result<Option<T>, DomainError> {
    value
        .as_deref()
        .map(str::parse)
        .transpose()
        .map_err(|e: DomainError| {
            tracing::error!(identity = %id, error = %e, "stored value is not in the vocabulary");
            DomainError::Internal
        })
}

/// The statement that records a team the first time it is used.
fn register_team(team: &Option<String>, now: DateTime<Utc>) -> Option<Statement> {
    team.as_deref().map(|team| writes::register_team(team, now))
}

/// The attributes of a draft as JSON, for audit events.
fn draft_json(d: &IdentityDraft) -> Value {
    json!({
        "name": d.name, "kind": d.kind, "external_id": d.external_id, "environment": d.environment,
        "team": d.team, "purpose": d.purpose, "autonomy": d.autonomy,
        "sensitivity_ceiling": d.sensitivity_ceiling, "spiffe_id": d.spiffe_id,
        "revocation_path": d.revocation_path, "expires_at": d.expires_at,
    })
}

/// The fields that differ between two JSON objects, as `{field: {before, after}}`.
fn changes(before: &Value, after: &Value) -> Value {
    let mut out = serde_json::Map::new();
    if let (Some(b), Some(a)) = (before.as_object(), after.as_object()) {
        for (key, new) in a {
            let old = b.get(key).unwrap_or(&Value::Null);
            if old != new {
                out.insert(key.clone(), json!({ "before": old, "after": new }));
            }
        }
    }
    Value::Object(out)
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

    async fn facets(
        &self,
        principal: Option<&Principal>,
        query: &IdentityQuery,
    ) -> Result<Facets, DomainError> {
        authorize(principal, Action::ReadInventory)?;
        Ok(self.store.identity_facets(query, Utc::now()).await?)
    }

    async fn quick_facets(
        &self,
        principal: Option<&Principal>,
        query: &IdentityQuery,
    ) -> Result<Option<Facets>, DomainError> {
        authorize(principal, Action::ReadInventory)?;
        if self.store.facets_are_costly(query).await? {
            return Ok(None);
        }
        Ok(Some(self.store.identity_facets(query, Utc::now()).await?))
    }

    async fn begin_export(
        &self,
        principal: Option<&Principal>,
        query: &IdentityQuery,
    ) -> Result<(), DomainError> {
        authorize(principal, Action::ReadInventory)?;
        let principal = principal.ok_or(DomainError::Unauthenticated)?;
        self.store
            .append_audit(&NewAuditEvent::new(
                principal.audit_actor(),
                AuditAction::InventoryExport,
                "inventory",
                json!({ "filter": query.filter_only().to_query_string() }),
            ))
            .await?;
        Ok(())
    }

    async fn get_identity(
        &self,
        principal: Option<&Principal>,
        id: Uuid,
    ) -> Result<IdentityDetail, DomainError> {
        authorize(principal, Action::ReadInventory)?;
        self.detail(id).await
    }

    async fn create_identity(
        &self,
        principal: Option<&Principal>,
        draft: &IdentityDraft,
    ) -> Result<IdentityDetail, DomainError> {
        authorize(principal, Action::ManageIdentities)?;
        let principal = principal.ok_or(DomainError::Unauthenticated)?;
        let now = Utc::now();
        let d = draft.validated(&self.policy, now)?;
        let id = Uuid::now_v7();
        let mut statements: Vec<Statement> = register_team(&d.team, now).into_iter().collect();
        statements.push(writes::insert_identity(&NewIdentity {
            id,
            source: Source::Manual,
            external_id: d.external_id.clone(),
            team: d.team.clone(),
            purpose: d.purpose.clone(),
            autonomy: d.autonomy,
            sensitivity_ceiling: d.sensitivity_ceiling,
            spiffe_id: d.spiffe_id.clone(),
            revocation_path: d.revocation_path.clone(),
            expires_at: d.expires_at,
            updated_at: Some(now),
            ..NewIdentity::new(&d.name, d.kind, &d.environment, now)
        }));
        let event = Self::event(
            principal,
            AuditAction::IdentityCreate,
            id,
            json!({ "after": draft_json(&d) }),
        );
        self.store
            .write(&statements, |_| vec![event])
            .await
            .map_err(|e| {
                write_error(
                    e,
                    "an identity with this external id already exists (manual source)",
                )
            })?;
        self.posture.after_change(&[id]).await;
        self.detail(id).await
    }

    async fn update_identity(
        &self,
        principal: Option<&Principal>,
        id: Uuid,
        draft: &IdentityDraft,
    ) -> Result<IdentityDetail, DomainError> {
        authorize(principal, Action::ManageIdentities)?;
        let principal = principal.ok_or(DomainError::Unauthenticated)?;
        let (before, extra) = self.changeable(id).await?;
        if draft.kind.actor_class() != before.actor_class
            && !self.store.delegation_graph(id).await?.edges.is_empty()
        {
            return Err(DomainError::invalid(
                "kind",
                "an identity with delegations cannot change between machine and AI; remove its delegations first",
            ));
        }
        let now = Utc::now();
        let d = draft.validated(&self.policy, now)?;
        let old = IdentityDraft {
            name: before.name,
            kind: before.kind,
            external_id: before.external_id,
            environment: before.environment,
            team: before.team,
            purpose: extra.purpose,
            autonomy: stored(id, &extra.autonomy)?,
            sensitivity_ceiling: stored(id, &extra.sensitivity_ceiling)?,
            spiffe_id: before.spiffe_id,
            revocation_path: extra.revocation_path,
            expires_at: before.expires_at,
        };
        let diff = changes(&draft_json(&old), &draft_json(&d));
        if diff.as_object().is_some_and(|m| m.is_empty()) {
            return self.detail(id).await;
        }
        let mut statements: Vec<Statement> = register_team(&d.team, now).into_iter().collect();
        statements.push(writes::update_identity(id, &d, now));
        let event = Self::event(
            principal,
            AuditAction::IdentityUpdate,
            id,
            json!({ "changes": diff }),
        );
        self.store
            .write(&statements, |_| vec![event])
            .await
            .map_err(|e| {
                write_error(
                    e,
                    "another identity of this source already has this external id",
                )
            })?;
        self.posture.after_change(&[id]).await;
        self.detail(id).await
    }

    async fn add_credential(
        &self,
        principal: Option<&Principal>,
        id: Uuid,
        credential: &NewCredential,
    ) -> Result<CredentialInfo, DomainError> {
        authorize(principal, Action::ManageIdentities)?;
        let principal = principal.ok_or(DomainError::Unauthenticated)?;
        let c = credential.validated()?;
        self.changeable(id).await?;
        let now = Utc::now();
        let credential_id = Uuid::now_v7();
        let statement = writes::insert_credential(credential_id, id, &c, now);
        let event = Self::event(
            principal,
            AuditAction::CredentialAdd,
            id,
            json!({ "credential_id": credential_id, "kind": c.kind, "key_id": c.key_id,
                    "expires_at": c.expires_at, "rotation_days": c.rotation_days }),
        );
        self.store
            .write(&[statement], |_| vec![event])
            .await
            .map_err(|e| {
                write_error(e, "this identity already has a credential with this key id")
            })?;
        self.posture.after_change(&[id]).await;
        self.credential(id, credential_id)
            .await?
            .ok_or(DomainError::Internal)
    }

    async fn revoke_credential(
        &self,
        principal: Option<&Principal>,
        id: Uuid,
        credential_id: Uuid,
    ) -> Result<CredentialInfo, DomainError> {
        authorize(principal, Action::ManageIdentities)?;
        let principal = principal.ok_or(DomainError::Unauthenticated)?;
        self.existing(id).await?;
        let credential = self.credential(id, credential_id).await?.ok_or_else(|| {
            DomainError::not_found(format!("credential {credential_id} of identity {id}"))
        })?;
        let statement = writes::revoke_credential(credential_id, id, Utc::now());
        let event = Self::event(
            principal,
            AuditAction::CredentialRevoke,
            id,
            json!({ "credential_id": credential_id, "key_id": credential.key_id }),
        );
        self.store
            .write(&[statement], |_| vec![event])
            .await
            .map_err(|e| write_error(e, ""))?;
        self.posture.after_change(&[id]).await;
        self.credential(id, credential_id)
            .await?
            .ok_or(DomainError::Internal)
    }

    async fn add_entitlement(
        &self,
        principal: Option<&Principal>,
        id: Uuid,
        entitlement: &NewEntitlement,
    ) -> Result<Entitlement, DomainError> {
        authorize(principal, Action::ManageIdentities)?;
        let principal = principal.ok_or(DomainError::Unauthenticated)?;
        let e = entitlement.validated()?;
        self.changeable(id).await?;
        let held = self.store.entitlements_of(id).await?;
        if held.iter().any(|h| {
            h.removed_at.is_none()
                && h.resource == e.resource
                && h.action == e.action
                && h.grant_type == e.grant_type
        }) {
            return Err(DomainError::Conflict {
                message: format!(
                    "the identity already holds {}:{} ({})",
                    e.resource, e.action, e.grant_type
                ),
            });
        }
        let entitlement_id = Uuid::now_v7();
        let statement = writes::insert_entitlement(entitlement_id, id, &e, Utc::now());
        let event = Self::event(
            principal,
            AuditAction::EntitlementAdd,
            id,
            json!({ "entitlement_id": entitlement_id, "resource": e.resource, "action": e.action,
                    "privilege": e.privilege, "grant_type": e.grant_type }),
        );
        self.store
            .write(&[statement], |_| vec![event])
            .await
            .map_err(|e| write_error(e, ""))?;
        self.posture.after_change(&[id]).await;
        self.entitlement(id, entitlement_id)
            .await?
            .ok_or(DomainError::Internal)
    }

    async fn remove_entitlement(
        &self,
        principal: Option<&Principal>,
        id: Uuid,
        entitlement_id: Uuid,
    ) -> Result<Entitlement, DomainError> {
        authorize(principal, Action::ManageIdentities)?;
        let principal = principal.ok_or(DomainError::Unauthenticated)?;
        self.existing(id).await?;
        let entitlement = self.entitlement(id, entitlement_id).await?.ok_or_else(|| {
            DomainError::not_found(format!("entitlement {entitlement_id} of identity {id}"))
        })?;
        let statement = writes::remove_entitlement(entitlement_id, id, Utc::now());
        let event = Self::event(
            principal,
            AuditAction::EntitlementRemove,
            id,
            json!({ "entitlement_id": entitlement_id, "permission": entitlement.permission() }),
        );
        self.store
            .write(&[statement], |_| vec![event])
            .await
            .map_err(|e| write_error(e, ""))?;
        self.posture.after_change(&[id]).await;
        self.entitlement(id, entitlement_id)
            .await?
            .ok_or(DomainError::Internal)
    }

    async fn add_delegation(
        &self,
        principal: Option<&Principal>,
        id: Uuid,
        delegation: &NewDelegation,
    ) -> Result<(), DomainError> {
        authorize(principal, Action::ManageIdentities)?;
        let principal = principal.ok_or(DomainError::Unauthenticated)?;
        let (from, _) = self.changeable(id).await?;
        let (to, _) = self.changeable(delegation.to).await.map_err(|e| match e {
            DomainError::NotFound { .. } => {
                DomainError::invalid("to", format!("no identity {}", delegation.to))
            }
            other => other,
        })?;
        delegation.check_kinds(from.kind, to.kind)?;
        if id == delegation.to {
            return Err(DomainError::invalid(
                "to",
                "an identity cannot delegate to itself",
            ));
        }
        // Inserted only if `to` cannot already reach `from` (see the constructor).
        let statement = writes::insert_delegation(id, delegation.to, delegation.kind, Utc::now());
        let verb = match delegation.kind {
            DelegationKind::ActsAs => "acts as",
            DelegationKind::SubAgent => "delegates to sub-agent",
        };
        let details = json!({ "from": id, "to": delegation.to, "kind": delegation.kind,
                              "summary": format!("{} {verb} {}", from.name, to.name) });
        let events = vec![
            Self::event(principal, AuditAction::DelegationAdd, id, details.clone()),
            Self::event(
                principal,
                AuditAction::DelegationAdd,
                delegation.to,
                details,
            ),
        ];
        self.store
            .write(&[statement], |_| events)
            .await
            .map_err(|e| write_error(e, "this delegation already exists"))?;
        self.posture.after_change(&[id, delegation.to]).await;
        Ok(())
    }

    async fn remove_delegation(
        &self,
        principal: Option<&Principal>,
        from: Uuid,
        to: Uuid,
    ) -> Result<(), DomainError> {
        authorize(principal, Action::ManageIdentities)?;
        let principal = principal.ok_or(DomainError::Unauthenticated)?;
        let statement = writes::delete_delegation(from, to);
        let details = json!({ "from": from, "to": to });
        let events = vec![
            Self::event(
                principal,
                AuditAction::DelegationRemove,
                from,
                details.clone(),
            ),
            Self::event(principal, AuditAction::DelegationRemove, to, details),
        ];
        self.store
            .write(&[statement], |_| events)
            .await
            .map_err(|e| match write_error(e, "") {
                DomainError::Conflict { .. } => {
                    DomainError::not_found(format!("delegation {from} → {to}"))
                }
                other => other,
            })?;
        self.posture.after_change(&[from, to]).await;
        Ok(())
    }

    async fn suspend(
        &self,
        principal: Option<&Principal>,
        id: Uuid,
        request: &LifecycleRequest,
    ) -> Result<IdentityDetail, DomainError> {
        self.suspend_identity(principal, id, request).await
    }

    async fn reactivate(
        &self,
        principal: Option<&Principal>,
        id: Uuid,
        request: &LifecycleRequest,
    ) -> Result<IdentityDetail, DomainError> {
        self.reactivate_identity(principal, id, request).await
    }

    async fn set_expiry(
        &self,
        principal: Option<&Principal>,
        id: Uuid,
        expires_at: DateTime<Utc>,
        reason: &str,
    ) -> Result<IdentityDetail, DomainError> {
        self.set_identity_expiry(principal, id, expires_at, reason)
            .await
    }

    async fn retire(
        &self,
        principal: Option<&Principal>,
        id: Uuid,
        request: &RetireRequest,
    ) -> Result<RetirementReport, DomainError> {
        self.retire_identity(principal, id, request).await
    }
}

/// `pending` → the owner has not answered yet.
pub fn ownership_state_after_answer(accept: bool) -> OwnershipState {
    if accept {
        OwnershipState::Accepted
    } else {
        OwnershipState::Disputed
    }
}
