//! Just-in-time grants: eligibility policies (admins), requesting a just-in-time
//! entitlement of an identity, approving or denying (the clock starts at approval),
//! cancelling, extending within the policy's maximum, revoking, and the expiry worker.
//! Every change is authorized and audited here; requesters and approvers are told in
//! the app and by webhook.
//!
//! The port's methods are written in the module of their sub-capability
//! ([`policies`], [`requests`], [`credentials`], [`expiry`]) as inherent methods of the
//! same name, which the `Grants` implementation below calls (inherent methods take
//! precedence over the trait's).

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::json;
use steward_domain::audit::{AuditAction, NewAuditEvent};
use steward_domain::auth::{Principal, Role};
use steward_domain::grants::{
    Actor, EligibleEntitlement, EndRequest, ExtendRequest, Grant, GrantList, GrantRequest,
    GrantView, Introspection, IssuedCredential, Policy, PolicyDraft,
};
use steward_domain::inventory::IdentitySummary;
use steward_domain::ports::Grants;
use steward_domain::DomainError;
use uuid::Uuid;

use super::notify::Webhooks;
use crate::adapters::keys::SigningKeys;
use crate::store::grants::writes::revoke_open_grants_of;
use crate::store::ownership::IdentityExtra;
use crate::store::write::Statement;
use crate::store::Store;

mod credentials;
mod expiry;
mod policies;
mod requests;

/// Grants expired per transaction of the worker.
pub const EXPIRY_BATCH: i64 = 5000;

fn grant_target(id: Uuid) -> String {
    format!("grant:{id}")
}

fn policy_target(id: Uuid) -> String {
    format!("grant-policy:{id}")
}

/// What ending an identity's open grants takes, for a suspension or retirement to write
/// in its own transaction: the statement that revokes every pending and active grant
/// of `identity`, and a `grant.revoke` event for each (naming `cause`, e.g.
/// `identity.suspend`). Introspection and every credential check read the grant, so
/// the kill switch reaches the identity's credentials on every replica at once.
pub(crate) async fn revoke_open_grants(
    store: &Store,
    identity: Uuid,
    actor: &str,
    cause: AuditAction,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<(Statement, Vec<NewAuditEvent>), DomainError> {
    let open = store.open_grants_of(identity).await?;
    let statement = revoke_open_grants_of(identity, actor, &format!("{cause}: {reason}"), now);
    let events = open
        .iter()
        .map(|(grant, state)| {
            NewAuditEvent::new(
                actor,
                AuditAction::GrantRevoke,
                grant_target(*grant),
                json!({ "reason": reason, "cause": cause, "identity_id": identity,
                        "before": { "state": state }, "after": { "state": "revoked" } }),
            )
        })
        .collect();
    Ok((statement, events))
}

pub struct GrantService {
    store: Store,
    webhooks: Webhooks,
    keys: Arc<SigningKeys>,
    /// The `iss` of the credentials: Steward's public URL.
    issuer: String,
}

impl GrantService {
    pub fn new(store: Store, webhooks: Webhooks, keys: Arc<SigningKeys>, issuer: String) -> Self {
        GrantService {
            store,
            webhooks,
            keys,
            issuer,
        }
    }

    async fn identity(&self, id: Uuid) -> Result<(IdentitySummary, IdentityExtra), DomainError> {
        self.store
            .find_identity(id)
            .await?
            .ok_or_else(|| DomainError::not_found(format!("identity {id}")))
    }

    async fn grant(&self, id: Uuid) -> Result<Grant, DomainError> {
        self.store
            .find_grant(id)
            .await?
            .ok_or_else(|| DomainError::not_found(format!("grant {id}")))
    }

    /// A grant and its identity, for someone who may act on an existing grant: its
    /// requester, the identity's owner or sponsor, or the security team. `what` names
    /// the act in the refusal.
    async fn managed(
        &self,
        principal: &Principal,
        id: Uuid,
        what: &str,
    ) -> Result<(Grant, IdentitySummary, Actor), DomainError> {
        let grant = self.grant(id).await?;
        let (identity, extra) = self.identity(grant.identity_id).await?;
        let actor = self.actor(principal, &identity, &extra, false).await?;
        if grant.requester_person_id != Some(principal.person_id) && !actor.owns && !actor.security
        {
            return Err(DomainError::Forbidden {
                reason: format!("the requester, the identity's owner or the security team {what}"),
            });
        }
        Ok((grant, identity, actor))
    }

    /// What the rules know about `principal` with respect to an identity. Whether they
    /// are in its team costs a read, so it is looked up only when `team_matters` (a
    /// policy open to the team); otherwise `in_team` is false.
    async fn actor(
        &self,
        principal: &Principal,
        identity: &IdentitySummary,
        extra: &IdentityExtra,
        team_matters: bool,
    ) -> Result<Actor, DomainError> {
        let me = principal.person_id;
        let owns = identity.owner.as_ref().is_some_and(|o| o.id == me)
            || extra.sponsor().is_some_and(|s| s.id == me);
        let in_team = match identity.team.as_ref().filter(|_| team_matters) {
            Some(team) => self
                .store
                .find_person(me)
                .await?
                .is_some_and(|p| p.team.as_deref() == Some(team.as_str())),
            None => false,
        };
        Ok(Actor {
            person_id: me,
            owns,
            in_team,
            security: principal.role == Role::Admin,
        })
    }
}

#[async_trait]
impl Grants for GrantService {
    async fn policies(&self, principal: Option<&Principal>) -> Result<Vec<Policy>, DomainError> {
        self.policies(principal).await
    }

    async fn create_policy(
        &self,
        principal: Option<&Principal>,
        draft: &PolicyDraft,
    ) -> Result<Policy, DomainError> {
        self.create_policy(principal, draft).await
    }

    async fn update_policy(
        &self,
        principal: Option<&Principal>,
        id: Uuid,
        draft: &PolicyDraft,
    ) -> Result<Policy, DomainError> {
        self.update_policy(principal, id, draft).await
    }

    async fn delete_policy(
        &self,
        principal: Option<&Principal>,
        id: Uuid,
    ) -> Result<(), DomainError> {
        self.delete_policy(principal, id).await
    }

    async fn eligible(
        &self,
        principal: Option<&Principal>,
        identity_id: Uuid,
    ) -> Result<Vec<EligibleEntitlement>, DomainError> {
        self.eligible(principal, identity_id).await
    }

    async fn request(
        &self,
        principal: Option<&Principal>,
        request: &GrantRequest,
    ) -> Result<Grant, DomainError> {
        self.request(principal, request).await
    }

    async fn approve(&self, principal: Option<&Principal>, id: Uuid) -> Result<Grant, DomainError> {
        self.approve(principal, id).await
    }

    async fn deny(
        &self,
        principal: Option<&Principal>,
        id: Uuid,
        request: &EndRequest,
    ) -> Result<Grant, DomainError> {
        self.deny(principal, id, request).await
    }

    async fn cancel(&self, principal: Option<&Principal>, id: Uuid) -> Result<Grant, DomainError> {
        self.cancel(principal, id).await
    }

    async fn extend(
        &self,
        principal: Option<&Principal>,
        id: Uuid,
        request: &ExtendRequest,
    ) -> Result<Grant, DomainError> {
        self.extend(principal, id, request).await
    }

    async fn revoke(
        &self,
        principal: Option<&Principal>,
        id: Uuid,
        request: &EndRequest,
    ) -> Result<Grant, DomainError> {
        self.revoke(principal, id, request).await
    }

    async fn view(
        &self,
        principal: Option<&Principal>,
        id: Uuid,
    ) -> Result<GrantView, DomainError> {
        self.view(principal, id).await
    }

    async fn list(
        &self,
        principal: Option<&Principal>,
        list: GrantList,
    ) -> Result<Vec<Grant>, DomainError> {
        self.list(principal, list).await
    }

    async fn credential(
        &self,
        principal: Option<&Principal>,
        id: Uuid,
    ) -> Result<IssuedCredential, DomainError> {
        self.credential(principal, id).await
    }

    async fn introspect(
        &self,
        principal: Option<&Principal>,
        token: &str,
    ) -> Result<Introspection, DomainError> {
        self.introspect(principal, token).await
    }

    async fn revoke_credential(
        &self,
        principal: Option<&Principal>,
        token: &str,
    ) -> Result<(), DomainError> {
        self.revoke_credential(principal, token).await
    }

    fn jwks(&self) -> serde_json::Value {
        self.jwks()
    }
}
