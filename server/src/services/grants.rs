//! Just-in-time grants: eligibility policies (admins), requesting a just-in-time
//! entitlement of an identity, approving or denying (the clock starts at approval),
//! cancelling, extending within the policy's maximum, revoking, and the expiry worker.
//! Every change is authorized and audited here; requesters and approvers are told in
//! the app and by webhook.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Duration, SubsecRound, Utc};
use serde_json::json;
use steward_domain::audit::NewAuditEvent;
use steward_domain::auth::{authorize, Action, Principal, Role};
use steward_domain::grants::{
    approval_capacity, approvals_needed, check_request, extended_expiry, may_extend, may_request,
    precedence, Actor, Approval, EligibleEntitlement, EndRequest, ExtendRequest, Grant, GrantList,
    GrantRequest, GrantState, GrantView, Introspection, IssuedCredential, Policy, PolicyDraft,
    Requesters, CREDENTIAL_MINUTES,
};
use steward_domain::identity::GrantType;
use steward_domain::inventory::{IdentityStatus, IdentitySummary};
use steward_domain::ports::Grants;
use steward_domain::DomainError;
use uuid::Uuid;

use super::inventory::write_error;
use super::keys::{GrantClaims, SigningKeys, AUDIENCE};
use super::notify::{Announcement, Webhooks};
use crate::store::notify::writes::notification;
use crate::store::grants::{approvals_json, insert_policy, update_policy, GrantFilter};
use crate::store::register::IdentityExtra;
use crate::store::write::Statement;
use crate::store::Store;

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
    cause: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<(Statement, Vec<NewAuditEvent>), DomainError> {
    let open = store.open_grants_of(identity).await?;
    let statement = Statement::new(
        "UPDATE grants SET state = 'revoked', ended_by = $2, end_reason = $3, ended_at = $4 \
         WHERE identity_id = $1 AND state IN ('active', 'pending')",
    )
    .bind(identity)
    .bind(actor.to_owned())
    .bind(format!("{cause}: {reason}"))
    .bind(now);
    let events = open
        .iter()
        .map(|(grant, state)| {
            NewAuditEvent::new(
                actor,
                "grant.revoke",
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

    /// The credential's claims and grant if its signature, issuer, audience and times
    /// check out, its grant is active now and it was not revoked.
    pub async fn active_credential(
        &self,
        token: &str,
    ) -> Result<Option<(GrantClaims, Grant)>, DomainError> {
        let now = Utc::now();
        let Some(claims) = self.keys.verify(token, &self.issuer, now) else {
            return Ok(None);
        };
        let (Ok(jti), Ok(grant_id)) = (claims.jti.parse::<Uuid>(), claims.grant.parse::<Uuid>())
        else {
            return Ok(None);
        };
        let Some(grant) = self.store.find_grant(grant_id).await? else {
            return Ok(None);
        };
        if !grant.is_usable(now) || self.store.credential_revoked(jti).await? != Some(false) {
            return Ok(None);
        }
        Ok(Some((claims, grant)))
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
    /// Signs a credential for an active grant and records its id (never the token),
    /// audited as `action` by `actor`.
    async fn issue(
        &self,
        grant: &Grant,
        identity: &IdentitySummary,
        actor: &str,
        action: &str,
    ) -> Result<IssuedCredential, DomainError> {
        let now = Utc::now();
        if identity.status != IdentityStatus::Active {
            return Err(DomainError::Conflict {
                message: format!(
                    "{} is {}; a credential is issued only for an active identity",
                    identity.name, identity.status
                ),
            });
        }
        let Some(grant_expires) = grant.expires_at.filter(|_| grant.is_usable(now)) else {
            return Err(DomainError::Conflict {
                message: format!(
                    "the grant is {}; only an active grant yields a credential",
                    grant.state
                ),
            });
        };
        let expires = grant_expires.min(now + Duration::minutes(CREDENTIAL_MINUTES));
        let jti = Uuid::now_v7();
        let claims = GrantClaims {
            iss: self.issuer.clone(),
            sub: identity
                .spiffe_id
                .clone()
                .unwrap_or_else(|| format!("steward:identity:{}", identity.id)),
            aud: AUDIENCE.to_owned(),
            scope: grant.scope(),
            exp: expires.timestamp(),
            iat: now.timestamp(),
            nbf: now.timestamp(),
            jti: jti.to_string(),
            grant: grant.id.to_string(),
        };
        let token = self.keys.sign(&claims).map_err(|error| {
            tracing::error!(%error, "signing a credential failed");
            DomainError::Internal
        })?;
        let record = Statement::new(
            "INSERT INTO grant_credentials (jti, grant_id, issued_by, issued_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(jti)
        .bind(grant.id)
        .bind(actor)
        .bind(now)
        .bind(expires);
        // The credential's id and expiry are recorded; the token itself is not stored.
        let event = NewAuditEvent::new(
            actor,
            action,
            grant_target(grant.id),
            json!({ "jti": jti, "sub": claims.sub, "expires_at": expires, "kid": self.keys.current().kid }),
        );
        self.store
            .write_grouped(vec![record], vec![event])
            .await
            .map_err(|e| write_error(e, ""))?;
        Ok(IssuedCredential {
            access_token: token,
            token_type: "Bearer".into(),
            expires_in: (expires - now).num_seconds(),
            expires_at: expires,
            scope: grant.scope(),
            jti,
        })
    }

    /// Whether a JWT names this Steward as its issuer (not yet verified): a
    /// just-in-time credential, as opposed to a workload's federated token.
    pub fn issued_here(&self, token: &str) -> bool {
        use base64::Engine;
        token
            .split('.')
            .nth(1)
            .and_then(|claims| {
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(claims.trim_end_matches('='))
                    .ok()
            })
            .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
            .is_some_and(|claims| claims["iss"] == self.issuer.as_str())
    }

    /// RFC 8693 token exchange: a credential for `identity`'s active grant (`wanted`,
    /// or its only one), for a workload that proved itself with a federated token.
    pub async fn exchange_credential(
        &self,
        identity_id: Uuid,
        wanted: Option<Uuid>,
        actor: &str,
    ) -> Result<IssuedCredential, DomainError> {
        let (identity, _) = self.identity(identity_id).await?;
        if identity.status != IdentityStatus::Active {
            // OAuth's invalid_grant: the workload proved an identity that may not act.
            return Err(DomainError::CredentialRefused {
                reason: format!("{} is {}", identity.name, identity.status),
            });
        }
        let now = Utc::now();
        let active: Vec<Grant> = self
            .store
            .list_grants(&GrantFilter {
                identity: Some(identity_id),
                state: Some(GrantState::Active),
                limit: 100,
                ..GrantFilter::default()
            })
            .await?
            .into_iter()
            .filter(|g| g.is_usable(now))
            .collect();
        let grant =
            match wanted {
                Some(id) => active.into_iter().find(|g| g.id == id).ok_or_else(|| {
                    DomainError::Conflict {
                        message: format!("grant {id} is not an active grant of {}", identity.name),
                    }
                })?,
                None => match <[Grant; 1]>::try_from(active) {
                    Ok([only]) => only,
                    Err(active) if active.is_empty() => {
                        return Err(DomainError::Conflict {
                            message: format!(
                            "{} has no active grant to exchange the token for; request one first",
                            identity.name
                        ),
                        })
                    }
                    Err(active) => {
                        return Err(DomainError::Conflict {
                            message: format!(
                            "{} has {} active grants; name one as resource=urn:steward:grant:<id>",
                            identity.name,
                            active.len()
                        ),
                        })
                    }
                },
            };
        self.issue(&grant, &identity, actor, "grant.credential_exchange")
            .await
    }

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

    /// People to tell about a pending grant: the owner and sponsor when they approve,
    /// every admin when the security team does.
    async fn approvers(
        &self,
        grant: &Grant,
        identity: &IdentitySummary,
        extra: &IdentityExtra,
    ) -> Result<Vec<Uuid>, DomainError> {
        use steward_domain::grants::ApprovalMode::*;
        let mut people = Vec::new();
        if matches!(grant.approval_mode, Owner | TwoApprovers) {
            people.extend(identity.owner.as_ref().map(|o| o.id));
            people.extend(extra.sponsor().map(|s| s.id));
        }
        if matches!(grant.approval_mode, SecurityTeam | TwoApprovers) {
            people.extend(self.store.security_team().await?);
        }
        people.retain(|p| Some(*p) != grant.requester_person_id);
        people.sort();
        people.dedup();
        Ok(people)
    }

    /// Statements that tell `people` (in the app) and the webhooks about a grant.
    fn tell(
        &self,
        people: &[Uuid],
        grant: &Grant,
        event: &'static str,
        message: &str,
        now: DateTime<Utc>,
    ) -> Vec<Statement> {
        let mut statements: Vec<Statement> = people
            .iter()
            .map(|p| notification(*p, Some(grant.identity_id), message, now))
            .collect();
        statements.extend(self.webhooks.outbox(
            &Announcement {
                event,
                text: message.to_owned(),
                data: json!({ "grant_id": grant.id, "identity_id": grant.identity_id,
                              "identity": grant.identity_name, "scope": grant.scope(),
                              "state": grant.state, "expires_at": grant.expires_at,
                              "url": self.webhooks.config().link(&format!("/grants/{}", grant.id)) }),
            },
            now,
        ));
        statements
    }

    /// Expires every grant whose time ran out by `now`, in batches; returns how many.
    pub async fn expire_due(&self, now: DateTime<Utc>) -> Result<u64, DomainError> {
        let mut expired = 0;
        loop {
            let batch = self.store.expire_grants(now, EXPIRY_BATCH).await?;
            expired += batch.len() as u64;
            if (batch.len() as i64) < EXPIRY_BATCH {
                break;
            }
        }
        Ok(expired)
    }

    /// Runs the expiry worker every `interval`, for as long as the server runs.
    pub fn spawn_expiry(
        self: &Arc<Self>,
        interval: std::time::Duration,
    ) -> tokio::task::JoinHandle<()> {
        let service = self.clone();
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(interval);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                match service.expire_due(Utc::now()).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(expired = n, "grants expired"),
                    Err(error) => tracing::error!(%error, "grant expiry failed"),
                }
            }
        })
    }

    /// Writes a grant change and its audit event, telling `people`.
    async fn change(
        &self,
        statement: Statement,
        event: NewAuditEvent,
        notices: Vec<Statement>,
    ) -> Result<(), DomainError> {
        let mut statements = vec![statement];
        statements.extend(notices);
        self.store
            .write_grouped(statements, vec![event])
            .await
            .map_err(|e| write_error(e, "this entitlement already has an open grant"))?;
        self.webhooks.deliver_soon(&self.store);
        Ok(())
    }
}

#[async_trait]
impl Grants for GrantService {
    async fn policies(&self, principal: Option<&Principal>) -> Result<Vec<Policy>, DomainError> {
        authorize(principal, Action::ReadGrants)?;
        self.marked_policies().await
    }

    async fn create_policy(
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
            "grant_policy.create",
            policy_target(id),
            json!({ "policy": draft }),
        );
        self.store
            .write(&[statement], |_| vec![event])
            .await
            .map_err(|e| write_error(e, ""))?;
        self.saved_policy(id).await
    }

    async fn update_policy(
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
            "grant_policy.update",
            policy_target(id),
            json!({ "before": before.draft, "after": draft }),
        );
        self.store
            .write(&[statement], |_| vec![event])
            .await
            .map_err(|e| write_error(e, ""))?;
        self.saved_policy(id).await
    }

    async fn delete_policy(
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
        let statement = Statement::new(
            "UPDATE grant_policies SET active = FALSE, updated_at = $2 WHERE id = $1 AND active = TRUE",
        )
        .bind(id)
        .bind(Utc::now())
        .must_touch(1, "this policy is already deleted");
        let event = NewAuditEvent::new(
            principal.audit_actor(),
            "grant_policy.delete",
            policy_target(id),
            json!({ "name": policy.draft.name }),
        );
        self.store
            .write(&[statement], |_| vec![event])
            .await
            .map_err(|e| write_error(e, ""))?;
        Ok(())
    }

    async fn eligible(
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

    async fn request(
        &self,
        principal: Option<&Principal>,
        request: &GrantRequest,
    ) -> Result<Grant, DomainError> {
        authorize(principal, Action::RequestGrant)?;
        let principal = principal.ok_or(DomainError::Unauthenticated)?;
        let (identity, extra) = self.identity(request.identity_id).await?;
        if identity.status != IdentityStatus::Active {
            return Err(DomainError::Conflict {
                message: format!(
                    "{} is {}; only an active identity gets grants",
                    identity.name, identity.status
                ),
            });
        }
        let entitlement = self
            .store
            .entitlements_of(identity.id)
            .await?
            .into_iter()
            .find(|e| e.id == request.entitlement_id && e.removed_at.is_none())
            .ok_or_else(|| {
                DomainError::not_found(format!(
                    "entitlement {} of identity {}",
                    request.entitlement_id, identity.id
                ))
            })?;
        if entitlement.grant_type != GrantType::JustInTime {
            return Err(DomainError::invalid(
                "entitlement_id",
                format!(
                    "{} is standing, not just-in-time: there is nothing to grant",
                    entitlement.permission()
                ),
            ));
        }
        // Microseconds, as both databases store them: the grant returned is the one stored.
        let now = Utc::now().trunc_subsecs(6);
        let policies = self.store.list_policies().await?;
        let policy = precedence::governing(
            &policies,
            &identity,
            &entitlement.resource,
            &entitlement.action,
            now,
        )
        .ok_or_else(|| DomainError::Forbidden {
            reason: format!(
                "no policy makes {} of {} requestable",
                entitlement.permission(),
                identity.name
            ),
        })?;
        may_request(
            policy.draft.requesters,
            &self
                .actor(
                    principal,
                    &identity,
                    &extra,
                    policy.draft.requesters == Requesters::Team,
                )
                .await?,
        )?;
        let minutes = check_request(&policy.draft, request, now)?;
        let automatic = approvals_needed(policy.draft.approval) == 0;
        let id = Uuid::now_v7();
        let reason = request
            .reason
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty());
        let (state, starts, expires) = if automatic {
            (
                GrantState::Active,
                Some(now),
                Some(now + Duration::minutes(i64::from(minutes))),
            )
        } else {
            (GrantState::Pending, None, None)
        };
        let grant = Grant {
            id,
            identity_id: identity.id,
            identity_name: identity.name.clone(),
            entitlement_id: entitlement.id,
            resource: entitlement.resource.clone(),
            action: entitlement.action.clone(),
            privilege: entitlement.privilege,
            policy_id: policy.id,
            approval_mode: policy.draft.approval,
            minutes,
            reason: reason.map(str::to_owned),
            requested_by: principal.audit_actor(),
            requester_person_id: Some(principal.person_id),
            requested_at: now,
            state,
            approvals: Vec::new(),
            ended_by: None,
            end_reason: None,
            starts_at: starts,
            expires_at: expires,
            ended_at: None,
        };
        let insert = Statement::new(
            "INSERT INTO grants (id, identity_id, entitlement_id, policy_id, resource, action, privilege, \
             approval_mode, minutes, reason, requested_by, requester_person_id, requested_at, state, \
             starts_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
        )
        .bind(id)
        .bind(identity.id)
        .bind(entitlement.id)
        .bind(policy.id)
        .bind(grant.resource.clone())
        .bind(grant.action.clone())
        .bind(grant.privilege.as_str())
        .bind(grant.approval_mode.as_str())
        .bind(i64::from(minutes))
        .bind(grant.reason.clone())
        .bind(grant.requested_by.clone())
        .bind(principal.person_id)
        .bind(now)
        .bind(state.as_str())
        .bind(starts)
        .bind(expires);
        let event = NewAuditEvent::new(
            principal.audit_actor(),
            if automatic {
                "grant.activate"
            } else {
                "grant.request"
            },
            grant_target(id),
            json!({ "identity_id": identity.id, "identity": identity.name, "scope": grant.scope(),
                    "minutes": minutes, "reason": grant.reason, "policy": policy.draft.name,
                    "approval": policy.draft.approval, "expires_at": expires }),
        );
        let notices =
            if automatic {
                let message =
                    format!(
                "Your grant of {} to {} is active until {} (approved automatically by '{}').",
                grant.scope(), identity.name,
                expires.map(|e| e.format("%Y-%m-%d %H:%M UTC").to_string()).unwrap_or_default(),
                policy.draft.name
            );
                self.tell(
                    &[principal.person_id],
                    &grant,
                    "grant.active",
                    &message,
                    now,
                )
            } else {
                let message = format!(
                    "{} asks for {} on {} for {minutes} minutes{}: approve or deny.",
                    principal.display_name,
                    grant.scope(),
                    identity.name,
                    reason.map(|r| format!(" ({r})")).unwrap_or_default()
                );
                let people = self.approvers(&grant, &identity, &extra).await?;
                self.tell(&people, &grant, "grant.requested", &message, now)
            };
        self.change(insert, event, notices).await?;
        Ok(grant)
    }

    async fn approve(&self, principal: Option<&Principal>, id: Uuid) -> Result<Grant, DomainError> {
        authorize(principal, Action::RequestGrant)?;
        let principal = principal.ok_or(DomainError::Unauthenticated)?;
        let grant = self.grant(id).await?;
        let (identity, extra) = self.identity(grant.identity_id).await?;
        let actor = self.actor(principal, &identity, &extra, false).await?;
        let capacity = approval_capacity(&grant, &actor)?;
        let now = Utc::now();
        let mut approvals = grant.approvals.clone();
        approvals.push(Approval {
            by: principal.audit_actor(),
            person_id: principal.person_id,
            capacity: capacity.to_owned(),
            at: now,
        });
        let complete = approvals.len() >= approvals_needed(grant.approval_mode);
        // The clock starts at the approval that completes it.
        let expires = now + Duration::minutes(i64::from(grant.minutes));
        let statement = Statement::new(
            "UPDATE grants SET approvals = $3, state = $4, starts_at = $5, expires_at = $6 \
             WHERE id = $1 AND state = 'pending' AND approvals = $2",
        )
        .bind(id)
        .bind(approvals_json(&grant.approvals)?)
        .bind(approvals_json(&approvals)?)
        .bind(if complete { "active" } else { "pending" })
        .bind(complete.then_some(now))
        .bind(complete.then_some(expires))
        .must_touch(
            1,
            "someone else decided this grant a moment ago; reload to see it",
        );
        let event = NewAuditEvent::new(
            principal.audit_actor(),
            if complete {
                "grant.activate"
            } else {
                "grant.approve"
            },
            grant_target(id),
            json!({ "capacity": capacity, "approvals": approvals.len(),
                    "needed": approvals_needed(grant.approval_mode),
                    "expires_at": complete.then_some(expires) }),
        );
        let notices = if complete {
            let message = format!(
                "Your grant of {} to {} was approved by {}: active until {}.",
                grant.scope(),
                grant.identity_name,
                principal.display_name,
                expires.format("%Y-%m-%d %H:%M UTC")
            );
            let told = Grant {
                state: GrantState::Active,
                expires_at: Some(expires),
                ..grant.clone()
            };
            self.tell(
                &grant.requester_person_id.into_iter().collect::<Vec<_>>(),
                &told,
                "grant.active",
                &message,
                now,
            )
        } else {
            Vec::new()
        };
        self.change(statement, event, notices).await?;
        self.grant(id).await
    }

    async fn deny(
        &self,
        principal: Option<&Principal>,
        id: Uuid,
        request: &EndRequest,
    ) -> Result<Grant, DomainError> {
        authorize(principal, Action::RequestGrant)?;
        let principal = principal.ok_or(DomainError::Unauthenticated)?;
        let reason = steward_domain::identity::required_text("reason", &request.reason)?;
        let grant = self.grant(id).await?;
        let (identity, extra) = self.identity(grant.identity_id).await?;
        // Whoever could approve it may deny it.
        approval_capacity(
            &grant,
            &self.actor(principal, &identity, &extra, false).await?,
        )?;
        let now = Utc::now();
        let statement = Statement::new(
            "UPDATE grants SET state = 'denied', ended_by = $2, end_reason = $3, ended_at = $4 \
             WHERE id = $1 AND state = 'pending'",
        )
        .bind(id)
        .bind(principal.audit_actor())
        .bind(reason.clone())
        .bind(now)
        .must_touch(
            1,
            "someone else decided this grant a moment ago; reload to see it",
        );
        let event = NewAuditEvent::new(
            principal.audit_actor(),
            "grant.deny",
            grant_target(id),
            json!({ "reason": reason }),
        );
        let message = format!(
            "Your request for {} on {} was denied by {}: {reason}",
            grant.scope(),
            grant.identity_name,
            principal.display_name
        );
        let told = Grant {
            state: GrantState::Denied,
            ..grant.clone()
        };
        let notices = self.tell(
            &grant.requester_person_id.into_iter().collect::<Vec<_>>(),
            &told,
            "grant.denied",
            &message,
            now,
        );
        self.change(statement, event, notices).await?;
        self.grant(id).await
    }

    async fn cancel(&self, principal: Option<&Principal>, id: Uuid) -> Result<Grant, DomainError> {
        authorize(principal, Action::RequestGrant)?;
        let principal = principal.ok_or(DomainError::Unauthenticated)?;
        let grant = self.grant(id).await?;
        if grant.requester_person_id != Some(principal.person_id) {
            return Err(DomainError::Forbidden {
                reason: "only the requester withdraws a request".into(),
            });
        }
        let statement = Statement::new(
            "UPDATE grants SET state = 'cancelled', ended_by = $2, ended_at = $3 WHERE id = $1 AND state = 'pending'",
        )
        .bind(id)
        .bind(principal.audit_actor())
        .bind(Utc::now())
        .must_touch(1, "only a pending request can be withdrawn");
        let event = NewAuditEvent::new(
            principal.audit_actor(),
            "grant.cancel",
            grant_target(id),
            json!({}),
        );
        self.change(statement, event, Vec::new()).await?;
        self.grant(id).await
    }

    async fn extend(
        &self,
        principal: Option<&Principal>,
        id: Uuid,
        request: &ExtendRequest,
    ) -> Result<Grant, DomainError> {
        authorize(principal, Action::RequestGrant)?;
        let principal = principal.ok_or(DomainError::Unauthenticated)?;
        let (grant, _, actor) = self.managed(principal, id, "extends a grant").await?;
        may_extend(&grant, &actor)?;
        let (policy, _) = self
            .store
            .find_policy(grant.policy_id)
            .await?
            .ok_or(DomainError::Internal)?;
        let now = Utc::now();
        let expires = extended_expiry(&grant, request.minutes, policy.draft.max_minutes, now)?;
        let statement = Statement::new(
            "UPDATE grants SET expires_at = $3 WHERE id = $1 AND state = 'active' AND expires_at = $2",
        )
        .bind(id)
        .bind(grant.expires_at)
        .bind(expires)
        .must_touch(1, "the grant changed meanwhile (expired, revoked or extended); reload to see it");
        let event = NewAuditEvent::new(
            principal.audit_actor(),
            "grant.extend",
            grant_target(id),
            json!({ "minutes": request.minutes, "before": grant.expires_at, "after": expires }),
        );
        self.change(statement, event, Vec::new()).await?;
        self.grant(id).await
    }

    async fn revoke(
        &self,
        principal: Option<&Principal>,
        id: Uuid,
        request: &EndRequest,
    ) -> Result<Grant, DomainError> {
        authorize(principal, Action::RequestGrant)?;
        let principal = principal.ok_or(DomainError::Unauthenticated)?;
        let reason = steward_domain::identity::required_text("reason", &request.reason)?;
        let (grant, _, _) = self.managed(principal, id, "revokes a grant").await?;
        let now = Utc::now();
        let statement = Statement::new(
            "UPDATE grants SET state = 'revoked', ended_by = $2, end_reason = $3, ended_at = $4 \
             WHERE id = $1 AND state = 'active'",
        )
        .bind(id)
        .bind(principal.audit_actor())
        .bind(reason.clone())
        .bind(now)
        .must_touch(1, "only an active grant can be revoked");
        let event = NewAuditEvent::new(
            principal.audit_actor(),
            "grant.revoke",
            grant_target(id),
            json!({ "reason": reason }),
        );
        let message = format!(
            "Your grant of {} to {} was revoked by {}: {reason}",
            grant.scope(),
            grant.identity_name,
            principal.display_name
        );
        let told = Grant {
            state: GrantState::Revoked,
            ..grant.clone()
        };
        let people: Vec<Uuid> = grant
            .requester_person_id
            .into_iter()
            .filter(|p| *p != principal.person_id)
            .collect();
        let notices = self.tell(&people, &told, "grant.revoked", &message, now);
        self.change(statement, event, notices).await?;
        self.grant(id).await
    }

    async fn view(
        &self,
        principal: Option<&Principal>,
        id: Uuid,
    ) -> Result<GrantView, DomainError> {
        authorize(principal, Action::ReadGrants)?;
        let grant = self.grant(id).await?;
        let timeline = self
            .store
            .list_audit(&crate::store::audit::AuditFilter {
                target: Some(grant_target(id)),
                limit: 100,
                ..Default::default()
            })
            .await?;
        Ok(GrantView { grant, timeline })
    }

    async fn list(
        &self,
        principal: Option<&Principal>,
        list: GrantList,
    ) -> Result<Vec<Grant>, DomainError> {
        authorize(principal, Action::ReadGrants)?;
        let principal = principal.ok_or(DomainError::Unauthenticated)?;
        let now = Utc::now();
        Ok(match list {
            GrantList::Active {
                identity,
                owner,
                expiring_minutes,
            } => {
                let owner = match owner {
                    Some(email) => Some(
                        self.store
                            .find_person_by_email(&email.trim().to_lowercase())
                            .await?
                            .ok_or_else(|| {
                                DomainError::invalid(
                                    "owner",
                                    format!("nobody with the email {email}"),
                                )
                            })?
                            .id,
                    ),
                    None => None,
                };
                self.store
                    .list_grants(&GrantFilter {
                        identity,
                        state: Some(GrantState::Active),
                        owner,
                        expiring_before: expiring_minutes
                            .map(|m| now + Duration::minutes(i64::from(m))),
                        limit: 500,
                        ..GrantFilter::default()
                    })
                    .await?
            }
            GrantList::Mine => {
                self.store
                    .list_grants(&GrantFilter {
                        requester: Some(principal.person_id),
                        limit: 500,
                        ..GrantFilter::default()
                    })
                    .await?
            }
            GrantList::ToApprove => {
                self.store
                    .grants_to_approve(principal.person_id, principal.role == Role::Admin)
                    .await?
            }
        })
    }

    async fn credential(
        &self,
        principal: Option<&Principal>,
        id: Uuid,
    ) -> Result<IssuedCredential, DomainError> {
        authorize(principal, Action::RequestGrant)?;
        let principal = principal.ok_or(DomainError::Unauthenticated)?;
        let (grant, identity, _) = self
            .managed(principal, id, "takes a grant's credential")
            .await?;
        self.issue(
            &grant,
            &identity,
            &principal.audit_actor(),
            "grant.credential",
        )
        .await
    }

    async fn introspect(
        &self,
        principal: Option<&Principal>,
        token: &str,
    ) -> Result<Introspection, DomainError> {
        authorize(principal, Action::ReadGrants)?;
        Ok(
            match self
                .active_credential(token.trim())
                .await?
                .map(|(claims, _)| claims)
            {
                None => Introspection::default(),
                Some(claims) => Introspection {
                    active: true,
                    scope: Some(claims.scope),
                    sub: Some(claims.sub),
                    aud: Some(claims.aud),
                    iss: Some(claims.iss),
                    exp: Some(claims.exp),
                    iat: Some(claims.iat),
                    grant_id: claims.grant.parse().ok(),
                    jti: Some(claims.jti),
                    token_type: Some("Bearer".into()),
                },
            },
        )
    }

    async fn revoke_credential(
        &self,
        principal: Option<&Principal>,
        token: &str,
    ) -> Result<(), DomainError> {
        authorize(principal, Action::RequestGrant)?;
        let principal = principal.ok_or(DomainError::Unauthenticated)?;
        // RFC 7009: an invalid or unknown token is not an error; there is nothing to revoke.
        let Some(claims) = self.keys.verify(token.trim(), &self.issuer, Utc::now()) else {
            return Ok(());
        };
        let (Ok(jti), Ok(grant_id)) = (claims.jti.parse::<Uuid>(), claims.grant.parse::<Uuid>())
        else {
            return Ok(());
        };
        let statement = Statement::new(
            "UPDATE grant_credentials SET revoked_at = $2 WHERE jti = $1 AND revoked_at IS NULL",
        )
        .bind(jti)
        .bind(Utc::now());
        let actor = principal.audit_actor();
        self.store
            .write(&[statement], |counts| {
                if counts[0] == 0 {
                    Vec::new()
                } else {
                    vec![NewAuditEvent::new(
                        actor,
                        "grant.credential_revoke",
                        grant_target(grant_id),
                        json!({ "jti": jti }),
                    )]
                }
            })
            .await
            .map_err(|e| write_error(e, ""))?;
        Ok(())
    }

    fn jwks(&self) -> serde_json::Value {
        self.keys.jwks(Utc::now())
    }
}
