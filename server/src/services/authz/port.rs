//! The authz port: limits and modes, admin policies, the test bench, the decision API
//! and the registered data sensitivities.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::json;
use steward_domain::audit::{AuditAction, NewAuditEvent};
use steward_domain::auth::{authorize, Action, Credential, Principal};
use steward_domain::authz::cedar::Evaluation;
use steward_domain::authz::{
    AgentCaller, AgentLimits, AuthorizeRequest, AuthorizeResponse, AuthzPolicy, AuthzPolicyDraft,
    CompiledPolicy, Decision, DecisionRecord, MonitorReport, BUILT_IN_POLICIES,
};
use steward_domain::federation::{EnforcementMode, ModeChange};
use steward_domain::ports::Authz;
use steward_domain::sensitivity::{
    self, RegisteredSensitivity, SensitivityDraft, SensitivityImport, SensitivityScope,
};
use steward_domain::DomainError;
use uuid::Uuid;

use super::{AuthzService, Decided};
use crate::services::write_error;
use crate::store::authz::writes;
use crate::store::write::WriteError;

#[async_trait]
impl Authz for AuthzService {
    async fn limits(
        &self,
        principal: Option<&Principal>,
        identity_id: Uuid,
    ) -> Result<AgentLimits, DomainError> {
        authorize(principal, Action::ReadInventory)?;
        self.store
            .find_identity(identity_id)
            .await?
            .ok_or_else(|| DomainError::not_found(format!("identity {identity_id}")))?;
        Ok(self
            .store
            .agent_limits(identity_id)
            .await?
            .unwrap_or_default())
    }

    async fn set_limits(
        &self,
        principal: Option<&Principal>,
        identity_id: Uuid,
        limits: &AgentLimits,
    ) -> Result<AgentLimits, DomainError> {
        authorize(principal, Action::ManageIdentities)?;
        let principal = principal.ok_or(DomainError::Unauthenticated)?;
        let limits = limits.validated()?;
        let (identity, _) = self
            .store
            .find_identity(identity_id)
            .await?
            .ok_or_else(|| DomainError::not_found(format!("identity {identity_id}")))?;
        let before = self.store.agent_limits(identity_id).await?;
        let now = Utc::now();
        let statement =
            writes::upsert_agent_limits(identity_id, &limits, &principal.audit_actor(), now);
        let event = NewAuditEvent::new(
            principal.audit_actor(),
            AuditAction::AuthzLimits,
            format!("identity:{identity_id}"),
            json!({ "identity": identity.name, "before": before, "after": limits }),
        );
        self.store
            .write(&[statement], |_| vec![event])
            .await
            .map_err(|e| write_error(e, ""))?;
        Ok(limits)
    }

    async fn compiled(
        &self,
        principal: Option<&Principal>,
        identity_id: Uuid,
    ) -> Result<Vec<CompiledPolicy>, DomainError> {
        authorize(principal, Action::ReadInventory)?;
        self.feed.catch_up().await?;
        let state = self.state(identity_id).await?;
        let mut out: Vec<CompiledPolicy> = BUILT_IN_POLICIES
            .iter()
            .map(|(id, text)| CompiledPolicy {
                id: (*id).to_owned(),
                text: (*text).to_owned(),
            })
            .collect();
        out.extend(state.compiled.iter().cloned());
        for policy in self.store.authz_policies_for(identity_id).await? {
            out.push(CompiledPolicy {
                id: policy.cedar_id(),
                text: policy.draft.body,
            });
        }
        Ok(out)
    }

    async fn policies(
        &self,
        principal: Option<&Principal>,
    ) -> Result<Vec<AuthzPolicy>, DomainError> {
        authorize(principal, Action::ReadInventory)?;
        Ok(self.store.list_authz_policies().await?)
    }

    async fn save_policy(
        &self,
        principal: Option<&Principal>,
        id: Option<Uuid>,
        draft: &AuthzPolicyDraft,
    ) -> Result<AuthzPolicy, DomainError> {
        authorize(principal, Action::ManageIdentities)?;
        let principal = principal.ok_or(DomainError::Unauthenticated)?;
        let draft = draft.validated()?;
        let named = self.named_principal(&draft.name, &draft.body)?;
        let now = Utc::now();
        let before = match id {
            Some(id) => Some(
                self.store
                    .find_authz_policy(id)
                    .await?
                    .ok_or_else(|| DomainError::not_found(format!("policy {id}")))?,
            ),
            None => None,
        };
        let id = id.unwrap_or_else(Uuid::now_v7);
        let actor = principal.audit_actor();
        let statement = match &before {
            None => writes::insert_authz_policy(id, &draft, named, &actor, now),
            Some(_) => writes::update_authz_policy(id, &draft, named, &actor, now),
        };
        let event = NewAuditEvent::new(
            principal.audit_actor(),
            if before.is_some() {
                AuditAction::AuthzPolicyUpdate
            } else {
                AuditAction::AuthzPolicyCreate
            },
            format!("authz-policy:{id}"),
            json!({ "before": before.as_ref().map(|b| &b.draft), "after": draft }),
        );
        self.store
            .write(&[statement], |_| vec![event])
            .await
            .map_err(|e| write_error(e, "a policy with this name already exists"))?;
        self.store
            .find_authz_policy(id)
            .await?
            .ok_or(DomainError::Internal)
    }

    async fn delete_policy(
        &self,
        principal: Option<&Principal>,
        id: Uuid,
    ) -> Result<(), DomainError> {
        authorize(principal, Action::ManageIdentities)?;
        let principal = principal.ok_or(DomainError::Unauthenticated)?;
        let before = self
            .store
            .find_authz_policy(id)
            .await?
            .ok_or_else(|| DomainError::not_found(format!("policy {id}")))?;
        let statement = writes::delete_authz_policy(id);
        let event = NewAuditEvent::new(
            principal.audit_actor(),
            AuditAction::AuthzPolicyDelete,
            format!("authz-policy:{id}"),
            json!({ "before": before.draft }),
        );
        self.store
            .write(&[statement], |_| vec![event])
            .await
            .map_err(|e| write_error(e, ""))?;
        Ok(())
    }

    async fn test_bench(
        &self,
        principal: Option<&Principal>,
        request: &AuthorizeRequest,
    ) -> Result<AuthorizeResponse, DomainError> {
        authorize(principal, Action::ReadInventory)?;
        self.feed.catch_up().await?;
        // As a real request would be decided: with the registered data sensitivity.
        let mut request = request.clone();
        self.apply_registered_sensitivity(&mut request).await?;
        let Decided { evaluation, .. } = self.decide(&request, (0, 1), Utc::now()).await?;
        Ok(AuthorizeResponse {
            decision: evaluation.decision,
            reasons: evaluation.reasons,
            diagnostics: evaluation.diagnostics,
            would_deny: None,
        })
    }

    async fn authorize(
        &self,
        caller: AgentCaller<'_>,
        request: &AuthorizeRequest,
    ) -> Result<AuthorizeResponse, DomainError> {
        // The environment the credential is bound to, if it is.
        let mut bound: Option<String> = None;
        let (credential, static_token) = match caller {
            AgentCaller::Token(principal) => {
                authorize(principal, Action::DecideAuthz)?;
                let principal = principal.ok_or(DomainError::Unauthenticated)?;
                let Credential::Token { token_id, .. } = &principal.credential else {
                    return Err(DomainError::Forbidden {
                        reason: "decisions are asked with the agent's own API token, \
                                 just-in-time credential or federated workload token"
                            .into(),
                    });
                };
                let (agent, environment) = self.token_agent(*token_id).await?;
                bound = environment;
                if agent != Some(request.principal) {
                    return Err(DomainError::Forbidden {
                        reason: format!(
                            "this token does not act for identity {}; ask with a token made for it",
                            request.principal
                        ),
                    });
                }
                // Authenticating the token caught up with the change feed already,
                // after this request arrived.
                (format!("token:{token_id}"), true)
            }
            AgentCaller::Jwt(jwt) if self.grants.issued_here(jwt) => {
                let (claims, grant) = self.grants.active_credential(jwt).await?.ok_or(
                    DomainError::CredentialRefused {
                        reason: "the credential is not an active just-in-time credential \
                                 (bad signature, issuer or audience, expired, revoked, or its \
                                 grant ended)"
                            .into(),
                    },
                )?;
                if grant.identity_id != request.principal {
                    return Err(DomainError::Forbidden {
                        reason: format!(
                            "this credential is for identity {}, not {}",
                            grant.identity_id, request.principal
                        ),
                    });
                }
                self.feed.catch_up().await?;
                (format!("grant:{} jti:{}", grant.id, claims.jti), false)
            }
            AgentCaller::Jwt(jwt) => {
                // Verifying caught up with the change feed (the configurations are
                // cached by it).
                let (matched, _) = self.federation.verify(jwt).await?;
                if matched.identity_id != request.principal {
                    return Err(DomainError::Forbidden {
                        reason: format!(
                            "this token proves identity {} (trust configuration {}), not {}",
                            matched.identity_id, matched.trust_config, request.principal
                        ),
                    });
                }
                bound = matched.environment.clone();
                (matched.credential(), false)
            }
        };
        // A session id too long is refused once the principal is known to exist.
        let session_id = request.session_id();
        let mut request = request.clone();
        request.context.session_id = session_id.as_ref().ok().cloned().flatten();
        let now = Utc::now();
        let principal_state = self.state(request.principal).await?;
        let session = match session_id?.as_deref() {
            Some(session) => {
                let (started, call) = self
                    .session_call(
                        request.principal,
                        session,
                        principal_state.limits.max_calls,
                        now,
                    )
                    .await?;
                ((now - started).num_seconds().max(0), call)
            }
            None => (0, 1),
        };
        // A static token where a trust configuration asks for a federated one: refused
        // when it enforces, noted when it monitors.
        let mut would_deny = None;
        if static_token {
            if let Some((name, _)) = principal_state
                .trust
                .iter()
                .find(|(_, mode)| *mode == EnforcementMode::Enforce)
            {
                return Err(DomainError::Forbidden {
                    reason: format!(
                        "identity {} must prove itself with a federated token: trust \
                         configuration {name} is enforced, and static API tokens are refused",
                        request.principal
                    ),
                });
            }
            would_deny = principal_state
                .trust
                .first()
                .map(|(name, _)| format!("static_secret:{name}"));
        }
        // What Steward knows wins over what the request says; a request that lies
        // about its environment, or hides its session, is denied (and logged, with the
        // drift the decision would have shown).
        let denial = self
            .with_known_facts(&mut request, bound.as_deref(), &principal_state)
            .await?;
        let decided = self.decide(&request, session, now).await?;
        // Monitor mode relaxes the agent's policies, never these checks.
        let checked = denial.is_none();
        let Decided {
            mut evaluation,
            drift,
        } = match denial {
            None => decided,
            Some((reason, why)) => Decided {
                evaluation: Evaluation {
                    decision: Decision::Deny,
                    reasons: vec![reason.into()],
                    diagnostics: vec![why],
                },
                drift: decided.drift,
            },
        };
        if evaluation.decision == Decision::Deny
            && principal_state.mode == EnforcementMode::Monitor
            && checked
        {
            evaluation.decision = Decision::Allow;
            evaluation
                .diagnostics
                .insert(0, "monitor mode: enforcing would have denied this".into());
            would_deny = Some("policy".into());
        }
        self.log(DecisionRecord {
            id: Uuid::now_v7(),
            at: now,
            identity_id: request.principal,
            action: request.action.clone(),
            resource: format!(
                "{}::{}",
                request.resource.resource_type, request.resource.id
            ),
            decision: evaluation.decision,
            reasons: evaluation.reasons.clone(),
            diagnostics: evaluation.diagnostics.clone(),
            session_id: request.context.session_id.clone(),
            task: request.context.task.clone(),
            environment: request.context.environment.clone(),
            delegation_chain: request.context.delegation_chain.clone(),
            credential,
            drift,
            would_deny: would_deny.clone(),
        });
        Ok(AuthorizeResponse {
            decision: evaluation.decision,
            reasons: evaluation.reasons,
            diagnostics: evaluation.diagnostics,
            would_deny,
        })
    }

    async fn decisions(
        &self,
        principal: Option<&Principal>,
        identity_id: Uuid,
        before: Option<DateTime<Utc>>,
    ) -> Result<Vec<DecisionRecord>, DomainError> {
        authorize(principal, Action::ReadInventory)?;
        self.store
            .find_identity(identity_id)
            .await?
            .ok_or_else(|| DomainError::not_found(format!("identity {identity_id}")))?;
        Ok(self.store.decisions_of(identity_id, before, 100).await?)
    }

    async fn set_mode(
        &self,
        principal: Option<&Principal>,
        identity_id: Uuid,
        change: &ModeChange,
    ) -> Result<MonitorReport, DomainError> {
        authorize(principal, Action::ManageIdentities)?;
        let who = principal.ok_or(DomainError::Unauthenticated)?;
        let reason = change.reason()?;
        self.store
            .find_identity(identity_id)
            .await?
            .ok_or_else(|| DomainError::not_found(format!("identity {identity_id}")))?;
        let (_, before) = self.store.agent_limits_and_mode(identity_id).await?;
        if before != change.mode {
            let statement =
                writes::set_agent_mode(identity_id, change.mode, &who.audit_actor(), Utc::now());
            let event = NewAuditEvent::new(
                who.audit_actor(),
                AuditAction::AuthzModeChange,
                format!("identity:{identity_id}"),
                json!({ "from": before, "to": change.mode, "reason": reason }),
            );
            self.store
                .write(&[statement], |_| vec![event])
                .await
                .map_err(|e| write_error(e, ""))?;
        }
        self.monitored(principal, identity_id, 7).await
    }

    async fn monitored(
        &self,
        principal: Option<&Principal>,
        identity_id: Uuid,
        days: u32,
    ) -> Result<MonitorReport, DomainError> {
        authorize(principal, Action::ReadInventory)?;
        if !(1..=90).contains(&days) {
            return Err(DomainError::invalid("days", "between 1 and 90"));
        }
        self.store
            .find_identity(identity_id)
            .await?
            .ok_or_else(|| DomainError::not_found(format!("identity {identity_id}")))?;
        let (_, mode) = self.store.agent_limits_and_mode(identity_id).await?;
        let since = Utc::now() - chrono::Duration::days(i64::from(days));
        let (decisions, would_deny, recent) =
            self.store.monitored_decisions(identity_id, since).await?;
        Ok(MonitorReport {
            mode,
            days,
            decisions,
            would_deny,
            recent,
        })
    }

    async fn sensitivities(
        &self,
        principal: Option<&Principal>,
    ) -> Result<Vec<RegisteredSensitivity>, DomainError> {
        authorize(principal, Action::ReadInventory)?;
        Ok(self.store.list_sensitivities().await?)
    }

    async fn set_sensitivity(
        &self,
        principal: Option<&Principal>,
        draft: &SensitivityDraft,
    ) -> Result<RegisteredSensitivity, DomainError> {
        authorize(principal, Action::ManageIdentities)?;
        let principal = principal.ok_or(DomainError::Unauthenticated)?;
        let draft = draft.validated()?;
        let before = self
            .store
            .list_sensitivities()
            .await?
            .into_iter()
            .find(|e| e.scope == draft.scope && e.id == draft.id)
            .map(|e| e.sensitivity);
        let event = NewAuditEvent::new(
            principal.audit_actor(),
            AuditAction::AuthzSensitivitySet,
            format!("{}:{}", draft.scope, draft.id),
            json!({ "before": before, "after": draft.sensitivity }),
        );
        let now = Utc::now();
        let statements = writes::upsert_sensitivities(
            std::slice::from_ref(&draft),
            &principal.audit_actor(),
            now,
        );
        self.store
            .write(&statements, |_| vec![event])
            .await
            .map_err(|e| write_error(e, ""))?;
        Ok(RegisteredSensitivity {
            scope: draft.scope,
            id: draft.id,
            sensitivity: draft.sensitivity,
            updated_by: principal.audit_actor(),
            updated_at: Some(now),
        })
    }

    async fn import_sensitivities(
        &self,
        principal: Option<&Principal>,
        csv: &str,
        dry_run: bool,
    ) -> Result<SensitivityImport, DomainError> {
        authorize(principal, Action::ManageIdentities)?;
        let principal = principal.ok_or(DomainError::Unauthenticated)?;
        let drafts = sensitivity::parse_csv(csv)?;
        let current = self.store.list_sensitivities().await?;
        let plan = SensitivityImport::plan(&current, &drafts, dry_run);
        if !dry_run {
            let event = NewAuditEvent::new(
                principal.audit_actor(),
                AuditAction::AuthzSensitivityImport,
                "sensitivities",
                json!({ "entries": drafts.len(), "created": plan.created,
                        "changed": plan.changed, "unchanged": plan.unchanged }),
            );
            // One transaction: every entry or none.
            let statements =
                writes::upsert_sensitivities(&drafts, &principal.audit_actor(), Utc::now());
            self.store
                .write(&statements, |_| vec![event])
                .await
                .map_err(|e| write_error(e, ""))?;
        }
        Ok(plan)
    }

    async fn delete_sensitivity(
        &self,
        principal: Option<&Principal>,
        scope: SensitivityScope,
        id: &str,
    ) -> Result<(), DomainError> {
        authorize(principal, Action::ManageIdentities)?;
        let principal = principal.ok_or(DomainError::Unauthenticated)?;
        let event = NewAuditEvent::new(
            principal.audit_actor(),
            AuditAction::AuthzSensitivityDelete,
            format!("{scope}:{id}"),
            json!({}),
        );
        match self
            .store
            .write(&[writes::delete_sensitivity(scope, id)], |_| vec![event])
            .await
        {
            Ok(_) => {}
            Err(WriteError::Precondition(writes::NO_SUCH_SENSITIVITY)) => {
                return Err(DomainError::not_found(format!(
                    "a registered sensitivity of {scope} {id}"
                )))
            }
            Err(e) => return Err(write_error(e, "")),
        }
        Ok(())
    }
}
