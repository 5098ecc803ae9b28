//! A grant's life from request to end: requesting, approving (the clock starts at the
//! approval that completes it), denying, withdrawing, extending and revoking, each
//! audited and told to the people concerned; and reading grants.

use chrono::{DateTime, Duration, SubsecRound, Utc};
use serde_json::json;
use steward_domain::audit::{AuditAction, NewAuditEvent};
use steward_domain::auth::{authorize, Action, Principal, Role};
use steward_domain::grants::{
    approval_capacity, approvals_needed, check_request, extended_expiry, may_extend, may_request,
    precedence, Approval, EndRequest, ExtendRequest, Grant, GrantList, GrantRequest, GrantState,
    GrantView, Requesters,
};
use steward_domain::identity::GrantType;
use steward_domain::inventory::{IdentityStatus, IdentitySummary};
use steward_domain::DomainError;
use uuid::Uuid;

use crate::services::notify::Announcement;
use crate::services::write_error;
use crate::store::grants::writes::{
    cancel_grant, deny_grant, extend_grant, insert_grant, record_approval, revoke_grant,
};
use crate::store::grants::GrantFilter;
use crate::store::notify::writes::notification;
use crate::store::ownership::IdentityExtra;
use crate::store::write::Statement;

use super::{grant_target, GrantService};

impl GrantService {
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

    pub(super) async fn request(
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
        let insert = insert_grant(&grant);
        let event = NewAuditEvent::new(
            principal.audit_actor(),
            if automatic {
                AuditAction::GrantActivate
            } else {
                AuditAction::GrantRequest
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

    pub(super) async fn approve(
        &self,
        principal: Option<&Principal>,
        id: Uuid,
    ) -> Result<Grant, DomainError> {
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
        let statement = record_approval(id, &grant.approvals, &approvals, complete, now, expires)?;
        let event = NewAuditEvent::new(
            principal.audit_actor(),
            if complete {
                AuditAction::GrantActivate
            } else {
                AuditAction::GrantApprove
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

    pub(super) async fn deny(
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
        let statement = deny_grant(id, &principal.audit_actor(), &reason, now);
        let event = NewAuditEvent::new(
            principal.audit_actor(),
            AuditAction::GrantDeny,
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

    pub(super) async fn cancel(
        &self,
        principal: Option<&Principal>,
        id: Uuid,
    ) -> Result<Grant, DomainError> {
        authorize(principal, Action::RequestGrant)?;
        let principal = principal.ok_or(DomainError::Unauthenticated)?;
        let grant = self.grant(id).await?;
        if grant.requester_person_id != Some(principal.person_id) {
            return Err(DomainError::Forbidden {
                reason: "only the requester withdraws a request".into(),
            });
        }
        let statement = cancel_grant(id, &principal.audit_actor(), Utc::now());
        let event = NewAuditEvent::new(
            principal.audit_actor(),
            AuditAction::GrantCancel,
            grant_target(id),
            json!({}),
        );
        self.change(statement, event, Vec::new()).await?;
        self.grant(id).await
    }

    pub(super) async fn extend(
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
        let statement = extend_grant(id, grant.expires_at, expires);
        let event = NewAuditEvent::new(
            principal.audit_actor(),
            AuditAction::GrantExtend,
            grant_target(id),
            json!({ "minutes": request.minutes, "before": grant.expires_at, "after": expires }),
        );
        self.change(statement, event, Vec::new()).await?;
        self.grant(id).await
    }

    pub(super) async fn revoke(
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
        let statement = revoke_grant(id, &principal.audit_actor(), &reason, now);
        let event = NewAuditEvent::new(
            principal.audit_actor(),
            AuditAction::GrantRevoke,
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

    pub(super) async fn view(
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

    pub(super) async fn list(
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
}
